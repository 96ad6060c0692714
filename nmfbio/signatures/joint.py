"""Joint extraction across mutation types: SBS96 + DBS78 + ID83 of the same tumours fitted
with shared exposures.

One process (a mutagen, a repair defect) leaves substitutions, doublets and indels
together; fitting each type alone can split such a process or merge two that differ in
only one type. Here the catalogs of several types are stacked channel-wise (their labels
are disjoint) and factorized once with the recipe of :func:`~nmfbio.signatures.extract`
(KL NMF, rank by cross-validation + stability, resampled consensus): each joint signature
has a profile in every type, and one exposure per sample. Single-type extraction, matching
and plots are in the sibling modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio._store import Stored
from nmfbio._validation import check_seed
from nmfbio.errors import NMFInputError
from nmfbio.model_selection.consensus import ConsensusResult
from nmfbio.model_selection.rank import RankSelection
from nmfbio.signatures._catalog import catalog_frame
from nmfbio.signatures.extract import (
    MERGE_COSINE,
    _check_merge,
    merge_duplicates,
    select_and_consensus,
    signature_names,
    write_normalization,
    write_tables,
)
from nmfbio.signatures.normalize import normalization_table, normalize_catalog
from nmfbio.solver import refit_H

__all__ = ["JointExtractionResult", "extract_joint", "JOINT_WEIGHTS"]

#: how the types' counts are weighted in the joint fit
JOINT_WEIGHTS = ("counts", "equal")


@dataclass(repr=False)
class JointExtractionResult(Stored):
    """Result of :func:`extract_joint`.

    Attributes
    ----------
    signatures : DataFrame (channels of all types × signatures)
        Each type's block of rows sums to 1 per signature (its profile in that type).
    shares : DataFrame (signatures × types)
        The fraction of each signature's mutations in each type.
    exposures : DataFrame (samples × signatures)
        Mutations of all types attributed to each signature.
    rank : int
    selection : RankSelection
    consensus : ConsensusResult
        Of the stacked (weighted) catalog.
    catalog : DataFrame (channels of all types × samples), the input counts
    params : dict
        The options, ``types`` (in row order), the ``weights`` applied to each type and
        ``normalization`` (what :func:`~nmfbio.signatures.normalize.normalize_catalog` did
        to the samples).
    """

    signatures: pd.DataFrame
    shares: pd.DataFrame
    exposures: pd.DataFrame
    rank: int
    selection: RankSelection
    consensus: ConsensusResult
    catalog: pd.DataFrame
    params: dict = field(default_factory=dict)

    @property
    def types(self) -> list[str]:
        return list(self.params["types"])

    def _rows(self, mutation_type: str) -> slice:
        types = self.types
        if mutation_type not in types:
            raise NMFInputError(f"{mutation_type!r} is not one of the fitted types {types}")
        sizes = self.params["sizes"]
        start = sum(sizes[: types.index(mutation_type)])
        return slice(start, start + sizes[types.index(mutation_type)])

    def signatures_of(self, mutation_type: str) -> pd.DataFrame:
        """The signatures' profiles in one type (channels × signatures, columns sum to 1)."""
        return self.signatures.iloc[self._rows(mutation_type)]

    def exposures_of(self, mutation_type: str) -> pd.DataFrame:
        """Mutations of one type attributed to each signature per sample."""
        return self.exposures * self.shares[mutation_type]

    def normalization_table(self) -> pd.DataFrame:
        """Each sample's total over all types, its total after the sample normalisation
        (before any type weights of ``weights="equal"``), and whether it was scaled down."""
        return normalization_table(self.catalog, self.params.get("normalization"))

    def to_tsv(self, outdir: str | os.PathLike) -> list[Path]:
        """Write ``signatures.<TYPE>.tsv`` (COSMIC layout, one file per type),
        ``shares.tsv`` (signatures × types), ``exposures.tsv``, ``stability.tsv``,
        ``rank_selection.tsv`` and ``normalization.tsv`` into ``outdir`` (atomically); the
        files written.

        ``save(path)`` / ``JointExtractionResult.load(path)`` keep the whole result in one
        HDF5 file; ``nmfbio signatures extract A.tsv B.tsv ...`` writes these tables.
        """
        tables = [(self.signatures_of(t), f"signatures.{t}.tsv", "Type") for t in self.types]
        written = write_tables(outdir, [*tables, (self.shares, "shares.tsv", "signature")],
                               self)
        return [*written, write_normalization(outdir, self.normalization_table())]

    def plot_exposures(self, ax=None, relative=False):
        """Stacked exposure bars per sample, mutations of all types (returns the Axes)."""
        from nmfbio.plot.signatures import plot_exposures

        return plot_exposures(self.exposures, ax=ax, relative=relative)

    def summary(self) -> str:
        """Rank and each signature's split over the types."""
        rows = "; ".join(f"{name}: " + ", ".join(f"{t} {self.shares.loc[name, t]:.0%}"
                                                 for t in self.types)
                         for name in self.shares.index)
        norm = self.params.get("normalization")
        said = f" Normalisation: {norm['note']}." if norm else ""
        said += "".join(
            f" Consensus components {', '.join(str(c + 1) for c in m['components'])} were "
            f"merged into one signature (cosine {m['cosine']:.3f})."
            for m in self.params.get("merged", []))
        return (f"{self.rank} joint signatures over {', '.join(self.types)} from "
                f"{self.catalog.shape[1]} samples. Rank rule: {self.selection.rule}.{said} "
                f"Mutations by type: {rows}.")


def extract_joint(catalogs: Mapping, ranks=range(1, 16), *, weights: str = "counts",
                  restarts=100, resample="poisson", repeats=12, cv_restarts=5, seed=None,
                  rank=None, max_iter=1000, tol=1e-4, normalize="gmm",
                  choose="largest", merge=MERGE_COSINE) -> JointExtractionResult:
    """Extract signatures of several mutation types at once, with shared exposures.

    Parameters
    ----------
    catalogs : mapping of name → catalog
        Catalogs of different types (SBS96, DBS78, ID83, …; AnnData, DataFrame or array as
        for :func:`~nmfbio.signatures.extract`) of the same samples, e.g. the dict that
        ``catalog_from_vcf(..., context=["SBS96", "DBS78", "ID83"])`` returns. The keys are
        ignored: each catalog's type is read from its labels.
    ranks, restarts, resample, repeats, cv_restarts, seed, rank, max_iter, tol, choose, merge
        As in :func:`~nmfbio.signatures.extract`; two components are merged only if they
        are that alike in every type (alike in SBS96 alone is what a joint fit separates).
    weights : {"counts", "equal"}, default "counts"
        ``"counts"`` fits the counts as they are (the Poisson model of all mutations; the
        abundant SBS dominate the fit); ``"equal"`` scales each type so all types carry the
        same total weight in what is fitted, after the sample normalisation (rare types count
        more; the fit is then on scaled counts).
    normalize : {"gmm", "100X", "log2", "none"} or int, default "gmm"
        Hypermutated samples scaled down before fitting, as in
        :func:`~nmfbio.signatures.extract`, from each sample's total over all types (one
        factor per sample, so its split between the types is kept; the ``"100X"`` floor
        counts the channels of all types). The exposures are refitted on the raw counts.

    Returns
    -------
    JointExtractionResult

    Raises
    ------
    nmfbio.errors.NMFInputError
        Fewer than two catalogs, two of the same type, or catalogs of different samples.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.mutation_types import mutation_type
    >>> rng = np.random.default_rng(0)
    >>> cats = {}
    >>> E = rng.gamma(1.0, 1.0, (2, 40))
    >>> for name, scale in (("SBS96", 2000), ("DBS78", 200)):
    ...     t = mutation_type(name)
    ...     S = rng.dirichlet(np.full(len(t), 2.0), 2).T
    ...     cats[name] = pd.DataFrame(rng.poisson(S @ E * scale), index=list(t.labels))
    >>> res = extract_joint(cats, ranks=range(1, 4), restarts=10, seed=0)
    >>> res.rank, res.signatures_of("DBS78").shape
    (2, (78, 2))
    """
    if weights not in JOINT_WEIGHTS:
        raise NMFInputError(f"weights must be one of {list(JOINT_WEIGHTS)}, got {weights!r}")
    frames = [catalog_frame(c) for c in dict(catalogs).values()]
    if len(frames) < 2:
        raise NMFInputError("joint extraction needs catalogs of at least two mutation types; "
                            "use extract() for one")
    types = [f.attrs["mutation_type"] for f in frames]
    if len(set(types)) != len(types):
        raise NMFInputError(f"each mutation type once, got {types}")
    samples = list(frames[0].columns)
    for f, t in zip(frames[1:], types[1:], strict=True):
        if set(f.columns) != set(samples):
            only = sorted(set(samples) ^ set(f.columns))
            raise NMFInputError(f"the {types[0]} and {t} catalogs hold different samples "
                                f"(e.g. {only[:5]}); joint extraction needs the same tumours "
                                "in every type")
    frames = [f[samples] for f in frames]
    totals = np.array([f.to_numpy().sum() for f in frames])
    if (totals <= 0).any():
        raise NMFInputError(f"the {types[int(np.argmin(totals))]} catalog has no mutations")
    C = pd.concat(frames, axis=0)
    sizes = [len(f) for f in frames]
    starts = np.cumsum([0, *sizes[:-1]])  # each type's first row in the stacked catalog
    seed = check_seed(seed)
    merge = _check_merge(merge)
    normalized, norm = normalize_catalog(C, normalize)
    # "equal": the types' weights from what is fitted (after the sample normalisation, which
    # changes the types' totals when the scaled samples have their own split between types)
    fitted_totals = np.add.reduceat(normalized.to_numpy(dtype=float).sum(axis=1), starts)
    factor = (np.ones(len(frames)) if weights == "counts"
              else fitted_totals.sum() / (len(frames) * fitted_totals))
    row_factor = np.repeat(factor, sizes)
    fitted = normalized * row_factor[:, None]
    sel, k, con = select_and_consensus(fitted, ranks, restarts, resample,
                                       repeats, cv_restarts, seed, rank, max_iter, tol,
                                       choose)
    con, merged = merge_duplicates(con, fitted.to_numpy(dtype=float), merge,
                                   sizes=sizes)
    k = con.W.shape[1]
    H = con.H
    if norm["scaled"]:  # the exposures of the raw (type-weighted) counts, signatures fixed
        H, _ = refit_H((C * row_factor[:, None]).to_numpy(dtype=float), con.W, loss="kl",
                       _warn=False)
    # back to raw counts: X_t ≈ (W_t / f_t) H
    W = con.W / row_factor[:, None]
    per_type = np.add.reduceat(W, starts, axis=0)
    total = per_type.sum(axis=0)
    names = signature_names(k, "Joint")
    blocks = per_type[np.repeat(np.arange(len(frames)), sizes)]
    sigs = pd.DataFrame(W / np.where(blocks > 0, blocks, 1.0),
                        index=pd.Index(list(C.index), name="Type"), columns=names)
    shares = pd.DataFrame((per_type / np.where(total > 0, total, 1.0)).T,
                          index=pd.Index(names, name="signature"), columns=types)
    expo = pd.DataFrame(H.T * total, index=pd.Index(samples, name="Samples"),
                        columns=names)
    params = dict(ranks=list(sel.params["ranks"]), rank=None if rank is None else int(rank),
                  restarts=int(restarts), resample=resample or "none", repeats=int(repeats),
                  cv_restarts=int(cv_restarts), choose=choose, seed=seed,
                  max_iter=int(max_iter), tol=float(tol), types=types,
                  sizes=sizes, weights=weights,
                  type_weights=[float(x) for x in factor], normalization=norm,
                  merge=merge, merged=merged)
    return JointExtractionResult(signatures=sigs, shares=shares, exposures=expo, rank=k,
                                 selection=sel, consensus=con, catalog=C, params=params)
