"""De novo extraction of mutational signatures from a catalog.

The field's recipe, made fast and reproducible: KL (Poisson) NMF; the rank chosen by
held-out cross-validation (:func:`nmfbio.select_rank` on 5 % of the entries held out, see
:data:`HOLDOUT`, with ``choose="largest"``: the most
signatures that predict held-out counts as well as the best rank; it states its rule and
evidence); at that rank, a consensus over many restarts, each on a resampled copy of the
catalog (:func:`nmfbio.consensus`), giving the de novo signatures (cluster medians) and
their stability; exposures refitted on the original counts with the signatures fixed. Same
seed → same output. Outputs follow the field's layouts: ``signatures.tsv`` as COSMIC
(``Type`` column of channel labels in alphabetical order + one column per signature) and
``exposures.tsv`` (samples × signatures).

The rank selection is most of the work (ranks × hold-out repeats × seeds); it can be split
into shards run anywhere (:func:`extract_rank_shard`, ``nmfbio signatures extract --shard
i/n``) and then passed to :func:`extract` (``shards=``), which gives exactly the result of
one unsharded call.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio._atomic import atomic_path
from nmfbio._store import Stored
from nmfbio._validation import check_seed, child_seeds
from nmfbio._warn import warn
from nmfbio.errors import ConvergenceWarning, NMFInputError
from nmfbio.model_selection._shards import (
    RankShard,
    select_rank_from_shards,
    select_rank_shard,
)
from nmfbio.model_selection.consensus import ConsensusResult, consensus
from nmfbio.model_selection.rank import RankSelection, plan_rank_selection, select_rank
from nmfbio.signatures._catalog import catalog_frame, frame_type
from nmfbio.signatures.normalize import normalization_table, normalize_catalog
from nmfbio.solver import refit_H
from nmfbio.solver.minvol import fit_minvol, volume_weight

__all__ = ["ExtractionResult", "extract", "extract_rank_shard", "signature_names"]


def signature_names(k: int, prefix: str = "SBS96") -> list[str]:
    """De novo signature names ``SBS96A``, ``SBS96B``, … (as SigProfilerExtractor names
    them); the prefix is the catalog's mutation type (``DBS78A``, ``ID83A``, …).

    Examples
    --------
    >>> signature_names(3)
    ['SBS96A', 'SBS96B', 'SBS96C']
    >>> signature_names(2, "ID83")
    ['ID83A', 'ID83B']
    """
    letters = []
    for i in range(k):
        name, q = "", i
        while True:
            name = chr(ord("A") + q % 26) + name
            q = q // 26 - 1
            if q < 0:
                break
        letters.append(f"{prefix}{name}")
    return letters


#: consensus components whose cosine reaches this are one signature split in two and are
#: merged: among the COSMIC v3.4 signatures only SBS10d and SBS56 (0.979) are this alike
#: (every DBS, ID and CN pair is below 0.91), while over-split components of one planted
#: signature were 0.935-0.956 alike (SBS2, SBS13; 30-tumour generated cohort, seeds 0-2)
MERGE_COSINE = 0.93


@dataclass(repr=False)
class ExtractionResult(Stored):
    """Result of :func:`extract`.

    Attributes
    ----------
    signatures : DataFrame (channels × signatures), columns sum to 1, in the canonical
        (COSMIC) order of the catalog's mutation type
    exposures : DataFrame (samples × signatures), mutations attributed to each
    rank : int
    selection : RankSelection
        The rank-selection evidence (table, rule).
    consensus : ConsensusResult
        Stability of each signature across resampled restarts.
    catalog : DataFrame (channels × samples), the input counts
    params : dict
        The options of :func:`extract`, with the seed used (drawn when none was given: pass
        it back to repeat the run).
    """

    signatures: pd.DataFrame
    exposures: pd.DataFrame
    rank: int
    selection: RankSelection
    consensus: ConsensusResult
    catalog: pd.DataFrame
    params: dict = field(default_factory=dict)

    @property
    def mutation_type(self) -> str:
        """The catalog's mutation type (``"SBS96"``, ``"DBS78"``, ``"ID83"``, …)."""
        return self.params.get("mutation_type") or frame_type(self.signatures).name

    @property
    def stability(self) -> pd.Series:
        """Stability (cosine silhouette) of each signature."""
        return pd.Series(self.consensus.stability, index=self.signatures.columns,
                         name="stability")

    def cosine(self) -> pd.Series:
        """Per-sample cosine between the catalog and its reconstruction."""
        Y = self.signatures.to_numpy() @ self.exposures.T.to_numpy()
        X = self.catalog.to_numpy()
        num = (X * Y).sum(axis=0)
        den = np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=0)
        return pd.Series(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0),
                         index=self.catalog.columns, name="cosine")

    def summary(self) -> str:
        """Rank, rule, and per-signature stability."""
        stab = ", ".join(f"{n} {s:.2f}" for n, s in self.stability.items())
        norm = self.params.get("normalization")
        said = f" Normalisation: {norm['note']}." if norm else ""
        if self.params.get("volume"):
            said += (f" Signatures tightened by a minimum-volume refit (volume λ̃ = "
                     f"{self.params['volume']:g}, {self.params.get('volume_iterations', 0)} "
                     "iterations; stability is that of the consensus before it).")
        for m in self.params.get("merged", []):
            parts = ", ".join(str(c + 1) for c in m["components"])
            said += (f" Consensus components {parts} were merged into one signature (cosine "
                     f"{m['cosine']:.3f} ≥ {self.params['merge']:g}: one process split in "
                     "two).")
        return (f"{self.rank} de novo signatures from {self.catalog.shape[1]} samples "
                f"({int(self.catalog.to_numpy().sum())} mutations). Rank rule: "
                f"{self.selection.rule}.{said} Stability: {stab}. Median sample cosine "
                f"{float(self.cosine().median()):.3f}.")

    def normalization_table(self) -> pd.DataFrame:
        """Each sample's total, the total it was fitted with after the sample
        normalisation, and whether it was scaled down (``params["normalization"]``)."""
        return normalization_table(self.catalog, self.params.get("normalization"))

    def to_tsv(self, outdir: str | os.PathLike) -> list[Path]:
        """Write the tables ``signatures.tsv`` (COSMIC layout), ``exposures.tsv``,
        ``rank_selection.tsv``, ``stability.tsv`` and ``normalization.tsv`` (each sample's
        total and the total it was fitted with; first line: ``# `` and what was done) into
        ``outdir`` (atomically).

        An export for other tools; ``save(path)`` / ``ExtractionResult.load(path)`` keep
        the whole result (with the rank selection and the consensus) in one HDF5 file.
        ``nmfbio signatures extract`` writes these tables and the figures.

        Returns
        -------
        list of Path
            The files written.
        """
        written = write_tables(outdir, [(self.signatures, "signatures.tsv", "Type")], self)
        return [*written, write_normalization(outdir, self.normalization_table())]

    def plot_signatures(self):
        """The profiles of the de novo signatures in their type's layout (returns the Figure)."""
        from nmfbio.plot.signatures import plot_signatures

        return plot_signatures(self.signatures)

    def plot_exposures(self, ax=None, relative=False):
        """Stacked exposure bars per sample (returns the Axes)."""
        from nmfbio.plot.signatures import plot_exposures

        return plot_exposures(self.exposures, ax=ax, relative=relative)


def extract(catalog, ranks=range(1, 16), *, restarts=100, resample="poisson", repeats=12,
            cv_restarts=5, seed=None, rank=None, max_iter=1000, tol=1e-4,
            normalize="gmm", volume=0.0, choose="largest",
            merge=MERGE_COSINE, shards=None) -> ExtractionResult:
    """Extract de novo mutational signatures, choosing their number.

    Parameters
    ----------
    catalog : AnnData (samples × channels), DataFrame (channels × samples) or ndarray
        Mutation counts of any registered mutation type (SBS96, DBS78, ID83, SBS288, …; see
        :func:`nmfbio.io.read_catalog`); the type is found from the channel labels, or from
        the row count of an unlabelled array. De novo signatures are named after it
        (``SBS96A``, ``DBS78A``, ``ID83A``, …).
    ranks : iterable of int, default 1..15
        Candidate numbers of signatures (real cohorts of 100 breast cancers hold 10-12
        that the data support; a range ending at 10 cut their choice short).
    restarts : int, default 100
        Consensus restarts at the chosen rank.
    resample : {"poisson", "multinomial", None}, default "poisson"
        Resampling of the catalog for each consensus restart.
    repeats, cv_restarts : int, default 12 and 5
        Hold-out repeats and seeds per repeat of the rank selection (with 3 the standard
        error of real catalogs was too rough to tell ranks 8 and 11 apart; with 12 the
        chosen rank moves less between seeds than with 6).
    seed : int, optional
        Same seed → same signatures and exposures.
    rank : int, optional
        Skip the choice and use this rank (the selection is still computed over ``ranks``
        for the record).
    max_iter, tol : per-fit stopping.
    normalize : {"gmm", "100X", "log2", "none"} or int, default "gmm"
        Scale hypermutated samples down before the rank selection and the consensus, as
        SigProfilerExtractor does (:mod:`nmfbio.signatures.normalize`); the exposures are
        then refitted on the raw counts with the signatures fixed. What was done is in
        ``params["normalization"]`` and in the summary.
    volume : float, default 0
        λ̃ of an optional minimum-volume refinement (:mod:`nmfbio.solver.minvol`): the
        consensus signatures are refitted once with a log det(WᵀW + I) penalty, λ = λ̃
        times the ratio of the data fit to |log det| at the consensus (λ̃ = 1: the two
        terms of equal size there). Off by default: on real breast cancer genomes (100-tumour
        subsets of Nik-Zainal et al. 2016) every λ̃ from 0.001 to 1 recovered fewer COSMIC
        signatures than the consensus itself (two subsets at rank 12: 6.5 of 8 without,
        5.5 at λ̃ 0.001-0.01, 5 at 0.03, 1.5 at 1), because the refit moves the consensus
        medians into a sharper local optimum; on generated cohorts whose tumours are exact
        mixtures of COSMIC signatures λ̃ = 1 can separate flat SBS3/SBS5 better. The rank is
        chosen and the stability measured before the refinement (plain KL).
    choose : {"largest", "smallest"}, default "largest"
        The rank rule of :func:`nmfbio.select_rank`. "largest": the most signatures whose
        held-out error is within two standard errors of the best, as are all the ranks
        between them (the largest all-stable
        one among them if any). On real breast cancer catalogs the error is flat over ranks
        8-12 while the known signatures separate only at 11-12 (flat SBS3/SBS5/SBS40a and
        SBS1/SBS8 merge below; fixed-rank consensus on six 100-tumour subsets of 560: 21,
        28, 33, 33 of 48 known signatures at ranks 9-12); with it (and :data:`HOLDOUT`) 5 of
        those 6 subsets give ≥ 5 of the 8 known breast signatures (ranks 8-13).
        "smallest": parsimony, as in :func:`nmfbio.select_rank`.
    merge : float, default 0.93
        Consensus components at least this alike (cosine) are merged into one signature (an
        over-split process: :data:`MERGE_COSINE` says why 0.93); the merges are recorded in
        ``params["merged"]`` and said in the summary. 1 merges only identical components.
    shards : sequence of RankShard or paths, optional
        Every shard of this extraction's rank selection (:func:`extract_rank_shard` with the
        same catalog, ``ranks``, ``repeats``, ``cv_restarts``, ``seed``, ``max_iter``,
        ``tol``, ``normalize`` and ``choose``): the selection is combined from them instead
        of computed, and the result is that of the unsharded call. Shards of other data or
        options are refused.

    Returns
    -------
    ExtractionResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> rng = np.random.default_rng(0)
    >>> S = rng.dirichlet(np.full(96, 0.3), 2).T
    >>> cat = pd.DataFrame(rng.poisson(S @ rng.gamma(1, 500, (2, 60))), index=CHANNELS)
    >>> extract(cat, ranks=range(1, 4), restarts=10, seed=0).rank
    2
    """
    C = catalog_frame(catalog)
    seed_given, seed = seed, check_seed(seed)
    fitted, norm = normalize_catalog(C, normalize)
    if isinstance(volume, bool) or not isinstance(volume, (int, float)) or volume < 0:
        raise NMFInputError(f"volume must be a number >= 0 (0: no refinement), got {volume!r}")
    merge = _check_merge(merge)
    if shards is not None:
        if seed_given is None:
            raise NMFInputError("combining rank-selection shards needs the seed they were "
                                "run with (e.g. --seed 0)")
        if isinstance(shards, (str, os.PathLike)):
            shards = [shards]
    sel, k, con = select_and_consensus(fitted, ranks, restarts, resample, repeats,
                                       cv_restarts, seed, rank, max_iter, tol, choose,
                                       shards=shards)
    con, merged = merge_duplicates(con, fitted.to_numpy(dtype=float), merge)
    k = con.W.shape[1]
    W, H, refined = con.W, con.H, {}
    if volume > 0:
        W, refined = refine_volume(fitted.to_numpy(dtype=float), con.W, con.H, float(volume))
    if norm["scaled"] or volume > 0:  # the exposures of the raw counts, signatures fixed
        H, _ = refit_H(C.to_numpy(dtype=float), W, loss="kl", _warn=False)
    names = signature_names(k, C.attrs["mutation_type"])
    sigs = pd.DataFrame(W, index=pd.Index(list(C.index), name="Type"), columns=names)
    expo = pd.DataFrame(H.T, index=pd.Index(C.columns, name="Samples"), columns=names)
    params = dict(ranks=list(sel.params["ranks"]), rank=None if rank is None else int(rank),
                  restarts=int(restarts),
                  resample=resample or "none", repeats=int(repeats),
                  cv_restarts=int(cv_restarts), choose=choose, seed=seed,
                  max_iter=int(max_iter),
                  tol=float(tol), mutation_type=C.attrs["mutation_type"],
                  normalization=norm, volume=float(volume), merge=merge, merged=merged,
                  **refined)
    return ExtractionResult(signatures=sigs, exposures=expo, rank=k, selection=sel,
                            consensus=con, catalog=C, params=params)


def _check_merge(merge):
    if isinstance(merge, bool) or not isinstance(merge, (int, float)) or not 0 < merge <= 1:
        raise NMFInputError(f"merge must be a cosine in (0, 1] (1: merge only identical "
                            f"components), got {merge!r}")
    return float(merge)


def merge_duplicates(con: ConsensusResult, X: np.ndarray, threshold: float, sizes=None):
    """Merge consensus components whose cosine reaches ``threshold`` (single linkage).

    ``sizes`` (joint extraction: the rows of each mutation type, in order): two components
    are compared type by type and count as alike only if every type's profiles are (one
    type alike is what a joint fit is there to separate).

    A merged signature is the exposure-weighted mean of its members (columns sum to 1); its
    exposures are refitted on ``X`` (KL) with the other signatures, and its stability,
    mean cosine and reproduction count are the lowest of its members (``run_W`` is the mean
    of the members' aligned parts). Returns the new consensus and, per merge, its
    components (0-based, in the original order) and their lowest pairwise cosine.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio.model_selection.consensus import ConsensusResult
    >>> W = np.array([[0.5, 0.48, 0.0], [0.5, 0.52, 0.1], [0.0, 0.0, 0.9]])
    >>> H = np.ones((3, 4))
    >>> con = ConsensusResult(W=W, H=H, stability=np.ones(3), mean_cosine=np.ones(3),
    ...     reproduced=np.full(3, 5), stable=np.ones(3, bool), run_W=np.stack([W] * 5),
    ...     run_losses=np.zeros(5), n_unconverged=0, loss=0.0, threshold=0.8)
    >>> new, merged = merge_duplicates(con, W @ H, 0.95)
    >>> new.W.shape, merged[0]["components"]
    ((3, 2), [0, 1])
    """
    W = np.asarray(con.W, dtype=float)
    k = W.shape[1]
    edges = np.cumsum([0, *(sizes or [W.shape[0]])])
    cos = np.ones((k, k))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        block = W[lo:hi]
        norms = np.linalg.norm(block, axis=0)
        Bn = block / np.where(norms > 0, norms, 1.0)
        cos = np.minimum(cos, Bn.T @ Bn)
    root = list(range(k))

    def find(i):
        while root[i] != i:
            i = root[i]
        return i

    for i in range(k):
        for j in range(i + 1, k):
            if cos[i, j] >= threshold:
                root[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(k):
        groups.setdefault(find(i), []).append(i)
    if len(groups) == k:
        return con, []
    members = list(groups.values())
    h = con.H.sum(axis=1)
    cols, merged = [], []
    for g in members:
        w = h[g] if h[g].sum() > 0 else np.ones(len(g))
        col = (W[:, g] * w).sum(axis=1)
        cols.append(col / max(col.sum(), 1e-300))
        if len(g) > 1:
            sub = cos[np.ix_(g, g)]
            merged.append(dict(components=[int(c) for c in g],
                               cosine=float(sub[np.triu_indices(len(g), 1)].min())))
    W2 = np.stack(cols, axis=1)
    H2, loss = refit_H(X, W2, loss="kl", _warn=False)
    run_W = np.stack([con.run_W[:, :, g].mean(axis=2) for g in members], axis=2)
    run_W /= np.maximum(run_W.sum(axis=1, keepdims=True), 1e-300)
    def weakest(values):
        return np.array([np.min(values[g]) for g in members])

    new = dataclasses.replace(
        con, W=W2, H=H2, run_W=run_W, loss=float(loss),
        stability=weakest(con.stability).astype(float),
        mean_cosine=weakest(con.mean_cosine).astype(float),
        reproduced=weakest(con.reproduced), stable=weakest(con.stable),
        params=dict(con.params, merged=merged))
    return new, merged


def write_tables(outdir, tables, result) -> list[Path]:
    """Write ``(frame, name, index label)`` tables, then the result's exposures, stability
    (one row per signature) and rank selection, each atomically; the paths written."""
    out = Path(outdir)
    written = []
    stability = result.consensus.table()
    stability.index = result.exposures.columns
    for frame, name, label in [*tables, (result.exposures, "exposures.tsv", "Samples"),
                               (stability, "stability.tsv", "signature")]:
        with atomic_path(out / name) as tmp:
            frame.to_csv(tmp, sep="\t", index_label=label)
        written.append(out / name)
    result.selection.to_tsv(out / "rank_selection.tsv")
    written.append(out / "rank_selection.tsv")
    return written


def write_normalization(outdir, table: pd.DataFrame) -> Path:
    """Write a :func:`~nmfbio.signatures.normalize.normalization_table` as
    ``normalization.tsv`` (first line: ``# `` and what was done), atomically; its path."""
    path = Path(outdir) / "normalization.tsv"
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(f"# {table.attrs['note'] or 'no sample normalisation'}\n")
        table.to_csv(f, sep="\t")
    return path


#: stopping of the minimum-volume refinement of the consensus signatures
VOLUME_TOL, VOLUME_MAX_ITER = 1e-6, 5000


#: fraction of a catalog's entries held out per repeat of extract's rank selection (half of
#: :func:`nmfbio.select_rank`'s default 0.1): each cross-validation fit sees 95 % of the
#: counts, nearer the full-data fit that the signatures come from. A fit on fewer entries
#: over-fits at a lower rank, so a larger hold-out pulls the chosen rank down. On six
#: 100-tumour subsets of 560 real breast cancers (seeds 0 and 5), 10 of 12 extractions gave
#: ≥ 5 of the 8 known breast signatures against 7 of 12 with 0.1; the generated cohorts of
#: ``benchmarks/real_signatures.py`` kept their F1 (0.03 was no better than 0.05 and noisier).
HOLDOUT = 0.05


def _selection_options(seed, repeats, cv_restarts, max_iter, tol, choose) -> dict:
    """The :func:`nmfbio.select_rank` options of extract's rank selection, whole or in
    shards; its seed is the first of ``child_seeds(seed, 2)`` (the consensus gets the
    second)."""
    return dict(loss="kl", holdout=HOLDOUT, repeats=repeats, restarts=cv_restarts,
                seed=child_seeds(seed, 2)[0], max_iter=max_iter, tol=tol, choose=choose)


def extract_rank_shard(catalog, ranks=range(1, 16), *, shard="1/1", repeats=12,
                       cv_restarts=5, seed=None, max_iter=1000, tol=1e-4, normalize="gmm",
                       choose="largest", source=None) -> RankShard:
    """Score one shard of the ranks of :func:`extract`'s rank selection (the bulk of its
    work), for :func:`extract` ``(..., shards=[...])`` to combine.

    The catalog is normalised and the rank-selection seed drawn from ``seed`` exactly as
    :func:`extract` does, so the combined shards equal its own selection.

    Parameters
    ----------
    catalog, ranks, repeats, cv_restarts, max_iter, tol, normalize, choose
        As in :func:`extract` (the same values must be given to it).
    shard : str or (int, int), default "1/1"
        Shard ``i/n``: ranks ``i-1, i-1+n, …`` of the sorted ranks.
    seed : int
        Required (the same for every shard and for :func:`extract`).
    source : dict, optional
        Recorded as is (e.g. the input file).

    Returns
    -------
    RankShard

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> rng = np.random.default_rng(0)
    >>> S = rng.dirichlet(np.full(96, 0.3), 2).T
    >>> cat = pd.DataFrame(rng.poisson(S @ rng.gamma(1, 500, (2, 60))), index=CHANNELS)
    >>> parts = [extract_rank_shard(cat, range(1, 4), shard=(i, 2), repeats=2, seed=0)
    ...          for i in (1, 2)]
    >>> extract(cat, range(1, 4), repeats=2, restarts=10, seed=0, shards=parts).rank
    2
    """
    if seed is None:
        raise NMFInputError("a shard of the rank selection needs a seed (e.g. --seed 0), the "
                            "same for every shard and for the extraction that combines them")
    C = catalog_frame(catalog)
    fitted, _ = normalize_catalog(C, normalize)
    opts = _selection_options(check_seed(seed), repeats, cv_restarts, max_iter, tol, choose)
    return select_rank_shard(fitted, ranks, shard=shard, source=source, **opts)


def refine_volume(X: np.ndarray, W: np.ndarray, H: np.ndarray, volume: float):
    """The consensus signatures tightened by minimum-volume KL NMF (one fit from the
    consensus W and its H, λ = λ̃·KL/|log det| there); returns W and what was done."""
    lam = volume_weight(volume, X, W, H)
    Wv, _, _, n_iter, converged = fit_minvol(X, W, H, lam=lam, tol=VOLUME_TOL,
                                             max_iter=VOLUME_MAX_ITER)
    if not converged:
        warn(f"the minimum-volume refinement stopped at {n_iter} iterations before its "
             f"relative decrease fell below {VOLUME_TOL:g}; its signatures are used as they "
             "are", ConvergenceWarning)
    return Wv, dict(volume_lambda=lam, volume_iterations=int(n_iter),
                    volume_converged=bool(converged))


def select_and_consensus(C, ranks, restarts, resample, repeats, cv_restarts, seed, rank,
                         max_iter, tol, choose="largest", shards=None):
    """The rank (chosen by CV + stability unless given) and the KL consensus at it: the
    recipe of :func:`extract`, shared with the joint extraction of several types. With
    ``shards``, the rank selection is combined from them (checked against this plan)."""
    opts = _selection_options(seed, repeats, cv_restarts, max_iter, tol, choose)
    if shards is None:
        sel = select_rank(C, ranks, **opts)
    else:
        sel = select_rank_from_shards(shards, plan=plan_rank_selection(C, ranks, **opts))
    k = sel.best if rank is None else int(rank)
    s_cons = child_seeds(seed, 2)[1]
    con = consensus(C, k, restarts=restarts, loss="kl", resample=resample, seed=s_cons,
                    max_iter=max_iter, tol=tol)
    return sel, k, con
