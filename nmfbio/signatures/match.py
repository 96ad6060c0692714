"""Matching de novo signatures to a reference set, and decomposing them into it.

Three views, as the field reports them: the cosine of every de novo signature with every
reference signature; a one-to-one Hungarian matching (each reference used at most once); and
a decomposition of each de novo signature into a small non-negative combination of reference
signatures (greedy forward selection with non-negative least squares, adding the reference
that raises the reconstruction cosine most while it raises it by at least ``min_gain``). A de
novo signature whose best decomposition stays below ``novel_below`` is reported as novel.
Signatures are aligned by channel label, never by position, and must be of one mutation
type (SBS96, DBS78, ID83, …).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment, nnls

from nmfbio._store import Stored
from nmfbio.data import as_frame
from nmfbio.errors import NMFInputError
from nmfbio.io.mutation_types import canonical_label
from nmfbio.model_selection.matching import cosine_matrix
from nmfbio.signatures._catalog import frame_type

__all__ = ["MatchResult", "match", "decompose", "as_signature_frame"]

#: the field's convention for calling two signatures the same
MATCH_COSINE = 0.9


def as_signature_frame(sigs, what="signatures") -> pd.DataFrame:
    """A channels × signatures DataFrame (index = channel labels) from a DataFrame, a result
    with ``.signatures``, or an AnnData of signatures (obs = signatures, var = channels)."""
    if hasattr(sigs, "signatures") and isinstance(sigs.signatures, pd.DataFrame):
        return sigs.signatures
    if type(sigs).__name__ == "AnnData":
        return as_frame(sigs)
    if isinstance(sigs, pd.DataFrame):
        return sigs
    raise NMFInputError(f"{what} must be a DataFrame (channels × signatures), an extraction "
                        f"result or an AnnData, got {type(sigs).__name__}")


def aligned_reference(frame: pd.DataFrame, reference: pd.DataFrame,
                      what: str = "de novo signatures") -> pd.DataFrame:
    """The reference's rows in the order of ``frame``'s channels, after checking both are
    the same mutation type (a DBS78 catalog needs DBS reference signatures, …)."""
    mine = frame_type(frame, what)
    theirs = frame_type(reference, "reference")
    if mine.name != theirs.name:
        raise NMFInputError(
            f"mutation types differ: the {what} {mine.name} ({len(mine)} channels), the "
            f"reference signatures {theirs.name} ({len(theirs)} channels); use a reference "
            f"of the same type, "
            f"e.g. reference('COSMIC_v3.4_{mine.family}_GRCh37') (see "
            "nmfbio.signatures.registry())")
    fixed = reference.copy()
    fixed.index = [canonical_label(x, theirs) for x in reference.index]
    return fixed.loc[[canonical_label(x, mine) for x in frame.index]]


def decompose(profile, reference: pd.DataFrame, *, max_signatures=4, min_gain=0.01):
    """Greedy non-negative decomposition of one profile into reference signatures.

    Parameters
    ----------
    profile : pandas.Series (index = channel labels)
    reference : DataFrame (channels × signatures), aligned to the profile's index
    max_signatures : int
    min_gain : float
        Minimum increase in cosine for adding another signature.

    Returns
    -------
    names : list of str
    weights : ndarray (fractions summing to 1)
    cosine : float
        Cosine between the profile and the weighted combination.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"A": [1.0, 0.0, 0.0], "B": [0.0, 1.0, 1.0]}, index=list("xyz"))
    >>> names, w, cos = decompose(pd.Series([2.0, 1.0, 1.0], index=list("xyz")), ref)
    >>> names, w.round(2).tolist(), round(cos, 6)
    (['A', 'B'], [0.5, 0.5], 1.0)
    """
    y = np.asarray(profile, dtype=float)
    R = reference.to_numpy(dtype=float)
    chosen: list[int] = []
    best_cos, best_w = 0.0, np.zeros(0)
    ny = np.linalg.norm(y)
    while len(chosen) < max_signatures:
        trial_best = None
        for j in range(R.shape[1]):
            if j in chosen:
                continue
            cols = chosen + [j]
            w, _ = nnls(R[:, cols], y)
            fit = R[:, cols] @ w
            nf = np.linalg.norm(fit)
            cos = float(fit @ y / (nf * ny)) if nf > 0 and ny > 0 else 0.0
            if trial_best is None or cos > trial_best[0]:
                trial_best = (cos, j, w)
        if trial_best is None or trial_best[0] - best_cos < min_gain:
            break
        best_cos, j, best_w = trial_best
        chosen.append(j)
    weights = best_w * R[:, chosen].sum(axis=0) if chosen else best_w
    weights = weights / weights.sum() if weights.sum() > 0 else weights
    return [str(reference.columns[j]) for j in chosen], weights, best_cos


@dataclass(repr=False)
class MatchResult(Stored):
    """Result of :func:`match`.

    Attributes
    ----------
    cosine : DataFrame (de novo × reference)
    pairs : DataFrame
        One row per de novo signature: its Hungarian partner and their cosine, and whether
        that cosine reaches 0.9.
    decomposition : DataFrame
        One row per de novo signature: the reference signatures of its decomposition
        (``"SBS1 (0.62) + SBS5 (0.38)"``), the reconstruction cosine, and ``novel``.
    """

    cosine: pd.DataFrame
    pairs: pd.DataFrame
    decomposition: pd.DataFrame

    def summary(self) -> str:
        """The pairs and decompositions as text."""
        return (f"one-to-one matches:\n{self.pairs.to_string()}\n\ndecomposition into the "
                f"reference:\n{self.decomposition.to_string()}")

    def plot(self, ax=None):
        """Heatmap of the cosine matrix (returns the Axes)."""
        from nmfbio.plot.signatures import plot_cosine_heatmap

        return plot_cosine_heatmap(self.cosine, ax=ax)


def match(denovo, reference, *, max_signatures=4, min_gain=0.01,
          novel_below=MATCH_COSINE) -> MatchResult:
    """Compare de novo signatures with a reference set.

    Parameters
    ----------
    denovo : DataFrame (channels × signatures) or an extraction result
    reference : DataFrame (channels × signatures), e.g. from :func:`reference`
    max_signatures : int
        Most reference signatures in one decomposition.
    min_gain : float
        Minimum cosine gain to add a signature to a decomposition.
    novel_below : float
        A de novo signature whose decomposition cosine is below this is called novel.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame(rng.dirichlet(np.ones(96), 3).T, index=CHANNELS,
    ...                    columns=["R1", "R2", "R3"])
    >>> res = match(ref[["R2"]].rename(columns={"R2": "A"}), ref)
    >>> res.pairs.loc["A", "reference"]
    'R2'
    """
    D = as_signature_frame(denovo, "denovo")
    Rf = aligned_reference(D, as_signature_frame(reference, "reference"))
    C = cosine_matrix(D.to_numpy(dtype=float), Rf.to_numpy(dtype=float))
    cos = pd.DataFrame(C, index=D.columns, columns=Rf.columns)
    rows, cols = linear_sum_assignment(-C)
    partner = {D.columns[i]: (Rf.columns[j], C[i, j]) for i, j in zip(rows, cols, strict=True)}
    pairs = pd.DataFrame(
        [(partner.get(name, (None, np.nan))[0], partner.get(name, (None, np.nan))[1])
         for name in D.columns], index=pd.Index(D.columns, name="denovo"),
        columns=["reference", "cosine"])
    pairs["match"] = pairs["cosine"] >= MATCH_COSINE
    rows_out = []
    for name in D.columns:
        names, w, c = decompose(D[name], Rf, max_signatures=max_signatures, min_gain=min_gain)
        rows_out.append((" + ".join(f"{n} ({x:.2f})" for n, x in zip(names, w, strict=True)),
                         len(names), c, c < novel_below))
    dec = pd.DataFrame(rows_out, index=pd.Index(D.columns, name="denovo"),
                       columns=["decomposition", "n_signatures", "cosine", "novel"])
    return MatchResult(cosine=cos, pairs=pairs, decomposition=dec)
