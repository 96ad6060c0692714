"""Initial factors for the solver: seeded random, NNDSVD and its variants, or user-given.

NNDSVD follows Boutsidis & Gallopoulos (2008, Pattern Recognition 41:1350, "SVD based
initialization: a head start for nonnegative matrix factorization"): the leading singular
pair gives the first component, and each later pair is split into its positive and negative
parts, keeping the part with the larger norm product. ``nndsvda`` fills the zeros with the
mean of X (better for KL), ``nndsvdar`` with small random values. The SVD is exact for small
dense matrices and a seeded randomized SVD (Halko, Martinsson & Tropp 2011) otherwise, so
the same seed always gives the same start. ``"spa"`` starts W at anchor samples found by
the successive projection algorithm (:func:`spa`; reports and separable fits are in
``nmfbio.anchors``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = ["INITS", "initialize", "randomized_svd", "spa"]

INITS = ("auto", "random", "nndsvd", "nndsvda", "nndsvdar", "spa", "custom")
_EXACT_SVD_MAX = 400  # exact SVD when min(shape) is at most this (dense only)


def _mean(X, mask) -> float:
    if sp.issparse(X):
        return float(X.sum()) / (X.shape[0] * X.shape[1])
    if mask is not None:
        n_obs = int(mask.sum())
        return float(X[mask].sum()) / max(n_obs, 1)
    return float(X.mean())


def randomized_svd(X, rank: int, rng: np.random.Generator, n_oversamples: int = 10,
                   n_iter: int = 4):
    """Seeded randomized truncated SVD of a dense or sparse matrix.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (m, n)
    rank : int
    rng : numpy.random.Generator
    n_oversamples, n_iter : int
        Extra sketch columns and power iterations.

    Returns
    -------
    U : ndarray of shape (m, rank)
    s : ndarray of shape (rank,)
    Vt : ndarray of shape (rank, n)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.outer([1.0, 2.0, 3.0], [1.0, 1.0])
    >>> U, s, Vt = randomized_svd(X, 1, np.random.default_rng(0))
    >>> bool(np.allclose(U * s @ Vt, X))
    True
    """
    m, n = X.shape
    k = min(rank + n_oversamples, m, n)
    Q = X @ rng.standard_normal((n, k))
    Q, _ = np.linalg.qr(Q)
    for _ in range(n_iter):
        Z, _ = np.linalg.qr(X.T @ Q)
        Q, _ = np.linalg.qr(X @ Z)
    Bm = np.asarray((X.T @ Q).T)
    Ub, s, Vt = scipy.linalg.svd(Bm, full_matrices=False)
    U = Q @ Ub
    return U[:, :rank], s[:rank], Vt[:rank]


def _svd(X, rank, rng):
    if not sp.issparse(X) and min(X.shape) <= _EXACT_SVD_MAX:
        U, s, Vt = scipy.linalg.svd(X, full_matrices=False)
        return U[:, :rank], s[:rank], Vt[:rank]
    return randomized_svd(X, rank, rng)


def spa(X, rank: int, *, denoise: bool = True, rng=None) -> np.ndarray:
    """Successive projection algorithm: indices of ``rank`` candidate anchor samples.

    Samples (columns of X) are scaled to sum 1, so pure samples are the vertices of the
    simplex that holds all samples when the data are separable (every part has a sample
    made of it alone). SPA (Araújo et al. 2001; Gillis & Vavasis 2014, IEEE TPAMI 36:698)
    repeatedly picks the sample of largest norm and projects all samples onto the orthogonal
    complement of it. With ``denoise`` the samples are first projected onto the leading
    ``rank`` singular vectors, which makes the choice robust to noise (and never densifies a
    sparse X).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_features, n_samples), non-negative
    rank : int
    denoise : bool, default True
    rng : numpy.random.Generator, optional
        For the randomized SVD of large or sparse X.

    Returns
    -------
    ndarray of int, shape (rank,)
        Column indices into X, in the order they were found.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> H = np.array([[0.5, 1.0, 0.2, 0.0], [0.5, 0.0, 0.8, 2.0]])
    >>> sorted(spa(W @ H, 2).tolist())
    [1, 3]
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    s = np.asarray(X.sum(axis=0)).ravel()
    live = np.flatnonzero(s > 0)
    scale = 1.0 / s[live]
    if sp.issparse(X):
        Y = sp.csc_matrix(X)[:, live] @ sp.diags(scale)
        denoise = True
    else:
        Y = X[:, live] * scale
    if denoise:
        U, _, _ = _svd(Y, rank, rng)
        Z = np.asarray((Y.T @ U).T)  # (rank, n_live): coordinates in the leading subspace
    else:
        Z = np.array(Y, dtype=np.float64)
    R = Z.copy()
    chosen = []
    for _ in range(rank):
        norms = np.einsum("ij,ij->j", R, R)
        norms[chosen] = -1.0
        j = int(np.argmax(norms))
        chosen.append(j)
        u = R[:, j] / max(np.sqrt(norms[j]), 1e-300)
        R -= np.outer(u, u @ R)
    return live[np.array(chosen, dtype=int)]


def _spa_init(X, rank, rng, mask):
    if mask is not None:
        X = np.where(mask, X, _mean(X, mask))
    idx = spa(X, rank, rng=rng)
    cols = X[:, idx]
    W = np.asarray(cols.todense() if sp.issparse(cols) else cols, dtype=np.float64)
    W /= np.maximum(W.sum(axis=0), 1e-300)
    # least-squares recipes, clipped: a start, refined by the solver
    P = np.linalg.pinv(W)                         # (rank, m)
    H = np.asarray((X.T @ P.T).T)                 # (rank, n), sparse-safe
    floor = 1e-3 * max(_mean(X, None), 1e-12) * X.shape[0] / rank
    H = np.maximum(H, floor)
    W = np.maximum(W, 1e-6 / X.shape[0])
    return W, H


def _nndsvd(X, rank, rng, variant, mask):
    if mask is not None:
        X = np.where(mask, X, _mean(X, mask))
    U, s, Vt = _svd(X, rank, rng)
    m, n = X.shape
    W = np.zeros((m, rank))
    H = np.zeros((rank, n))
    W[:, 0] = np.sqrt(s[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(s[0]) * np.abs(Vt[0, :])
    for j in range(1, rank):
        x, y = U[:, j], Vt[j, :]
        xp, xn = np.maximum(x, 0), np.maximum(-x, 0)
        yp, yn = np.maximum(y, 0), np.maximum(-y, 0)
        nxp, nyp = np.linalg.norm(xp), np.linalg.norm(yp)
        nxn, nyn = np.linalg.norm(xn), np.linalg.norm(yn)
        if nxp * nyp >= nxn * nyn:
            u, v, sigma = xp, yp, nxp * nyp
            nu, nv = nxp, nyp
        else:
            u, v, sigma = xn, yn, nxn * nyn
            nu, nv = nxn, nyn
        if nu > 0 and nv > 0:
            lam = np.sqrt(s[j] * sigma)
            W[:, j] = lam * u / nu
            H[j, :] = lam * v / nv
    eps = 1e-6 * max(W.max(), H.max(), 1e-300)
    W[W < eps] = 0
    H[H < eps] = 0
    if variant == "nndsvda":
        avg = _mean(X, None)
        W[W == 0] = avg
        H[H == 0] = avg
    elif variant == "nndsvdar":
        avg = _mean(X, None)
        zw, zh = W == 0, H == 0
        W[zw] = np.abs(avg * rng.standard_normal(int(zw.sum())) / 100)
        H[zh] = np.abs(avg * rng.standard_normal(int(zh.sum())) / 100)
    return W, H


def initialize(X, rank: int, init: str, rng: np.random.Generator, mask=None,
               W_init=None, H_init=None):
    """Initial ``(W, H)`` of shapes (n_features, rank) and (rank, n_samples).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_features, n_samples)
        Validated, non-negative data.
    rank : int
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "spa", "custom"}
        ``"auto"`` must already have been resolved by the caller.
    rng : numpy.random.Generator
    mask : bool ndarray, optional
        Observed entries; unobserved ones are filled with the observed mean for the SVD.
    W_init, H_init : ndarray, optional
        Used (copied) for ``"custom"``; a missing one is drawn at random.

    Returns
    -------
    W, H : ndarray (float64, freshly allocated)

    Examples
    --------
    >>> import numpy as np
    >>> W, H = initialize(np.ones((4, 3)), 2, "random", np.random.default_rng(0))
    >>> W.shape, H.shape
    ((4, 2), (2, 3))
    """
    m, n = X.shape
    if init == "random" or (init == "custom" and (W_init is None or H_init is None)):
        avg = np.sqrt(max(_mean(X, mask), 1e-12) / rank)
        W = avg * np.abs(rng.standard_normal((m, rank)))
        H = avg * np.abs(rng.standard_normal((rank, n)))
        if init == "custom":
            if W_init is not None:
                W = np.array(W_init, dtype=np.float64)
            if H_init is not None:
                H = np.array(H_init, dtype=np.float64)
        return W, H
    if init == "custom":
        return np.array(W_init, dtype=np.float64), np.array(H_init, dtype=np.float64)
    if init == "spa":
        return _spa_init(X, rank, rng, mask)
    return _nndsvd(X, rank, rng, init, mask)
