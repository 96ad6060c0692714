"""Gene-expression programs by consensus NMF, AnnData-native.

The cNMF recipe (Kotliar et al. 2019, eLife 8:e43803) on nmfbio's solver: over-dispersed
genes selected on raw counts; counts per cell, genes scaled to unit variance without
centring; for each candidate rank a consensus over seeded restarts (Hungarian-aligned,
outlier runs left out of each program's median) gives each program's stability (cosine
silhouette) and the fit's error; the chosen rank is the most stable one (the largest within
0.02 of the best mean stability; the stability-vs-error plot shows the evidence). Then, at
that rank: usages per cell
refitted on the selected genes (rows summing to 1), each program's spectrum on **all**
genes in counts-per-cell units (non-negative least squares with the usages fixed), and gene
scores from the regression of z-scored expression on the usages, with the top genes per
program. Results are written into the AnnData under one key stem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nmfbio import _keys
from nmfbio._progress import progress
from nmfbio._store import Stored
from nmfbio._validation import check_seed, child_seeds
from nmfbio._warn import warn
from nmfbio.data import features_by_samples
from nmfbio.errors import DataWarning, NMFInputError
from nmfbio.model_selection.consensus import DEFAULT_THRESHOLD, consensus
from nmfbio.model_selection.matching import cosine_matrix
from nmfbio.programs.select import (
    BLOCK_VALUES,
    library_sizes,
    moments_from_sums,
    normalize_for_nmf,
    overdispersed_genes,
    scaled_sums,
)
from nmfbio.solver import refit_H

__all__ = ["ProgramsResult", "find", "OUTLIER_COSINE"]

#: a run's program whose cosine to the consensus is below this is an outlier, left out
OUTLIER_COSINE = 0.8


@dataclass(repr=False)
class ProgramsResult(Stored):
    """Result of :func:`find`.

    Attributes
    ----------
    programs : DataFrame (genes × programs)
        Spectra on all genes, counts-per-cell units, each column summing to 1.
    usage : DataFrame (cells × programs)
        Share of each cell's expression from each program (rows sum to 1).
    scores : DataFrame (genes × programs)
        Regression coefficients of z-scored expression on the usages (marker strength).
    top_genes : DataFrame (rank × programs)
        Genes with the highest scores per program.
    rank : int
    table : DataFrame
        Per candidate rank: stability (mean, min), number of stable programs, error.
    stability : ndarray (rank,)
        Stability of each chosen program.
    rule : str
    genes_used : list of str
        The over-dispersed genes the programs were fitted on.
    adata : AnnData or None
        The AnnData written to (a copy when ``copy=True``).
    """

    programs: pd.DataFrame
    usage: pd.DataFrame
    scores: pd.DataFrame
    top_genes: pd.DataFrame
    rank: int
    table: pd.DataFrame
    stability: np.ndarray
    rule: str
    genes_used: list
    params: dict = field(default_factory=dict)
    adata: object = None

    #: the AnnData written back to is the user's object, not part of the stored result
    _not_stored = ("adata",)

    def summary(self) -> str:
        """Rank, rule and the top genes of each program."""
        tops = "\n".join(f"  {p}: {', '.join(self.top_genes[p].iloc[:8])}"
                         for p in self.top_genes.columns)
        return (f"{self.rank} programs from {self.usage.shape[0]} cells × "
                f"{self.programs.shape[0]} genes ({len(self.genes_used)} over-dispersed genes "
                f"fitted). Rank rule: {self.rule}\n{tops}")

    def to_tsv(self, outdir) -> list:
        """Write programs.tsv, usage.tsv, scores.tsv, top_genes.tsv and rank_selection.tsv
        (atomically) into ``outdir``; returns the paths."""
        from pathlib import Path

        from nmfbio._atomic import atomic_path

        out = Path(outdir)
        written = []
        for name, frame, label in (("programs.tsv", self.programs, "gene"),
                                   ("usage.tsv", self.usage, "cell"),
                                   ("scores.tsv", self.scores, "gene"),
                                   ("top_genes.tsv", self.top_genes, "rank"),
                                   ("rank_selection.tsv", self.table, "rank")):
            with atomic_path(out / name) as tmp:
                frame.to_csv(tmp, sep="\t", index_label=label)
            written.append(out / name)
        return written

    def plot_rank_selection(self, ax=None):
        """Stability and error against rank (returns the Axes)."""
        from nmfbio.plot.programs import plot_program_rank

        return plot_program_rank(self, ax=ax)

    def plot_usage(self, groups=None, ax=None):
        """Heatmap of usages, cells grouped by an annotation (returns the Axes)."""
        from nmfbio.plot.programs import plot_usage_heatmap

        return plot_usage_heatmap(self.usage, groups=groups, ax=ax)

    def plot_top_genes(self, n=10):
        """Bar plots of the top genes' scores per program (returns the Figure)."""
        from nmfbio.plot.programs import plot_top_genes

        return plot_top_genes(self.scores, n=n)


def _counts(adata, layer):
    """The raw counts of ``adata`` as they are stored (no float64 copy: later steps convert a
    block of cells at a time); sparse other than CSR becomes CSR."""
    if layer is not None:
        if layer not in adata.layers:
            raise NMFInputError(f"layer {layer!r} not found; available: {sorted(adata.layers)}")
        M = adata.layers[layer]
    elif "counts" in adata.layers:
        M = adata.layers["counts"]
    else:
        M = adata.X
    if sp.issparse(M):
        if M.format != "csr":
            M = sp.csr_matrix(M)
    else:
        M = np.asarray(M)
    if M.dtype.kind not in "biuf" or M.ndim != 2:
        raise NMFInputError(f"expression values must be a numeric cells × genes matrix, got "
                            f"dtype {M.dtype} and shape {M.shape}")
    _check_raw_counts(M)
    return M


def _value_blocks(M):
    """The stored values of M, a block at a time (views, no copies of the whole matrix)."""
    if sp.issparse(M):
        data = M.data
        for start in range(0, data.size, BLOCK_VALUES):
            yield data[start:start + BLOCK_VALUES]
    else:
        step = max(1, BLOCK_VALUES // max(M.shape[1], 1))
        for start in range(0, M.shape[0], step):
            yield M[start:start + step]


def _check_raw_counts(M):
    """Finite, non-negative integers, or NMFInputError (checked a block at a time)."""
    for block in _value_blocks(M):
        if block.size and ((block.dtype.kind == "f" and not np.isfinite(block).all())
                           or block.min() < 0):
            raise NMFInputError(
                "expression values must be raw counts (finite, non-negative); these have "
                "negative or non-finite values, as scaled or centred data do. Pass the raw "
                "counts, e.g. layer='counts' or adata.raw.to_adata()")
    if M.dtype.kind != "f":
        return
    for block in _value_blocks(M):
        if block.size and not np.allclose(block, np.round(block)):
            raise NMFInputError(
                "expression values must be raw counts; these are not integers (log-normalised "
                "or scaled data?). Pass the raw counts, e.g. layer='counts' or adata.raw")


def _centre_without_outliers(run_W, W):
    """Median of each program's runs, leaving out runs below OUTLIER_COSINE."""
    R, m, r = run_W.shape
    out = np.empty_like(W)
    dropped = np.zeros(r, dtype=int)
    for k in range(r):
        cos = cosine_matrix(W[:, [k]], run_W[:, :, k].T).ravel()
        keep = cos >= OUTLIER_COSINE
        dropped[k] = int((~keep).sum())
        members = run_W[keep, :, k] if keep.any() else run_W[:, :, k]
        c = np.median(members, axis=0)
        out[:, k] = c / max(c.sum(), 1e-300)
    return out, dropped


def _nnls_gram(G, B):
    """Exact non-negative least squares from the normal equations: column j of the result is
    ``argmin_{s ≥ 0} ‖X_j − U s‖²`` given ``G = UᵀU`` (k × k) and ``B = UᵀX`` (k × n), so X
    itself is never needed. Columns whose unconstrained solution is non-negative keep it;
    the others go through scipy's active-set NNLS."""
    from scipy.optimize import nnls

    lam, V = np.linalg.eigh(G)
    keep = lam > max(float(lam.max()), 0.0) * 1e-12
    root = np.sqrt(lam[keep])
    A = root[:, None] * V[:, keep].T         # AᵀA = G
    T = (V[:, keep].T @ B) / root[:, None]   # AᵀT = B (B lies in the range of G)
    S = np.linalg.lstsq(A, T, rcond=None)[0]
    for j in np.flatnonzero((S < 0).any(axis=0)):
        S[:, j] = nnls(A, T[:, j])[0]
    return S


def find(adata, ranks=range(2, 11), *, n_top_genes=2000, restarts=20, seed=None, layer=None,
         key_added="programs", threshold=DEFAULT_THRESHOLD,
         rank=None, n_top=20, copy=False, max_iter=500, tol=1e-5) -> ProgramsResult:
    """Find gene-expression programs in an AnnData of raw counts.

    Parameters
    ----------
    adata : anndata.AnnData
        Cells (or samples) × genes; raw counts in ``layers["counts"]`` (used when present),
        ``layer``, or ``X``. Sparse stays sparse.
    ranks : iterable of int, default 2..10
        Candidate numbers of programs.
    n_top_genes : int, default 2000
        Over-dispersed genes to fit on.
    restarts : int, default 20
        Seeded restarts per rank.
    seed : int, optional
    layer : str, optional
    key_added : str, default "programs"
        Results go to ``obsm["X_" + key_added]`` (usage), ``varm[key_added]`` (spectra),
        ``varm[key_added + "_scores"]`` and ``uns[key_added]`` (the names of
        :mod:`nmfbio._keys`, as for :func:`nmfbio.fit`).
    threshold : float
        Stability a program needs (cosine silhouette).
    rank : int, optional
        Use this rank instead of the rule's choice (the table is still computed).
    n_top : int
        Top genes listed per program.
    copy : bool
        Write into a copy (returned as ``result.adata``) instead of ``adata``.
    max_iter, tol : per-fit stopping (relative decrease of the objective per iteration). At
        1e-4, 1 of 12 fits of a planted 6-program data set stopped on a plateau 5 % above the
        minimum (its decrease there hovered at 0.9-1.2e-4), which changed the chosen rank;
        1e-5 passes it (about 1.5× the iterations).

    Returns
    -------
    ProgramsResult

    Examples
    --------
    >>> import anndata, numpy as np, nmfbio
    >>> rng = np.random.default_rng(0)
    >>> P = rng.gamma(0.3, size=(3, 200)); U = rng.dirichlet(np.full(3, 0.2), size=300)
    >>> ad = anndata.AnnData(rng.poisson(U @ P * 20).astype(float))
    >>> res = nmfbio.programs.find(ad, ranks=[2, 3, 4], n_top_genes=150, restarts=8, seed=0)
    >>> res.rank, ad.obsm["X_programs"].shape
    (3, (300, 3))
    """
    if type(adata).__name__ != "AnnData":
        raise NMFInputError("programs.find needs an AnnData (cells × genes); read files with "
                            "nmfbio.io.read_expression")
    if copy:
        adata = adata.copy()
    counts = _counts(adata, layer)
    n_cells, n_genes = counts.shape
    gene_names = [str(g) for g in adata.var_names]
    cell_names = [str(c) for c in adata.obs_names]
    lib = library_sizes(counts)
    gene_tot = np.asarray(counts.sum(axis=0, dtype=np.float64)).ravel()
    if (lib == 0).any():
        warn(f"{int((lib == 0).sum())} cell(s) have no counts; they get zero usage",
             DataWarning)
    if (gene_tot == 0).any():
        warn(f"{int((gene_tot == 0).sum())} gene(s) have no counts; they are left out of the "
             "fit and get zero weight", DataWarning)
    live_cells = np.flatnonzero(lib > 0)
    cells = None if live_cells.size == n_cells else live_cells  # None: all, and no copy
    hv = overdispersed_genes(counts, n_top_genes, cells=cells)
    if hv.size < 2:
        raise NMFInputError("fewer than 2 genes vary across cells; nothing to factorize")
    Z, factor, _ = normalize_for_nmf(counts, hv, cells=cells)
    # genes × cells: the solver's features × samples (sparse stays sparse, dense is a view)
    Xg = features_by_samples(Z)
    del Z
    vals = Xg.data if sp.issparse(Xg) else Xg.ravel(order="K")
    norm2 = 0.5 * float(vals @ vals)
    del vals
    ranks = sorted({int(r) for r in ranks})
    if not ranks or ranks[0] < 1 or ranks[-1] > min(Xg.shape):
        raise NMFInputError(f"ranks must be integers in [1, {min(Xg.shape)}], got {ranks}")
    seed = check_seed(seed)
    seeds = child_seeds(seed, len(ranks))
    rows, results = [], {}
    for r, s in zip(progress(ranks, "programs: rank"), seeds, strict=True):
        con = consensus(Xg, r, restarts=restarts, loss="frobenius", seed=s,
                        max_iter=max_iter, tol=tol, threshold=threshold)
        results[r] = con
        rows.append((r, float(np.mean(con.stability)), float(np.min(con.stability)),
                     int(con.stable.sum()), con.loss / norm2))
    table = pd.DataFrame(rows, columns=["rank", "stability_mean", "stability_min", "n_stable",
                                        "error"]).set_index("rank")
    if rank is not None:
        k, rule = int(rank), f"rank {rank} given by the user"
        if k not in results:
            results[k] = consensus(Xg, k, restarts=restarts, loss="frobenius", seed=seed,
                                   max_iter=max_iter, tol=tol, threshold=threshold)
    else:
        best = table["stability_mean"].max()
        k = int(max(r for r in ranks if table.loc[r, "stability_mean"] >= best - 0.02))
        rule = (f"the most stable rank (mean cosine silhouette of its programs across "
                f"{restarts} restarts; the largest within 0.02 of the best)")
        if table.loc[k, "n_stable"] < k:
            rule += (f"; {k - int(table.loc[k, 'n_stable'])} of its programs are below the "
                     f"stability threshold {threshold:g} — treat them with care")
    con = results[k]
    W, dropped = _centre_without_outliers(con.run_W, con.W)
    H, _ = refit_H(Xg, W, loss="frobenius", _warn=False)
    names = [f"P{i + 1}" for i in range(k)]
    usage = np.zeros((n_cells, k))
    Ht = H.T
    tot = Ht.sum(axis=1, keepdims=True)
    usage[live_cells] = np.where(tot > 0, Ht / np.where(tot > 0, tot, 1), 0.0)
    del Xg, results
    # spectra on all genes, counts-per-cell units: X_cp (cells × genes) ≈ usage · Sᵀ, and
    # gene scores: regression of z-scored X_cp on the usages. Both need only UᵀX_cp and the
    # genes' moments, gathered a block of cells at a time (X_cp is never formed)
    U = usage[live_cells]
    s1, s2, UtX = scaled_sums(counts, factor, cells, U)
    live_genes = np.flatnonzero(gene_tot > 0)
    Ue = U + 1e-12  # (U + ε)ᵀ X_cp = UᵀX_cp + ε · column sums of X_cp
    spectra = np.zeros((n_genes, k))
    spectra[live_genes] = _nnls_gram(Ue.T @ Ue, UtX[:, live_genes] + 1e-12 * s1[live_genes]).T
    spectra /= np.where(spectra.sum(axis=0) > 0, spectra.sum(axis=0), 1.0)
    mean, var = moments_from_sums(s1, s2, live_cells.size)
    sd = np.where(var > 0, np.sqrt(var), 1.0)
    UtZ = (UtX - np.outer(U.sum(axis=0), mean)) / sd
    scores = np.linalg.lstsq(U.T @ U, UtZ, rcond=None)[0].T  # genes × k
    prog = pd.DataFrame(spectra, index=gene_names, columns=names)
    use = pd.DataFrame(usage, index=cell_names, columns=names)
    sc = pd.DataFrame(scores, index=gene_names, columns=names)
    top = pd.DataFrame({p: sc[p].sort_values(ascending=False).index[:n_top].tolist()
                        for p in names}, index=pd.RangeIndex(1, min(n_top, n_genes) + 1))
    order_stab = con.stability
    adata.obsm[_keys.obsm_key(key_added)] = usage
    adata.varm[_keys.varm_key(key_added)] = spectra
    adata.varm[f"{_keys.varm_key(key_added)}_scores"] = scores
    adata.uns[_keys.uns_key(key_added)] = {
        "params": dict(ranks=np.array(ranks), n_top_genes=int(n_top_genes),
                       restarts=int(restarts), seed=int(seed), threshold=float(threshold),
                       rank=int(k)),
        "rule": rule, "programs": np.array(names, dtype=object),
        "stability": np.asarray(order_stab, dtype=float),
        "outlier_runs": dropped, "genes_used": np.array([gene_names[g] for g in hv],
                                                         dtype=object),
        "rank_table": {c: table[c].to_numpy() for c in table.columns},
    }
    return ProgramsResult(programs=prog, usage=use, scores=sc, top_genes=top, rank=k,
                          table=table, stability=np.asarray(order_stab), rule=rule,
                          genes_used=[gene_names[g] for g in hv],
                          params=dict(adata.uns[_keys.uns_key(key_added)]["params"]), adata=adata)
