"""Resampling of count data for restarts, as the mutational-signature field does.

``"poisson"`` draws every entry from Poisson(x); ``"multinomial"`` redraws each sample
(column) from a multinomial with the sample's total count and its observed channel
proportions (SigProfilerExtractor's default resampling; Alexandrov et al. 2013, Cell
Reports 3:246). Both keep zeros at zero, so a sparse matrix keeps its sparsity pattern and is
never densified. Draws come from the given generator, so a seed reproduces them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["RESAMPLERS", "resample"]

RESAMPLERS = ("poisson", "multinomial")


def resample(X, how: str, rng: np.random.Generator):
    """One resampled copy of X (features × samples).

    Parameters
    ----------
    X : ndarray or csr_matrix of shape (n_features, n_samples)
        Validated, non-negative.
    how : {"poisson", "multinomial"}
    rng : numpy.random.Generator

    Returns
    -------
    ndarray or csr_matrix (float64), same shape and, if sparse, same pattern.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[10.0, 0.0], [30.0, 5.0]])
    >>> Y = resample(X, "multinomial", np.random.default_rng(0))
    >>> Y.sum(axis=0).tolist(), bool(Y[0, 1] == 0)
    ([40.0, 5.0], True)
    """
    if sp.issparse(X):
        out = X.copy()
        if how == "poisson":
            out.data = rng.poisson(X.data).astype(np.float64)
        else:
            csc = X.tocsc()
            vals = csc.data.copy()
            for j in range(csc.shape[1]):
                lo, hi = csc.indptr[j], csc.indptr[j + 1]
                vals[lo:hi] = _multinomial(csc.data[lo:hi], rng)
            out = sp.csc_matrix((vals, csc.indices, csc.indptr), shape=X.shape).tocsr()
            out.sort_indices()  # X's CSR pattern: explicit zeros are kept
        return out
    if how == "poisson":
        return rng.poisson(X).astype(np.float64)
    Y = np.empty_like(X)
    for j in range(X.shape[1]):
        Y[:, j] = _multinomial(X[:, j], rng)
    return Y


def _multinomial(col, rng):
    total = int(round(float(col.sum())))
    s = col.sum()
    if total <= 0 or s <= 0:
        return np.zeros_like(col)
    return rng.multinomial(total, col / s).astype(np.float64)
