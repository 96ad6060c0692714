"""Gated Poisson NMF: X ≈ B S + W Z with binary, rarely-on gates Z, fitted by EM.

The model behind assembly detection (:mod:`nmfbio.assemblies`), on arrays only. Counts
``x_it`` (features × samples, e.g. units × time bins) are Poisson with rate

    λ_it = b_i(t) + Σ_k z_kt · w_ik,      z_kt ∈ {0, 1},  P(z_kt = 1) = π_k

where ``b_i(t) = Σ_l B_il S_lt`` is each feature's own slowly varying background (``S`` is a
fixed non-negative basis of piecewise-linear "hat" functions, one knot every ``timescale``
samples, so drift is absorbed) and ``W ≥ 0`` holds the extra rate each feature gains while a
component is on. This is NMF whose recipe rows are on/off gates instead of free non-negative
numbers: with free recipes, KL-NMF fits the Poisson noise of every sample (each bin gets its
own activation), whereas a gate must explain a bin with a whole pattern or not at all.

EM: the E-step gives each gate's posterior ``q_kt`` by a sequential mean-field pass over the
components within each sample (the other components enter through their current posterior
rate); the M-step splits every count among background and components by their expected
share and re-estimates ``B``, ``W`` and ``π`` in closed form. Only non-zero counts are
visited (spike counts in short bins are mostly zero): one iteration costs O(nnz·k + n·k).
The log-likelihood reported is the plug-in (mean-field) one, in float64.

What is not here: candidate patterns, significance and membership (:mod:`nmfbio.assemblies`).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from nmfbio.solver._ccd import KERNEL_LOCK  # also selects numba's threading layer

__all__ = ["hat_basis", "gated_nmf", "GatedFit", "gate_llr", "gate_terms", "llr_from_terms",
           "Nonzeros"]

_CACHE = True


def hat_basis(n_samples: int, timescale: float):
    """Knot index and weight of a piecewise-linear basis with a knot every ``timescale``.

    Returns
    -------
    left : ndarray of int, shape (n_samples,)
        Index of the knot on the left of each sample.
    frac : ndarray of float, shape (n_samples,)
        Weight of the knot on the right (the left knot gets ``1 - frac``).
    n_knots : int

    Examples
    --------
    >>> left, frac, n = hat_basis(5, 2)
    >>> n, left.tolist(), frac.round(2).tolist()
    (3, [0, 0, 1, 1, 1], [0.0, 0.5, 0.0, 0.5, 1.0])
    """
    n_seg = max(int(round((n_samples - 1) / max(timescale, 1.0))), 1)
    pos = np.arange(n_samples) * (n_seg / max(n_samples - 1, 1))
    left = np.minimum(np.floor(pos).astype(np.int64), n_seg - 1)
    return left, pos - left, n_seg + 1


@numba.njit(cache=_CACHE)
def _background(B, left, frac, i, t):
    return B[i, left[t]] * (1.0 - frac[t]) + B[i, left[t] + 1] * frac[t]


@numba.njit(parallel=True, cache=_CACHE)
def _background_dense(B, left, frac, out):
    """``out[i, t] = B[i, left_t] (1 − frac_t) + B[i, left_t + 1] frac_t`` (rows in parallel)."""
    for i in numba.prange(B.shape[0]):
        for t in range(left.size):
            out[i, t] = _background(B, left, frac, i, t)


@numba.njit(cache=_CACHE)
def _em_range(t0, t1, indptr, rows, vals, B, W, comp_ptr, comp_idx, q_idle, idle, q, left,
              frac, update, numB, numW):
    """One EM iteration's E-step and M-step sums over the non-zero counts; returns Σ x log λ.

    Components are visited only through the features where their W is non-zero
    (``comp_ptr``/``comp_idx``: CSR of W's support by feature), so a sparse W costs little.
    The E-step updates the gates of a sample together (Jacobi mean-field): a component with
    no count among its features in a sample gets the idle posterior ``q_idle`` = σ(``idle``),
    ``idle = logit(π) − Σ_i w_i``.
    """
    k = W.shape[1]
    loglik = 0.0
    mu = np.empty(64)
    llr = np.empty(k)
    touched = np.zeros(k, dtype=np.bool_)
    for t in range(t0, t1):
        start, stop = indptr[t], indptr[t + 1]
        nnz = stop - start
        if mu.size < nnz:
            mu = np.empty(2 * nnz)
        for p in range(nnz):  # λ at the non-zero counts of this sample
            i = rows[start + p]
            lam = _background(B, left, frac, i, t)
            for j in range(comp_ptr[i], comp_ptr[i + 1]):
                c = comp_idx[j]
                lam += W[i, c] * q[c, t]
            mu[p] = lam
        if update:
            for c in range(k):
                llr[c] = 0.0
                touched[c] = False
            for p in range(nnz):
                i = rows[start + p]
                for j in range(comp_ptr[i], comp_ptr[i + 1]):
                    c = comp_idx[j]
                    other = mu[p] - W[i, c] * q[c, t]
                    llr[c] += vals[start + p] * np.log1p(W[i, c] / max(other, 1e-300))
                    touched[c] = True
            for c in range(k):
                if touched[c]:
                    z = llr[c] + idle[c]
                    new = 1.0 / (1.0 + np.exp(-z)) if z > -700.0 else 0.0
                else:
                    new = q_idle[c]
                if new != q[c, t]:
                    for p in range(nnz):
                        i = rows[start + p]
                        if W[i, c] > 0.0:
                            mu[p] += W[i, c] * (new - q[c, t])
                    q[c, t] = new
        for p in range(nnz):  # M-step: split each count among the sources
            i = rows[start + p]
            x = vals[start + p]
            loglik += x * np.log(max(mu[p], 1e-300))
            rest = x
            for j in range(comp_ptr[i], comp_ptr[i + 1]):
                c = comp_idx[j]
                if q[c, t] > 0.0:
                    other = mu[p] - W[i, c] * q[c, t]
                    share = x * q[c, t] * W[i, c] / max(other + W[i, c], 1e-300)
                    numW[i, c] += share
                    rest -= share
            bg = _background(B, left, frac, i, t)
            if bg > 0.0:
                l0 = left[t]
                numB[i, l0] += rest * B[i, l0] * (1.0 - frac[t]) / bg
                numB[i, l0 + 1] += rest * B[i, l0 + 1] * frac[t] / bg
    return loglik


@numba.njit(cache=_CACHE, parallel=True)
def _em_pass(indptr, rows, vals, B, W, comp_ptr, comp_idx, q_idle, idle, q, left, frac,
             update, numB, numW, n_chunks):
    """:func:`_em_range` over ``n_chunks`` ranges of samples in parallel (the gates of
    different samples are independent given the parameters); M-step sums per chunk, added
    in chunk order so the result does not depend on the thread count."""
    n = indptr.size - 1
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64)
    partB = np.zeros((n_chunks,) + numB.shape)
    partW = np.zeros((n_chunks,) + numW.shape)
    part_ll = np.zeros(n_chunks)
    for ch in numba.prange(n_chunks):
        part_ll[ch] = _em_range(bounds[ch], bounds[ch + 1], indptr, rows, vals, B, W,
                                comp_ptr, comp_idx, q_idle, idle, q, left, frac, update,
                                partB[ch], partW[ch])
    loglik = 0.0
    for ch in range(n_chunks):
        numB += partB[ch]
        numW += partW[ch]
        loglik += part_ll[ch]
    return loglik


def _support(W):
    """CSR (by feature) of the components with non-zero weight."""
    rows, cols = np.nonzero(W > 0)
    ptr = np.zeros(W.shape[0] + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return np.cumsum(ptr), cols.astype(np.int64)


def _columns(X):
    """CSC arrays of X (features × samples): one column per sample."""
    M = sp.csc_matrix(X, dtype=np.float64) if not sp.issparse(X) else X.tocsc()
    M.sum_duplicates()
    M.eliminate_zeros()
    return (M.indptr.astype(np.int64), M.indices.astype(np.int64),
            M.data.astype(np.float64))


class GatedFit:
    """Result of :func:`gated_nmf`.

    Attributes
    ----------
    W : ndarray of shape (n_features, k)
        Extra rate (counts per sample) of each feature while a component is on.
    q : ndarray of shape (k, n_samples)
        Posterior probability that each component is on in each sample.
    pi : ndarray of shape (k,)
        Prior probability of each component being on.
    B : ndarray of shape (n_features, n_knots)
        Background coefficients on the hat basis; ``background()`` evaluates them.
    loglik : list of float
        Plug-in Poisson log-likelihood (without the ``log x!`` constant) per iteration.
    n_iter : int
    converged : bool
    """

    def __init__(self, W, q, pi, B, left, frac, loglik, n_iter, converged):
        self.W, self.q, self.pi, self.B = W, q, pi, B
        self._left, self._frac = left, frac
        self.loglik, self.n_iter, self.converged = loglik, n_iter, converged

    def background(self):
        """The background rate of each feature in each sample, shape (n_features, n_samples).

        Computed once and cached (treat it as read-only).
        """
        if getattr(self, "_bg", None) is None:
            self._bg = np.empty((self.B.shape[0], self._left.size))
            with KERNEL_LOCK:
                _background_dense(np.ascontiguousarray(self.B, dtype=np.float64),
                                  self._left, np.ascontiguousarray(self._frac), self._bg)
        return self._bg


def gated_nmf(X, q_init=None, *, W_init=None, timescale=1200.0, max_iter=300, tol=1e-7,
              min_pi=1e-4, update_gates=True, B_init=None, pi_init=None):
    """Fit the gated Poisson model ``X ≈ B S + W Z`` by EM.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_features, n_samples)
        Non-negative counts (validated by the caller).
    q_init : ndarray of shape (k, n_samples), optional
        Starting gate probabilities (e.g. 0/1 guesses); ``W`` then starts from the excess
        counts in those samples. One of ``q_init`` / ``W_init`` is needed when k > 0.
    W_init : ndarray of shape (n_features, k), optional
        Starting extra rates; the first E-step then sets the gates.
    timescale : float, default 1200
        Samples between background knots (1200 bins of 25 ms = 30 s).
    max_iter, tol : int, float
        Stop when the log-likelihood's relative change falls below ``tol``.
    min_pi : float, default 1e-4
        Floor of each prior π (a component whose gate never opens has π → 0).
    update_gates : bool, default True
        False keeps ``q_init`` fixed (fits background and W only).
    B_init : ndarray of shape (n_features, n_knots), optional
    pi_init : ndarray of shape (k,), optional
        Starting priors (default: the mean of ``q_init``, or 0.02).

    Returns
    -------
    GatedFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.random(4000) < 0.05
    >>> rate = np.full((6, 4000), 0.2); rate[:3, z] *= 8  # extra rate 0.2 × 7 = 1.4
    >>> fit = gated_nmf(rng.poisson(rate), z[None].astype(float), timescale=4000)
    >>> bool(np.corrcoef(fit.q[0], z)[0, 1] > 0.8), fit.W[:, 0].round(1).tolist()
    (True, [1.4, 1.4, 1.5, 0.0, 0.0, 0.0])
    """
    m, n = X.shape
    indptr, rows, vals = _columns(X)
    left, frac, n_knots = hat_basis(n, timescale)
    den_B = np.bincount(left, weights=1.0 - frac, minlength=n_knots)
    den_B += np.bincount(left + 1, weights=frac, minlength=n_knots)
    row_mean = np.bincount(rows, weights=vals, minlength=m) / n
    if B_init is None:
        B = np.tile(np.maximum(row_mean, 1e-12)[:, None], (1, n_knots))
    else:
        B = np.array(B_init, dtype=np.float64)
    if q_init is not None:
        q = np.array(q_init, dtype=np.float64, ndmin=2)
        k = q.shape[0]
        if W_init is None:
            Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
            on = np.maximum(q.sum(1), 1.0)
            excess = Xd @ q.T - row_mean[:, None] * q.sum(1)
            W = np.maximum(excess / on, 0.0)
            # start from the features with clear excess (z > 2), at least the top two
            z = excess / np.sqrt(np.maximum(row_mean[:, None] * q.sum(1), 1e-12))
            top2 = np.argsort(-z, axis=0)[:2]
            keep = z > 2.0
            keep[top2, np.arange(k)] = True
            W = np.where(keep, np.maximum(W, 1e-3 * np.maximum(row_mean, 1e-9)[:, None]), 0.0)
        else:
            W = np.array(W_init, dtype=np.float64)
    elif W_init is not None:
        W = np.array(W_init, dtype=np.float64, ndmin=2)
        k = W.shape[1]
        q = np.zeros((k, n))
    else:
        k, W, q = 0, np.zeros((m, 0)), np.zeros((0, n))
    if pi_init is not None:
        pi = np.clip(np.asarray(pi_init, dtype=np.float64), min_pi, 0.5)
    else:
        pi = np.clip(q.mean(1), min_pi, 0.5) if q_init is not None else np.full(k, 0.02)

    # fixed chunking (not the thread count): the same result on any machine
    n_chunks = int(min(max(rows.size // 50_000, 1), 16))
    history: list[float] = []
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        numB = np.zeros_like(B)
        numW = np.zeros_like(W)
        logit = np.log(pi) - np.log1p(-pi)
        comp_ptr, comp_idx = _support(W)
        idle = logit - W.sum(0)
        q_idle = np.where(idle > -700, 1.0 / (1.0 + np.exp(-np.maximum(idle, -700))), 0.0)
        with KERNEL_LOCK:
            ll = _em_pass(indptr, rows, vals, B, W, comp_ptr, comp_idx, q_idle, idle, q, left,
                          frac, bool(update_gates and k > 0), numB, numW, n_chunks)
        ll -= (B @ den_B).sum() + W.sum(0) @ q.sum(1)
        history.append(float(ll))
        # M-step
        B = np.where(den_B > 0, numB / np.maximum(den_B, 1e-300), B)
        if k:
            on = q.sum(1)
            W = np.where(on > 1e-12, numW / np.maximum(on, 1e-300), W)  # zeros stay zero
            if update_gates:
                pi = np.clip(q.mean(1), min_pi, 0.5)
        if it > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-1]):
            converged = True
            break
    return GatedFit(W, q, pi, B, left, frac, history, it, converged)


class Nonzeros:
    """The non-zero counts of X (features × samples) as flat arrays, computed once.

    Attributes: ``rows``, ``cols``, ``vals`` and ``shape``.
    """

    def __init__(self, X):
        M = sp.coo_matrix(X)
        M.sum_duplicates()
        keep = M.data != 0
        self.rows, self.cols = M.row[keep].astype(np.int64), M.col[keep].astype(np.int64)
        self.vals = M.data[keep].astype(np.float64)
        self.shape = M.shape


def gate_terms(nz: Nonzeros, W, b_nz):
    """Per non-zero count, ``x log(1 + w_ik / b)`` for each component, shape (k, nnz).

    ``b_nz`` is the background at the non-zero entries (``background[nz.rows, nz.cols]``).
    """
    out = np.zeros((W.shape[1], nz.vals.size))
    for c in range(W.shape[1]):
        w = W[nz.rows, c]
        on = w > 0
        out[c, on] = nz.vals[on] * np.log1p(w[on] / np.maximum(b_nz[on], 1e-300))
    return out


def llr_from_terms(terms, cols, n_samples, W):
    """Sum :func:`gate_terms` per sample (column ``cols``) and subtract Σ_i w_ik."""
    return np.stack([np.bincount(cols, weights=t, minlength=n_samples) for t in terms]) \
        - W.sum(axis=0)[:, None]


def gate_llr(X, W, background):
    """Log-likelihood ratio of each component being on vs off in each sample, alone.

    ``llr_kt = Σ_i x_it log(1 + w_ik / b_it) − Σ_i w_ik`` against the background only (the
    other components off): the evidence each sample carries for each component.

    Parameters
    ----------
    X : ndarray, sparse matrix or :class:`Nonzeros` of shape (n_features, n_samples)
    W : ndarray of shape (n_features, k)
    background : ndarray of shape (n_features, n_samples)

    Returns
    -------
    ndarray of shape (k, n_samples)

    Examples
    --------
    >>> X = np.array([[0.0, 2.0], [0.0, 1.0]])
    >>> gate_llr(X, np.array([[1.0], [1.0]]), np.ones((2, 2))).round(3).tolist()
    [[-2.0, 0.079]]
    """
    nz = X if isinstance(X, Nonzeros) else Nonzeros(X)
    terms = gate_terms(nz, np.asarray(W, dtype=np.float64), background[nz.rows, nz.cols])
    return llr_from_terms(terms, nz.cols, nz.shape[1], np.asarray(W, dtype=np.float64))
