"""Minimum-volume KL NMF: the data fit plus a log-det volume penalty on the parts.

Objective, with the columns of W on the unit simplex (each sums to 1)::

    KL(X | WH) + λ · log det(WᵀW + δ I) + l1_H · ΣH

When the data do not pin the cone down (no pure samples: flat, overlapping signatures
such as SBS3/SBS5/SBS40 mixed in every tumour), plain NMF returns any of many cones that
fit equally well, usually too wide ones whose parts are blends; the volume term picks the
tightest cone that still fits (Fu et al. 2019, IEEE Signal Process Mag 36:59; for
signatures MuSiCal, Jin et al. 2024, Nat Genet 56:541). λ is set from a dimensionless
``λ̃`` as in MuSiCal: ``λ = λ̃ · KL(X | W₀H₀) / |log det(W₀ᵀW₀ + δ I)|`` with (W₀, H₀) the
plain KL fit of run 0, so one λ holds for every run of a call (whatever the batches or
shards) and the two terms are of comparable size at λ̃ = 1.

The algorithm is a majorise-minimise scheme derived here (in the spirit of Leplat, Gillis
and Ang 2020, IEEE TSP 68:3400), so the objective never increases:

* H: the Lee–Seung multiplicative step for KL (with ``l1_H`` in the denominator, masks
  weighting the data);
* W: log det is concave in WᵀW, so it is majorised by its tangent ``tr(Z WᵀW)`` with
  ``Z = (W̃ᵀW̃ + δ I)⁻¹`` at the current W̃. Per row w of W, ``wᵀZ⁺w`` (the positive
  entries of Z) is majorised by the separable ``Σₖ (Z⁺w̃)ₖ wₖ² / w̃ₖ``, and ``−wᵀZ⁻w`` (the
  negative entries) through ``wₖwₗ ≥ w̃ₖw̃ₗ(1 + log(wₖ/w̃ₖ) + log(wₗ/w̃ₗ))`` by
  ``−2 Σₖ w̃ₖ(Z⁻w̃)ₖ log wₖ``; the KL term by Jensen's inequality. Each entry then
  minimises ``p w² + q w − b log w`` (p, b > 0) with ``q`` shifted by one Lagrange
  multiplier per column for the simplex; the root is closed-form, and each column's
  multiplier is found by Newton's method on a convex decreasing function (monotone from a
  start where the column sums to at least 1).

Runs start from plain KL fits (``core.nmf_runs`` fits those first). Each run is fitted on
its own, so its numbers do not depend on the batch. Dense and sparse data (the model is
evaluated at stored entries only) and masks are supported.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nmfbio.solver.losses import KL

__all__ = ["fit_minvol", "volume_weight", "volume_lambda", "log_volume", "DEFAULT_DELTA"]

#: δ in log det(WᵀW + δ I) (MuSiCal's default)
DEFAULT_DELTA = 1.0
_FLOOR = 1e-12  # parts and recipes are kept at least this (multiplicative steps)


def log_volume(W: np.ndarray, delta: float = DEFAULT_DELTA) -> float:
    """``log det(WᵀW + δ I)`` (natural log), in float64.

    Examples
    --------
    >>> round(log_volume(np.eye(3)[:, :2], 1.0), 6)   # det = 2 · 2
    1.386294
    """
    r = W.shape[1]
    sign, value = np.linalg.slogdet(W.T @ W + delta * np.eye(r))
    return float(value)


def volume_lambda(lam_tilde: float, fit: float, W0, delta: float = DEFAULT_DELTA) -> float:
    """λ from λ̃ and the data fit ``fit`` = KL(X | W₀H₀) of a fit with parts W₀ (columns on
    the simplex): ``λ̃ · fit / |log det(W₀ᵀW₀ + δ I)|``."""
    return float(lam_tilde * fit / max(abs(log_volume(W0, delta)), 1e-12))


def volume_weight(lam_tilde: float, X, W0, H0, mask=None, delta: float = DEFAULT_DELTA):
    """λ from λ̃ at the fit (W₀, H₀) of X: :func:`volume_lambda` of its KL loss."""
    return volume_lambda(lam_tilde, KL().value(X, W0, H0, mask), W0, delta)


def _ratio(X, W, H, mask):
    """X / (WH) as an operator: dense array (zero where masked), or a CSR matrix with the
    model evaluated at the stored entries only."""
    if sp.issparse(X):
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        model = np.einsum("ij,ji->i", W[rows], H[:, X.indices])
        values = X.data / np.maximum(model, 1e-300)
        if mask is not None:  # held-out stored entries count for nothing
            values = values * mask[rows, X.indices]
        return sp.csr_matrix((values, X.indices, X.indptr), shape=X.shape)
    R = X / np.maximum(W @ H, 1e-300)
    if mask is not None:
        R = R * mask
    return R


def _root(p, q, b):
    """The positive root w of 2p w² + q w − b = 0 (computed without cancellation), and
    s = sqrt(q² + 8pb)."""
    s = np.sqrt(q * q + 8 * p * b)
    return np.where(q >= 0, 2 * b / np.maximum(q + s, 1e-300), (s - q) / (4 * p)), s


def _column_multipliers(p, q0, b, n_newton=50):
    """μ (one per column) with Σᵢ w(q0 + μ) = 1 for w the positive root of
    2p w² + q w − b = 0; and the resulting W."""
    mu = np.max(b - 2 * p - q0, axis=0)  # some w ≥ 1 there: the column sums ≥ 1
    for _ in range(n_newton):
        w, s = _root(p, q0 + mu, b)
        phi = w.sum(axis=0) - 1.0
        dphi = -(w / np.maximum(s, 1e-300)).sum(axis=0)
        step = phi / np.minimum(dphi, -1e-300)
        mu = mu - step
        if np.all(np.abs(phi) <= 1e-13):
            break
    w, _ = _root(p, q0 + mu, b)
    return w / w.sum(axis=0)  # the last Newton residual (≤ 1e-13) removed


def fit_minvol(X, W, H, *, lam, delta=DEFAULT_DELTA, l1_H=0.0, mask=None, max_iter=1000,
               tol=1e-5, check_every=10):
    """Minimum-volume KL NMF of one run from (W, H) (see the module docstring).

    Parameters
    ----------
    X : ndarray or csr_matrix (n_features, n_samples)
    W, H : ndarray
        Start; W's columns are rescaled to sum to 1 (H takes the scale).
    lam : float
        λ (absolute; :func:`volume_weight` computes it from λ̃).
    delta, l1_H, mask, max_iter, tol
        ``tol``: the run stops when the objective's relative decrease over ``check_every``
        iterations falls below ``tol · check_every``.

    Returns
    -------
    W, H : ndarray
    history : list of float
        The objective (data fit + λ·log det + l1_H·ΣH) at the start and at every check.
    n_iter : int
    converged : bool

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(rng.dirichlet(np.ones(12), 3).T @ rng.gamma(1, 50, (3, 40)))
    >>> X = X.astype(float)
    >>> W0, H0 = rng.random((12, 3)) + 0.1, rng.random((3, 40)) + 0.1
    >>> W, H, hist, n_iter, conv = fit_minvol(X, W0, H0, lam=5.0)
    >>> bool(np.all(np.diff(hist) <= 1e-9 * abs(hist[0]))), np.allclose(W.sum(0), 1)
    (True, True)
    """
    W = np.maximum(np.asarray(W, dtype=float), _FLOOR)
    H = np.maximum(np.asarray(H, dtype=float), _FLOOR)
    scale = W.sum(axis=0)
    W, H = W / scale, H * scale[:, None]
    m, r = W.shape
    eye = delta * np.eye(r)
    kl = KL()
    weight = mask.astype(float) if mask is not None else None

    def objective(W, H):
        return (kl.value(X, W, H, mask) + lam * log_volume(W, delta) + l1_H * float(H.sum()))

    history = [objective(W, H)]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        # H: Lee–Seung multiplicative step (monotone for KL)
        R = _ratio(X, W, H, mask)
        denom_H = (W.T @ weight if weight is not None else
                   np.broadcast_to(W.sum(axis=0)[:, None], H.shape)) + l1_H
        H = np.maximum(H * (W.T @ R) / np.maximum(denom_H, 1e-300), _FLOOR)
        # W: closed-form minimiser of the majoriser on the simplex
        R = _ratio(X, W, H, mask)
        Z = np.linalg.inv(W.T @ W + eye)
        Zp, Zm = np.maximum(Z, 0), np.maximum(-Z, 0)
        a = (weight @ H.T) if weight is not None else np.broadcast_to(H.sum(axis=1), (m, r))
        b = W * (R @ H.T) + 2 * lam * W * (W @ Zm)
        p = lam * (W @ Zp) / W
        W = np.maximum(_column_multipliers(p, np.asarray(a), b), _FLOOR)
        W = W / W.sum(axis=0)
        if it % check_every == 0 or it == max_iter:
            history.append(objective(W, H))
            prev, cur = history[-2], history[-1]
            if prev - cur <= tol * check_every * abs(prev):
                converged = True
                break
    return W, H, history, it, converged
