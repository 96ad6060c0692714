"""The PCA/ICA assembly baseline (Lopes-dos-Santos, Ribeiro & Tort 2013, J. Neurosci. Methods
220:149), used to start nmfbio's gated NMF and offered for comparison.

Counts are standardised per unit against each unit's own slowly varying background, the
number of assemblies is the number of eigenvalues of the units' correlation matrix above the
Marchenko–Pastur upper edge ``(1 + sqrt(n_units / n_bins))²``, and independent component
analysis (FastICA, symmetric, log-cosh contrast; Hyvärinen 1999) of the projections on those
principal components gives one weight vector per assembly, signed so its largest weight is
positive. Activation strength in each bin is ``(wᵀz)² − Σ w_i² z_i²`` (the projection with each
unit's own contribution removed). Members (:func:`nmfbio.assemblies.ica_baseline`): weights
above the vector's median + 2 robust SD (1.4826·MAD) — the paper's mean + 2 SD, made robust
because large assemblies inflate the plain SD. What is not here: the gated NMF detector and
its significance test (:mod:`nmfbio.assemblies.detect`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["marchenko_pastur_edge", "standardise", "fast_ica", "ica_patterns", "ica_activity"]


def marchenko_pastur_edge(n_units: int, n_bins: int) -> float:
    """Upper edge of the Marchenko–Pastur eigenvalue law for independent units.

    Examples
    --------
    >>> round(float(marchenko_pastur_edge(50, 24000)), 4)
    1.0934
    """
    return (1.0 + np.sqrt(n_units / n_bins)) ** 2


def standardise(X, background):
    """Pearson residuals ``(x − b)/√b``, then z-scored per unit; constant units give 0.

    Parameters
    ----------
    X : ndarray of shape (n_units, n_bins)
    background : ndarray of the same shape
        Expected count of each unit in each bin.

    Returns
    -------
    ndarray of shape (n_units, n_bins)

    Examples
    --------
    >>> Z = standardise(np.array([[0.0, 2.0, 1.0]]), np.ones((1, 3)))
    >>> Z.round(3).tolist()
    [[-1.225, 1.225, 0.0]]
    """
    Z = (X - background) / np.sqrt(np.maximum(background, 1e-12))
    Z -= Z.mean(axis=1, keepdims=True)
    sd = Z.std(axis=1, keepdims=True)
    return np.divide(Z, sd, out=np.zeros_like(Z), where=sd > 0)


def fast_ica(Y, *, seed=0, max_iter=500, tol=1e-8):
    """Symmetric FastICA with the log-cosh contrast on whitened rows of ``Y``.

    Parameters
    ----------
    Y : ndarray of shape (k, n)
        Rows uncorrelated with unit variance (e.g. projections on principal components).

    Returns
    -------
    ndarray of shape (k, k)
        Orthogonal unmixing matrix; ``U @ Y`` are the independent components.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(2, 5000)); A = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> X = A @ S; d, E = np.linalg.eigh(np.cov(X)); Y = (E / np.sqrt(d)).T @ X
    >>> U = fast_ica(Y); C = np.corrcoef(np.vstack([U @ Y, S]))[:2, 2:]
    >>> bool(np.all(np.abs(C).max(axis=1) > 0.99))
    True
    """
    k, n = Y.shape
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.normal(size=(k, k)))[0]
    for _ in range(max_iter):
        G = np.tanh(U @ Y)
        new = (G @ Y.T) / n - ((1.0 - G ** 2).mean(axis=1))[:, None] * U
        u, _, vt = np.linalg.svd(new)
        new = u @ vt
        done = np.max(np.abs(np.abs(np.einsum("ij,ij->i", new, U)) - 1.0)) < tol
        U = new
        if done:
            break
    return U


def ica_patterns(Z, n_components=None, *, seed=0):
    """Assembly weight vectors from standardised activity.

    Parameters
    ----------
    Z : ndarray of shape (n_units, n_bins)
        Standardised activity (:func:`standardise`).
    n_components : int, optional
        Number of patterns; by default the number of eigenvalues above the
        Marchenko–Pastur edge (at least 1 pattern is returned if ``n_components`` says so).
    seed : int

    Returns
    -------
    patterns : ndarray of shape (n_units, k)
        Unit-norm weight vectors, largest weight positive.
    eigenvalues : ndarray of shape (n_units,)
        Of the correlation matrix, descending.
    n_significant : int
        Eigenvalues above the Marchenko–Pastur edge.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Z = standardise(rng.poisson(1.0, (20, 5000)).astype(float), np.ones((20, 5000)))
    >>> ica_patterns(Z)[2]
    0
    """
    n_units, n_bins = Z.shape
    C = (Z @ Z.T) / n_bins
    evals, evecs = np.linalg.eigh(C)
    order = np.argsort(evals)[::-1]
    evals, evecs = evals[order], evecs[:, order]
    n_sig = int(np.sum(evals > marchenko_pastur_edge(n_units, n_bins)))
    k = n_sig if n_components is None else int(n_components)
    k = min(k, n_units)
    if k == 0:
        return np.zeros((n_units, 0)), evals, n_sig
    P = evecs[:, :k]
    Y = P.T @ Z
    Y /= np.maximum(Y.std(axis=1, keepdims=True), 1e-12)
    patterns = P @ fast_ica(Y, seed=seed).T
    patterns /= np.linalg.norm(patterns, axis=0)
    big = np.argmax(np.abs(patterns), axis=0)
    patterns *= np.sign(patterns[big, np.arange(k)])
    return patterns, evals, n_sig


def ica_activity(patterns, Z):
    """Activation strength ``(wᵀz)² − Σ_i w_i² z_i²`` of each pattern in each bin.

    Returns
    -------
    ndarray of shape (k, n_bins)

    Examples
    --------
    >>> ica_activity(np.array([[1.0], [1.0]]) / np.sqrt(2), np.array([[1.0, 1.0], [1.0, -1.0]]))
    array([[ 1., -1.]])
    """
    proj = patterns.T @ Z
    return proj ** 2 - (patterns.T ** 2) @ (Z ** 2)
