"""Gene selection and normalisation for gene-expression programs.

* :func:`overdispersed_genes` — the genes whose variance across cells most exceeds what their
  mean predicts: after scaling each cell to the median library size, ``log10(variance)`` is
  regressed on ``log10(mean)`` with a quadratic (refitted without the most over-dispersed
  tenth, so that the genes sought do not bend the trend), and genes are ranked by the residual (the
  idea of the v-score of Klein et al. 2015, Cell 161:1187, used by cNMF, Kotliar et al.
  2019, eLife 8:e43803).
* :func:`normalize_for_nmf` — counts per cell (to the median library size), then each gene
  scaled to unit variance **without centring**, so values stay non-negative.

Both work on sparse matrices without densifying them, and on dense ones a block of cells at
a time: no temporary the size of the whole cells × genes matrix is made (only per-gene
vectors and the selected genes' normalised matrix, which is the result).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["library_sizes", "overdispersed_genes", "normalize_for_nmf", "gene_moments",
           "cell_blocks", "median_scale", "scaled_sums", "moments_from_sums"]

#: values per block of cells when a dense matrix is processed a block at a time (2 MB)
BLOCK_VALUES = 1 << 18


def library_sizes(counts) -> np.ndarray:
    """Total counts per cell (rows of a cells × genes matrix), in float64."""
    return np.asarray(counts.sum(axis=1, dtype=np.float64)).ravel()


def median_scale(lib) -> np.ndarray:
    """Per-cell factor to the median library size of the cells with counts (0 for cells
    without counts)."""
    target = float(np.median(lib[lib > 0])) if (lib > 0).any() else 1.0
    return np.where(lib > 0, target / np.where(lib > 0, lib, 1), 0.0)


def cell_blocks(counts, cells=None, block_values=BLOCK_VALUES):
    """Blocks of rows of a cells × genes matrix, as float64 (dense array or CSR).

    Yields ``(pos, block)``: ``pos`` is the slice of ``cells`` (of all rows when None) the
    block holds. A dense float64 block of consecutive rows may be a view of ``counts``:
    callers must not write into it.
    """
    n = counts.shape[0] if cells is None else len(cells)
    step = max(1, block_values // max(counts.shape[1], 1))
    for start in range(0, n, step):
        pos = slice(start, min(start + step, n))
        rows = pos if cells is None else cells[pos]
        block = counts[rows]
        if sp.issparse(block):
            yield pos, sp.csr_matrix(block, dtype=np.float64)
        else:
            yield pos, np.asarray(block, dtype=np.float64)


def scaled_sums(counts, factor, cells=None, U=None):
    """Per-gene sums of ``X_s`` and ``X_s²`` for ``X_s = diag(factor) @ counts[cells]``, and
    ``UᵀX_s`` when ``U`` (rows matching ``cells``) is given, a block of cells at a time
    (``X_s`` is never formed).

    Returns
    -------
    s1, s2 : ndarray (n_genes,)
    UtX : ndarray (k, n_genes), or None without ``U``

    Examples
    --------
    >>> C = np.array([[1.0, 0.0], [2.0, 4.0]])
    >>> s1, s2, UtX = scaled_sums(C, np.array([2.0, 1.0]), U=np.ones((2, 1)))
    >>> s1.tolist(), s2.tolist(), UtX.tolist()
    ([4.0, 4.0], [8.0, 16.0], [[4.0, 4.0]])
    """
    n_genes = counts.shape[1]
    s1, s2 = np.zeros(n_genes), np.zeros(n_genes)
    UtX = None if U is None else np.zeros((U.shape[1], n_genes))
    for pos, block in cell_blocks(counts, cells):
        f = factor[pos]
        if sp.issparse(block):
            scaled = sp.csr_matrix(sp.diags(f) @ block)
            s1 += np.asarray(scaled.sum(axis=0)).ravel()
            s2 += np.asarray(scaled.multiply(scaled).sum(axis=0)).ravel()
            if U is not None:
                UtX += np.asarray(scaled.T @ U[pos]).T
        else:
            scaled = block * f[:, None]
            s1 += scaled.sum(axis=0)
            s2 += np.einsum("ij,ij->j", scaled, scaled)
            if U is not None:
                UtX += U[pos].T @ scaled
    return s1, s2, UtX


def moments_from_sums(s1, s2, n):
    """Per-gene mean and (population) variance from the sums of :func:`scaled_sums`.

    Examples
    --------
    >>> [v.tolist() for v in moments_from_sums(np.array([4.0]), np.array([10.0]), 2)]
    [[2.0], [1.0]]
    """
    mean = s1 / n
    return mean, np.maximum(s2 / n - mean * mean, 0.0)


def _scaled_moments(counts, factor, cells=None):
    """Per-gene mean and variance of ``diag(factor) @ counts[cells]``, a block at a time."""
    s1, s2, _ = scaled_sums(counts, factor, cells)
    return moments_from_sums(s1, s2, counts.shape[0] if cells is None else len(cells))


def gene_moments(M):
    """Per-gene mean and (population) variance of a cells × genes matrix."""
    return _scaled_moments(M, np.ones(M.shape[0]))


def overdispersed_genes(counts, n_top_genes=2000, *, cells=None):
    """Indices of the ``n_top_genes`` most over-dispersed genes (best first).

    Parameters
    ----------
    counts : ndarray or sparse matrix of shape (n_cells, n_genes)
        Raw counts.
    n_top_genes : int
    cells : array of int, optional
        Use only these rows (default: all).

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> C = rng.poisson(rng.gamma(1.0, 5.0, size=100), size=(200, 100)).astype(float)
    >>> C[:100, 7] *= 4   # gene 7 varies between cell groups
    >>> int(overdispersed_genes(C, 1)[0])
    7
    """
    lib = library_sizes(counts)
    if cells is not None:
        lib = lib[cells]
    mean, var = _scaled_moments(counts, median_scale(lib), cells)
    ok = (mean > 0) & (var > 0)
    idx = np.flatnonzero(ok)
    lm, lv = np.log10(mean[ok]), np.log10(var[ok])
    coef = np.array([0.0, 1.0, 0.0])
    inliers = np.ones(idx.size, dtype=bool)
    for _ in range(3):  # robust trend: refit without the most over-dispersed tenth
        if inliers.sum() > 3:
            coef = np.polyfit(lm[inliers], lv[inliers], 2)
        resid = lv - np.polyval(coef, lm)
        inliers = resid <= np.quantile(resid, 0.9)
    resid = lv - np.polyval(coef, lm)
    order = idx[np.argsort(-resid, kind="stable")]
    return order[:n_top_genes]


def _select(counts, cells, genes):
    """``counts[cells][:, genes]`` as a new float64 matrix (CSR when sparse), built without
    a copy of all genes."""
    n = counts.shape[0] if cells is None else len(cells)
    if sp.issparse(counts):
        sub = sp.csr_matrix(counts[:, genes], dtype=np.float64)
        if cells is not None:
            sub = sub[cells]
        if np.may_share_memory(sub.data, counts.data):  # never scale the caller's data
            sub = sub.copy()
        sub.sum_duplicates()
        sub.eliminate_zeros()
        return sub
    out = np.empty((n, len(genes)))
    for pos, block in cell_blocks(counts, cells):
        out[pos] = block[:, genes]
    return out


def normalize_for_nmf(counts, genes=None, *, cells=None):
    """Counts per cell (to the median library size over all genes), restricted to ``genes``,
    each gene scaled to unit variance without centring.

    Parameters
    ----------
    counts : ndarray or sparse matrix of shape (n_cells, n_genes)
    genes : array of int, optional
    cells : array of int, optional
        Use only these rows (default: all); the median library size is theirs.

    Returns
    -------
    normalized : float64, dense or CSR like ``counts`` (cells × selected genes), non-negative
    cell_factor : ndarray (n_cells,) or (len(cells),)
        Per-cell scaling applied (target / library size).
    gene_sd : ndarray (n_selected,)
        Standard deviation each gene was divided by.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]])
    >>> Z, _, sd = normalize_for_nmf(C)
    >>> bool((Z >= 0).all()), np.allclose(Z.std(axis=0), 1.0)
    (True, True)
    """
    lib = library_sizes(counts)
    if cells is not None:
        lib = lib[cells]
    factor = median_scale(lib)
    genes = np.arange(counts.shape[1]) if genes is None else np.asarray(genes)
    Z = _select(counts, cells, genes)  # a new matrix: scaled in place from here on
    _scale_rows_inplace(Z, factor)
    _, var = _scaled_moments(Z, np.ones(Z.shape[0]))
    sd = np.sqrt(var)
    sd = np.where(sd > 0, sd, 1.0)
    _scale_cols_inplace(Z, 1.0 / sd)
    return Z, factor, sd


def _scale_rows_inplace(M, factors):
    if sp.issparse(M):
        M.data *= np.repeat(factors, np.diff(M.indptr))
    else:
        M *= factors[:, None]


def _scale_cols_inplace(M, factors):
    if sp.issparse(M):
        M.data *= factors[M.indices]
    else:
        M *= factors[None, :]
