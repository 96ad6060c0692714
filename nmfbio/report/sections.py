"""Sections for the model-level results: one fit (``nmfbio fit`` → ``result.h5``), a consensus
(``nmfbio consensus`` → ``consensus.h5``), a rank selection (``nmfbio rank`` →
``rank_selection.tsv``) and anchors (``nmfbio anchors`` → ``anchors.tsv``), plus the shared
readers (:func:`read_table`, :func:`read_rank_selection`). Each builder takes the path its
detector returned and gives a :class:`~nmfbio.report.model.Section`; it only reads results
and draws them with :mod:`nmfbio.plot`. The domain sections (signatures, programs) are in
:mod:`nmfbio.report.domains`; which builder runs for which files is in
:mod:`nmfbio.report.registry`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio.errors import FormatError
from nmfbio.report.model import Section

__all__ = ["fit_section", "consensus_section", "rank_section", "anchors_section",
           "read_table", "read_rank_selection", "is_rank_table", "top_features"]

_RANK_HEADER = "# best="


# --------------------------------------------------------------------------- readers
def read_table(sec: Section, path: Path, *, columns=(), skiprows: int = 0) -> pd.DataFrame:
    """Read a TSV written by nmfbio (first column = row names) and record it as an input;
    ``skiprows`` lines (a note above the header) are skipped.

    Raises
    ------
    FormatError
        When the file is empty, not a table, or lacks one of ``columns``.
    """
    sec.read(path)
    try:
        frame = pd.read_csv(path, sep="\t", index_col=0, skiprows=skiprows)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FormatError(f"not a tab-separated table as nmfbio writes them ({exc})",
                          path) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FormatError(f"missing column(s) {missing}; found {list(frame.columns)}. Was it "
                          "written by nmfbio?", path, 1)
    return frame


def is_rank_table(path: Path) -> bool:
    """True when ``path`` is a rank-selection table of ``nmfbio rank`` (``# best=`` line)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(_RANK_HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def read_rank_selection(path: Path):
    """Read ``rank_selection.tsv`` (written by :meth:`nmfbio.RankSelection.to_tsv`) back into a
    :class:`~nmfbio.RankSelection` (its per-repeat errors are not in the file: empty).

    Raises
    ------
    FormatError
        When the ``# best=K; rule: ...; params: {...}`` line or a column is missing.
    """
    from nmfbio.model_selection.rank import RankSelection

    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n")
        if not head.startswith(_RANK_HEADER):
            raise FormatError("expected a first line '# best=K; rule: ...; params: {...}' as "
                              "written by nmfbio rank", path, 1)
        best_text, _, rest = head[len(_RANK_HEADER):].partition("; rule: ")
        rule, _, params_text = rest.rpartition("; params: ")
        try:
            best = int(best_text)
            params = json.loads(params_text)
            table = pd.read_csv(f, sep="\t", index_col=0)
        except (ValueError, pd.errors.ParserError) as exc:
            raise FormatError(f"cannot read the rank-selection table ({exc})", path) from None
    need = ["train_error", "test_error", "test_se", "stability"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise FormatError(f"missing column(s) {missing} in the rank-selection table", path, 2)
    empty = np.zeros((len(table), 0))
    return RankSelection(table=table, best=best, rule=rule, test_errors=empty,
                         train_errors=empty, params=params)


def top_features(W: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` heaviest features of each part (columns), weights in brackets.

    Examples
    --------
    >>> W = pd.DataFrame({"C1": [0.6, 0.4], "C2": [0.1, 0.9]}, index=["a", "b"])
    >>> top_features(W, 1).loc[1, "C2"]
    'b (0.900)'
    """
    out = {}
    for col in W.columns:
        s = W[col].sort_values(ascending=False, kind="stable").iloc[:n]
        out[str(col)] = [f"{i} ({v:.3f})" for i, v in s.items()]
    return pd.DataFrame(out, index=pd.RangeIndex(1, min(n, len(W)) + 1, name="rank"))


def _load(loader, path: Path):
    """Run a result class's ``load``, turning unreadable HDF5 into a FormatError."""
    try:
        return loader(path)
    except FormatError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"cannot read this result ({type(exc).__name__}: {exc})",
                          path) from None


# --------------------------------------------------------------------------- builders
def fit_section(path: Path) -> Section:
    """``nmfbio fit``: summary, parameters, objective per iteration, the parts."""
    from nmfbio.plot.factors import plot_history, plot_parts
    from nmfbio.solver import NMFResult

    sec = Section("", "fit", path)
    res = _load(NMFResult.load, sec.read(path))
    sec.title = f"NMF fit at rank {res.rank}"
    sec.summary = f"{res.summary()}; seed {res.seed}"
    sec.params = {"seed": res.seed, **res.params}
    if len(res.restart_objectives) > 1:
        sec.text(f"Best of {len(res.restart_objectives)} restarts; their final objectives "
                 f"range from {np.min(res.restart_objectives):.6g} to "
                 f"{np.max(res.restart_objectives):.6g}.")
    if len(res.history):
        seen = int(np.isfinite(res.history).sum())
        caption = "Objective per iteration of the returned run."
        if seen < len(res.history):
            caption = (f"Objective of the returned run at the {seen} of {len(res.history)} "
                       "iterations where it was evaluated (marked; dense KL fits evaluate it "
                       "only every few iterations while it falls fast).")
        sec.figure(plot_history(res), caption)
    W = res.W_frame()
    sec.figure(plot_parts(W), "The parts (columns of W) on their strongest features.")
    sec.table(top_features(W), "Heaviest features of each part (weight).")
    contribution = res.H.sum(axis=1) / max(float(res.H.sum()), 1e-300)
    sec.table(pd.DataFrame({"contribution": contribution},
                           index=pd.Index(res.component_names, name="component")),
              "Share of the total of H per component (components are ordered by it).")
    return sec


def consensus_section(path: Path) -> Section:
    """``nmfbio consensus``: stability per component, run-by-run cosines, consensus parts."""
    from nmfbio.model_selection.consensus import ConsensusResult
    from nmfbio.plot.factors import plot_parts

    sec = Section("", "consensus", path)
    res = _load(ConsensusResult.load, sec.read(path))
    sec.title = f"Consensus at rank {res.rank}"
    sec.summary = res.summary()
    sec.params = {"threshold": res.threshold, **res.params}
    sec.figure(res.plot_stability(),
               f"Stability (cosine silhouette) of each component over {res.run_W.shape[0]} "
               f"runs; threshold {res.threshold:g}. Numbers: runs reproducing the component "
               "at cosine ≥ 0.9.")
    if res.run_W.size:
        sec.figure(res.plot_run_cosines(), "Cosines between the aligned parts of the runs, "
                   "grouped by component: stable components are bright diagonal blocks.")
    sec.table(res.table(), "Per-component statistics.")
    W = res.W_frame()
    sec.figure(plot_parts(W), "The consensus parts on their strongest features.")
    sec.table(top_features(W), "Heaviest features of each consensus part (weight).")
    return sec


def rank_section(path: Path) -> Section:
    """``nmfbio rank``: error and stability against rank, the table and the rule."""
    sec = Section("Rank selection", "rank", path)
    sel = read_rank_selection(sec.read(path))
    sec.title = f"Rank selection: recommended rank {sel.best}"
    sec.summary = f"recommended rank {sel.best}: {sel.rule}"
    sec.params = dict(sel.params)
    sec.figure(sel.plot(), "Held-out (cross-validation) and training error per entry, and "
               "the lowest component stability, against rank; recommended rank dashed.")
    sec.table(sel.table, "One row per rank.")
    return sec


def anchors_section(folder: Path) -> Section:
    """``nmfbio anchors``: the anchors table and the simplex figure the command drew."""
    sec = Section("Anchors and separability", "anchors", folder)
    table = read_table(sec, folder / "anchors.tsv")
    sec.summary = (f"{len(table)} components; the separability verdict is the one printed "
                   "by nmfbio anchors, the evidence per component is below")
    if (folder / "anchors.png").is_file():
        sec.image(folder / "anchors.png", "Samples in a 2-D projection of the simplex, "
                  "anchors circled and parts starred (drawn by nmfbio anchors).")
    sec.table(table, "Per component: purity, purest sample, matched anchor and its cosine.")
    return sec
