"""Gene selection and normalisation for gene-expression programs.

* :func:`overdispersed_genes` — the genes whose variance across cells most exceeds what their
  mean predicts: after scaling each cell to the median library size, ``log10(variance)`` is
  regressed on ``log10(mean)`` with a quadratic (refitted without the most over-dispersed
  tenth, so that the genes sought do not bend the trend), and genes are ranked by the residual (the
  idea of the v-score of Klein et al. 2015, Cell 161:1187, used by cNMF, Kotliar et al.
  2019, eLife 8:e43803).
* :func:`normalize_for_nmf` — counts per cell (to the median library size), then each gene
  scaled to unit variance **without centring**, so values stay non-negative.

Both work on sparse matrices without densifying them (only per-gene vectors are dense).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["library_sizes", "overdispersed_genes", "normalize_for_nmf", "gene_moments"]


def library_sizes(counts) -> np.ndarray:
    """Total counts per cell (rows of a cells × genes matrix)."""
    return np.asarray(counts.sum(axis=1)).ravel().astype(np.float64)


def _scale_rows(M, factors):
    if sp.issparse(M):
        return sp.csr_matrix(sp.diags(factors) @ M)
    return M * factors[:, None]


def _scale_cols(M, factors):
    if sp.issparse(M):
        return sp.csr_matrix(M @ sp.diags(factors))
    return M * factors[None, :]


def gene_moments(M):
    """Per-gene mean and (population) variance of a cells × genes matrix."""
    mean = np.asarray(M.mean(axis=0)).ravel()
    if sp.issparse(M):
        sq = np.asarray(M.multiply(M).mean(axis=0)).ravel()
    else:
        sq = (M * M).mean(axis=0)
    return mean, np.maximum(sq - mean * mean, 0.0)


def overdispersed_genes(counts, n_top_genes=2000):
    """Indices of the ``n_top_genes`` most over-dispersed genes (best first).

    Parameters
    ----------
    counts : ndarray or sparse matrix of shape (n_cells, n_genes)
        Raw counts.
    n_top_genes : int

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> C = rng.poisson(5.0, size=(200, 30)).astype(float)
    >>> C[:100, 7] = rng.poisson(40.0, size=100)   # gene 7 varies between cell groups
    >>> int(overdispersed_genes(C, 1)[0])
    7
    """
    lib = library_sizes(counts)
    target = float(np.median(lib[lib > 0])) if (lib > 0).any() else 1.0
    norm = _scale_rows(counts, np.where(lib > 0, target / np.where(lib > 0, lib, 1), 0.0))
    mean, var = gene_moments(norm)
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


def normalize_for_nmf(counts, genes=None):
    """Counts per cell (to the median library size over all genes), restricted to ``genes``,
    each gene scaled to unit variance without centring.

    Parameters
    ----------
    counts : ndarray or sparse matrix of shape (n_cells, n_genes)
    genes : array of int, optional

    Returns
    -------
    normalized : same kind as ``counts`` (cells × selected genes), non-negative
    cell_factor : ndarray (n_cells,)
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
    target = float(np.median(lib[lib > 0])) if (lib > 0).any() else 1.0
    factor = np.where(lib > 0, target / np.where(lib > 0, lib, 1), 0.0)
    sub = counts[:, genes] if genes is not None else counts
    norm = _scale_rows(sub, factor)
    _, var = gene_moments(norm)
    sd = np.sqrt(var)
    sd = np.where(sd > 0, sd, 1.0)
    return _scale_cols(norm, 1.0 / sd), factor, sd
