"""Sections for the domain results: mutational signatures (``nmfbio signatures extract``,
single-type or joint, ``match`` and ``assign`` output folders) and gene-expression
programs (``nmfbio programs find``). Each builder reads the folder's tables (recording them
as inputs) and draws them with :mod:`nmfbio.plot`: signature plots (SBS96, DBS78, ID83, …)
annotated with their stability and reference match, cosine heatmaps, exposure bars,
program rank choice, usage heatmaps and top genes. No science: tables are shown as written,
sums are only for display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio.io.mutation_types import detect_mutation_type
from nmfbio.report.model import Section
from nmfbio.report.sections import read_rank_selection, read_table

__all__ = ["extract_section", "joint_section", "match_section", "assign_section",
           "programs_section"]

_STABILITY_COLUMNS = ("stability", "mean_cosine", "reproduced", "runs", "stable")


def _stability_result(stab: pd.DataFrame, sigs: pd.DataFrame, expo: pd.DataFrame):
    """A ConsensusResult carrying what ``stability.tsv`` holds, for ``plot_stability`` (the
    runs' own parts are not in an extraction folder: ``run_W`` has no features)."""
    from nmfbio.model_selection.consensus import DEFAULT_THRESHOLD, ConsensusResult

    k = sigs.shape[1]
    runs = int(stab["runs"].iloc[0]) if len(stab) else 0
    return ConsensusResult(
        W=sigs.to_numpy(dtype=float), H=expo.T.to_numpy(dtype=float),
        stability=stab["stability"].to_numpy(dtype=float),
        mean_cosine=stab["mean_cosine"].to_numpy(dtype=float),
        reproduced=stab["reproduced"].to_numpy(dtype=int),
        stable=stab["stable"].astype(bool).to_numpy(), run_W=np.zeros((runs, 0, k)),
        run_losses=np.zeros(runs), n_unconverged=0, loss=float("nan"),
        threshold=DEFAULT_THRESHOLD)


def _stability_plot(stab: pd.DataFrame, sigs: pd.DataFrame, expo: pd.DataFrame, names):
    """The stability bars of ``stability.tsv``, one tick per signature name."""
    ax = _stability_result(stab, sigs, expo).plot_stability()
    ax.set_xticks(range(len(names)), [str(c) for c in names])
    return ax


def _normalization(sec: Section, folder: Path) -> pd.DataFrame | None:
    """Read ``normalization.tsv`` if the extraction wrote one; say in the section's summary
    and parameters what was done. Returns the table (None without the file)."""
    if not (folder / "normalization.tsv").is_file():
        return None
    path = sec.read(folder / "normalization.tsv")
    note = path.read_text(encoding="utf-8").split("\n", 1)[0].lstrip("# ").strip()
    table = read_table(sec, path, columns=("mutations", "fitted_as", "scaled"), skiprows=1)
    sec.summary += (f" Sample normalisation: {note} (hypermutated samples would otherwise "
                    "pull the fit towards their own signatures); exposures refitted on the "
                    "raw counts.")
    sec.params["sample normalisation"] = note
    return table


def _scaled_table(sec: Section, table: pd.DataFrame | None) -> None:
    """The table of the samples scaled down, if any was."""
    if table is not None and table["scaled"].astype(bool).any():
        sec.table(table[table["scaled"].astype(bool)],
                  "Samples scaled down before fitting: their mutations and the total they "
                  "were fitted with.")


def extract_section(folder: Path) -> Section:
    """``nmfbio signatures extract``: rank choice, stability, the profiles (with
    their reference matches when ``--reference`` was given) and the exposures."""
    from nmfbio.plot.signatures import plot_exposures, plot_signatures

    sec = Section("", "signatures extract", folder)
    sigs = read_table(sec, folder / "signatures.tsv")
    expo = read_table(sec, folder / "exposures.tsv")
    stab = read_table(sec, folder / "stability.tsv", columns=_STABILITY_COLUMNS)
    sel = read_rank_selection(sec.read(folder / "rank_selection.tsv"))
    k = sigs.shape[1]
    mtype, _ = detect_mutation_type(sigs.index)
    sec.title = f"Mutational signatures: {k} de novo {mtype.name} signatures"
    sec.summary = (f"{k} de novo signatures from {expo.shape[0]} samples "
                   f"({expo.to_numpy().sum():.0f} mutations attributed). Rank rule: "
                   f"{sel.rule}.")
    sec.params = {"rank": k, **{f"rank selection {key}": v for key, v in sel.params.items()}}
    norm_table = _normalization(sec, folder)
    sec.figure(sel.plot(), "Rank selection: held-out and training error per entry and the "
               "lowest signature stability against the number of signatures.")
    sec.figure(_stability_plot(stab, sigs, expo, sigs.columns),
               "Stability (cosine silhouette) of each signature across resampled "
               "restarts; numbers: restarts reproducing it at cosine ≥ 0.9.")
    notes = {str(c): f"stability {s:.2f}" for c, s in zip(sigs.columns, stab["stability"],
                                                         strict=True)}
    pairs = None
    if (folder / "matches.tsv").is_file():
        pairs = read_table(sec, folder / "matches.tsv", columns=("reference", "cosine"))
        for name, row in pairs.iterrows():
            if str(name) in notes:
                notes[str(name)] += f"; cosine {row['cosine']:.2f} to {row['reference']}"
    sec.figure(plot_signatures(sigs, annotations=notes),
               f"The de novo signatures over the {len(mtype)} {mtype.name} channels "
               "(fraction of mutations)"
               + ("; corner: stability and best one-to-one reference match." if pairs is not None
                  else "; corner: stability."))
    sec.figure(plot_exposures(expo, order="dominant"),
               "Mutations attributed to each signature per sample (samples grouped by their "
               "dominant signature).")
    sec.table(stab.set_axis(sigs.columns), "Stability of each signature.")
    if pairs is not None:
        sec.table(pairs, "One-to-one (Hungarian) matches to the reference; match: cosine ≥ "
                  "0.9.")
    _scaled_table(sec, norm_table)
    if (folder / "decomposition.tsv").is_file():
        sec.table(read_table(sec, folder / "decomposition.tsv"),
                  "Each de novo signature as a combination of reference signatures; novel: "
                  "reconstruction cosine below 0.9.")
    return sec


def joint_section(folder: Path) -> Section:
    """``nmfbio signatures extract`` of several types at once: rank choice, stability, each
    type's profiles (with the signature's share of mutations in that type), the shares and
    the exposures."""
    from nmfbio.io.mutation_types import mutation_type
    from nmfbio.plot.signatures import plot_exposures, plot_signatures

    sec = Section("", "signatures extract (joint)", folder)
    shares = read_table(sec, folder / "shares.tsv")
    expo = read_table(sec, folder / "exposures.tsv")
    stab = read_table(sec, folder / "stability.tsv", columns=_STABILITY_COLUMNS)
    sel = read_rank_selection(sec.read(folder / "rank_selection.tsv"))
    types = [str(t) for t in shares.columns]
    k = shares.shape[0]
    sec.title = f"Mutational signatures: {k} joint signatures over {', '.join(types)}"
    sec.summary = (f"{k} joint signatures from {expo.shape[0]} samples, fitted to the "
                   f"{', '.join(types)} catalogs at once with shared exposures "
                   f"({expo.to_numpy().sum():.0f} mutations of all types attributed). Rank "
                   f"rule: {sel.rule}.")
    sec.params = {"rank": k, "types": ", ".join(types),
                  **{f"rank selection {key}": v for key, v in sel.params.items()}}
    norm_table = _normalization(sec, folder)
    sec.figure(sel.plot(), "Rank selection: held-out and training error per entry and the "
               "lowest signature stability against the number of signatures.")
    sigs_all = []
    for t in types:
        sigs = read_table(sec, folder / f"signatures.{t}.tsv")
        sigs_all.append(sigs)
        notes = {str(c): f"{shares.loc[c, t]:.0%} of its mutations; stability {s:.2f}"
                 for c, s in zip(sigs.columns, stab["stability"], strict=True)}
        sec.figure(plot_signatures(sigs, annotations=notes),
                   f"The joint signatures' {t} profiles over the {len(mutation_type(t))} "
                   "channels (fraction of the signature's mutations of this type); corner: "
                   "the share of the signature's mutations in this type, and its stability.")
    sec.figure(_stability_plot(stab, pd.concat(sigs_all), expo, shares.index),
               "Stability (cosine silhouette) of each joint signature across resampled "
               "restarts; numbers: restarts reproducing it at cosine ≥ 0.9.")
    sec.figure(plot_exposures(expo, order="dominant"),
               "Mutations of all types attributed to each signature per sample.")
    sec.table(shares, "Each joint signature's mutations by type (rows sum to 1).")
    sec.table(stab.set_axis(shares.index), "Stability of each joint signature.")
    _scaled_table(sec, norm_table)
    return sec


def match_section(folder: Path) -> Section:
    """``nmfbio signatures match``: cosine heatmap, one-to-one matches, decompositions."""
    from nmfbio.plot.signatures import plot_cosine_heatmap

    sec = Section("", "signatures match", folder)
    cos = read_table(sec, folder / "cosine.tsv")
    pairs = read_table(sec, folder / "matches.tsv", columns=("reference", "cosine"))
    dec = read_table(sec, folder / "decomposition.tsv")
    matched = int(pairs["match"].astype(bool).sum()) if "match" in pairs else 0
    sec.title = f"Signatures matched to a reference: {matched} of {len(pairs)} matched"
    sec.summary = (f"{cos.shape[0]} signatures against {cos.shape[1]} reference signatures; "
                   f"{matched} have a one-to-one partner at cosine ≥ 0.9")
    cos.index.name, cos.columns.name = "signature", "reference"
    if cos.shape[1] > 40:  # show the references that matter: the best for some signature
        keep = sorted(set(cos.idxmax(axis=1)) | set(pairs["reference"].dropna()),
                      key=list(cos.columns).index)
        cos_shown = cos[keep]
        note = f" ({len(keep)} of {cos.shape[1]} references: those best for some signature)"
    else:
        cos_shown, note = cos, ""
    sec.figure(plot_cosine_heatmap(cos_shown), "Cosine similarity of each signature (rows) "
               f"with the reference signatures (columns){note}.")
    sec.table(pairs, "One-to-one (Hungarian) matches; match: cosine ≥ 0.9.")
    sec.table(dec, "Decomposition into reference signatures; novel: reconstruction cosine "
              "below 0.9.")
    return sec


def assign_section(folder: Path) -> Section:
    """``nmfbio signatures assign``: exposures of the reference signatures per sample and how
    well each sample is reconstructed."""
    from nmfbio.plot.signatures import plot_exposures

    sec = Section("", "signatures assign", folder)
    expo = read_table(sec, folder / "exposures.tsv")
    cos = read_table(sec, folder / "cosine.tsv", columns=("cosine",))["cosine"]
    used = expo.loc[:, (expo > 0).any(axis=0)]
    sec.title = f"Signature assignment: {used.shape[1]} reference signatures used"
    sec.summary = (f"{used.shape[1]} of {expo.shape[1]} reference signatures assigned to "
                   f"{expo.shape[0]} samples; median reconstruction cosine "
                   f"{float(cos.median()):.3f}")
    bootstrap = (folder / "exposures_lower.tsv").is_file()
    if bootstrap:
        sec.read(folder / "exposures_lower.tsv")
        sec.read(folder / "exposures_upper.tsv")
        sec.text("Bootstrap 95 % intervals of the exposures are in exposures_lower.tsv and "
                 "exposures_upper.tsv.")
    if used.shape[1]:
        sec.figure(plot_exposures(used, order="dominant"),
                   "Mutations assigned to each reference signature per sample.")
    total = used.sum(axis=0)
    sec.table(pd.DataFrame({"samples": (used > 0).sum(axis=0), "mutations": total,
                            "share": total / max(float(total.sum()), 1e-300)},
                           index=pd.Index(used.columns, name="signature"))
              .sort_values("mutations", ascending=False),
              "Per reference signature: samples it is assigned to, mutations, share.")
    sec.table(cos.sort_values(kind="stable").to_frame(), "Samples by reconstruction cosine, "
              "worst first (a low cosine: the reference set does not explain the sample).")
    return sec


def _programs_uns(path: Path) -> dict:
    """``uns["programs"]`` of the result.h5ad (rule, stability, parameters), or {}."""
    import h5py
    from anndata.io import read_elem

    try:
        with h5py.File(path, "r") as f:
            return dict(read_elem(f["uns/programs"])) if "uns/programs" in f else {}
    except (OSError, KeyError, ValueError):
        return {}


def programs_section(folder: Path) -> Section:
    """``nmfbio programs find``: choice of the number of programs, usage heatmap, top genes."""
    from nmfbio.programs import ProgramsResult

    sec = Section("", "programs find", folder)
    programs = read_table(sec, folder / "programs.tsv")
    usage = read_table(sec, folder / "usage.tsv")
    scores = read_table(sec, folder / "scores.tsv")
    top = read_table(sec, folder / "top_genes.tsv")
    table = read_table(sec, folder / "rank_selection.tsv",
                       columns=("stability_mean", "stability_min", "error"))
    uns = {}
    if (folder / "result.h5ad").is_file():
        uns = _programs_uns(sec.read(folder / "result.h5ad"))
    k = programs.shape[1]
    stability = np.asarray(uns.get("stability", np.full(k, np.nan)), dtype=float)
    rule = str(uns.get("rule", "not recorded (no result.h5ad)"))
    params = {key: (v.tolist() if isinstance(v, np.ndarray) else v)
              for key, v in dict(uns.get("params", {})).items()}
    res = ProgramsResult(programs=programs, usage=usage, scores=scores, top_genes=top, rank=k,
                         table=table, stability=stability, rule=rule,
                         genes_used=list(uns.get("genes_used", [])), params=params)
    sec.title = f"Gene-expression programs: {k} programs"
    sec.summary = res.summary()
    sec.params = params
    sec.figure(res.plot_rank_selection(), "Stability (mean and lowest program) and error "
               "against the number of programs; chosen number dashed.")
    dominant = usage.idxmax(axis=1).rename("dominant program")
    sec.figure(res.plot_usage(groups=dominant), "Usage of each program per cell (each cell's "
               "usages sum to 1), cells grouped by the program they use most.")
    sec.figure(res.plot_top_genes(), "Highest-scoring genes of each program.")
    if np.isfinite(stability).all():
        sec.table(pd.DataFrame({"stability": stability},
                               index=pd.Index(programs.columns, name="program")),
                  "Stability (cosine silhouette) of each program.")
    sec.table(top.iloc[:10], "Top 10 genes of each program (all in top_genes.tsv).")
    sec.table(table, "Per candidate number of programs.")
    return sec
