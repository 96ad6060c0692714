"""Compiled cyclic coordinate descent (CCD) kernels for the generalised KL and masked
Frobenius losses.

This is the inner loop of the solver: one call updates every column of one factor (for all
restarts of a batch at once, in parallel over columns) with the other factor fixed. The
KL rule follows Hsieh & Dhillon (2011, KDD, "Fast coordinate descent methods with variable
selection for non-negative matrix factorization"): a Newton step on each one-variable
subproblem while the column of the model ``y = W h`` is kept up to date. Each coordinate's
1-D function f has a decreasing second derivative (f' is concave), so a step to the right
never overshoots, and a step to the left is accepted only when f'(d) + f'(0) >= 0, which by
concavity of f' guarantees f(d) <= f(0); otherwise the step is halved. The objective
therefore never increases. Frobenius coordinate steps are exact minimisers.

Dead partners. When component k of the fixed factor is zero on every observed entry of a
column, coefficient k of that column has no effect on the fit and is left unchanged (HALS
skips it the same way, its ``G[k, k]`` being 0). Minimising only the L1 penalty would set it
to 0 — and a KL W-step often zeroes a whole column of W from an NNDSVD start — after which
W[:, k] = 0, H[k] = 0 is a fixed point: the component is lost for good. Frozen, the
coefficient lets the partner come back in the next half-step, as it does without a
penalty. A freeze never changes the objective; ``solver.core`` drops the penalty of a
partner still frozen at the end.

Layouts (all C-contiguous, float64):
  data  ``Xc`` (Bx, n_cols, L): row j is column j of the problem ``X ≈ F^T U^T``; Bx is 1
        (data shared by the batch) or B (one data set per run, e.g. resampled);
  mask  ``Mc`` (Bm, n_cols, L) boolean, Bm in {1, B}; a (1, 1, L) dummy when unmasked;
  fixed ``F`` (B, r, L): row k is component k of the fixed factor;
  updated ``U`` (B, n_cols, r): row j holds the r coefficients of column j.
For the H-step: Xc = X.T, F = W.T, U = H.T. For the W-step: Xc = X, F = H, U = W.
Nothing here validates input: the caller (``solver.core``) has.
"""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
from numba import njit, prange

# numba's OpenMP layer busy-waits between launches and then fights OpenBLAS's threads for
# the cores: on 2 cores a launch on a small problem cost ~4 ms instead of ~0.2 ms. The
# workqueue layer has no such wait; it must not be entered from two threads at once, so
# every launch holds KERNEL_LOCK. A user's own NUMBA_THREADING_LAYER is respected.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
KERNEL_LOCK = threading.Lock()
#: below this many multiply-adds per call a kernel runs in one thread (a parallel launch
#: costs more than it saves)
SERIAL_WORK = 2_000_000


def pick(parallel_kernel, serial_kernel, work):
    """The parallel kernel for large work, the serial one for small."""
    return parallel_kernel if work >= SERIAL_WORK else serial_kernel

_FAST = {"reassoc", "contract", "arcp", "nsz"}
# error_model="numpy" on every kernel: with numba's default ("python") each division checks
# for a zero divisor to raise ZeroDivisionError, and that branch keeps LLVM from vectorising
# the loop (every division here has a positive divisor by construction)
_TINY = 1e-300
# float32 machine epsilon: scikit-learn clips the model at this value in its KL loss
EPS32 = float(np.finfo(np.float32).eps)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _kl_terms(x, w, y, d):
    """(Σ w x / y_d, Σ w² x / y_d²) with y_d = y + w d. Branch-free so that it vectorises:
    entries with x = 0 (zeros and held-out entries, which the caller zeroes) add nothing."""
    q1 = 0.0
    q2 = 0.0
    for i in range(x.shape[0]):
        wi = w[i]
        yi = y[i] + wi * d
        yi = yi if yi > _TINY else _TINY
        inv = 1.0 / yi
        t = wi * x[i] * inv
        q1 += t
        q2 += t * wi * inv
    return q1, q2


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _kl_move_terms(x, w, y, d):
    """``y += w d`` fused with ``_kl_terms`` at the new ``y``."""
    q1 = 0.0
    q2 = 0.0
    for i in range(x.shape[0]):
        wi = w[i]
        yi = y[i] + wi * d
        y[i] = yi
        yi = yi if yi > _TINY else _TINY
        inv = 1.0 / yi
        t = wi * x[i] * inv
        q1 += t
        q2 += t * wi * inv
    return q1, q2


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _kl_coord(x, w, y, u, c, n_inner):
    """Newton steps on one KL coordinate; ``x`` is zero where unobserved and ``c`` = sum of
    observed w + l1. Updates ``y``."""
    q1, q2 = _kl_terms(x, w, y, 0.0)
    g = c - q1
    for it in range(n_inner):
        if q2 > 0.0:
            d = -g / q2
        elif g > 0.0:
            d = -u
        else:
            d = 0.0
        if d < -u:
            d = -u
        if d == 0.0:
            break
        last = it + 1 == n_inner
        if d < 0.0:
            # f' is concave, so f'(d) + f'(0) >= 0 guarantees f(d) <= f(0)
            accepted = False
            for _bt in range(50):
                q1n, q2n = _kl_terms(x, w, y, d)
                gn = c - q1n
                if gn + g >= 0.0:
                    accepted = True
                    break
                d *= 0.5
            if not accepted:
                break
            for i in range(y.shape[0]):
                y[i] += w[i] * d
            g = gn
            q2 = q2n
        elif last:
            # a step to the right never passes the minimum of the 1-D problem
            for i in range(y.shape[0]):
                y[i] += w[i] * d
        else:
            q1, q2 = _kl_move_terms(x, w, y, d)
            g = c - q1
        u += d
        if u < 0.0:
            u = 0.0
    return u


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _fro_coord(x, obs, use_mask, w, y, u, l1):
    """Exact minimiser of one masked Frobenius coordinate (with L1). Updates ``y``."""
    g = l1
    hs = 0.0
    for i in range(x.shape[0]):
        if not use_mask or obs[i]:
            wi = w[i]
            g += wi * (y[i] - x[i])
            hs += wi * wi
    if hs <= 0.0:
        return u  # a dead partner freezes the coordinate (as in HALS)
    d = -g / hs
    un = u + d
    if un < 0.0:
        un = 0.0
    d = un - u
    if d != 0.0:
        for i in range(y.shape[0]):
            y[i] += w[i] * d
    return un


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _col_loss(x, obs, use_mask, y, kl):
    s = 0.0
    for i in range(x.shape[0]):
        if not use_mask or obs[i]:
            xi = x[i]
            yi = y[i]
            if kl:
                if xi > 0.0:
                    yc = yi if yi > EPS32 else EPS32
                    s += xi * np.log(xi / yc) - xi
                s += yi
            else:
                r = xi - yi
                s += 0.5 * r * r
    return s


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _dense_column(Xc, Mc, use_mask, F, Fsum, U, kl, l1, n_inner, want_loss, col_loss, b, j):
    """CCD on column j of run b (dense data)."""
    r = U.shape[2]
    L = Xc.shape[2]
    x = Xc[0, j] if Xc.shape[0] == 1 else Xc[b, j]
    if use_mask:
        obs = Mc[0, j] if Mc.shape[0] == 1 else Mc[b, j]
    else:
        obs = Mc[0, 0]
    y = np.zeros(L)
    for k in range(r):
        u = U[b, j, k]
        if u != 0.0:
            fk = F[b, k]
            for i in range(L):
                y[i] += fk[i] * u
    for k in range(r):
        fk = F[b, k]
        if kl:
            if use_mask:
                c = l1[b, k]
                live = False
                for i in range(L):
                    if obs[i]:
                        c += fk[i]
                        live = live or fk[i] > 0.0
            else:
                c = Fsum[b, k] + l1[b, k]
                live = Fsum[b, k] > 0.0
            if live:  # see the module docstring: a dead partner freezes the coordinate
                U[b, j, k] = _kl_coord(x, fk, y, U[b, j, k], c, n_inner)
        else:
            U[b, j, k] = _fro_coord(x, obs, use_mask, fk, y, U[b, j, k], l1[b, k])
    if want_loss:
        col_loss[b, j] = _col_loss(x, obs, use_mask, y, kl)


@njit(parallel=True, cache=True, fastmath=_FAST, error_model="numpy")
def ccd_dense(Xc, Mc, use_mask, F, Fsum, U, active, kl, l1, n_inner, want_loss, col_loss):
    """One CCD sweep over all columns of ``U`` for a dense (optionally masked) problem, in
    parallel over columns. With a mask, ``Xc`` must be zero at unobserved entries (``Batch``
    prepares it so). ``l1`` (B, r) is the L1 weight of each coefficient of component k in
    run b."""
    B, ncol, _ = U.shape
    for t in prange(B * ncol):
        b = t // ncol
        if active[b]:
            _dense_column(Xc, Mc, use_mask, F, Fsum, U, kl, l1, n_inner, want_loss, col_loss,
                          b, t - b * ncol)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def ccd_dense_serial(Xc, Mc, use_mask, F, Fsum, U, active, kl, l1, n_inner, want_loss,
                     col_loss):
    """:func:`ccd_dense` in one thread (small problems, where a parallel launch costs more
    than the work)."""
    B, ncol, _ = U.shape
    for t in range(B * ncol):
        b = t // ncol
        if active[b]:
            _dense_column(Xc, Mc, use_mask, F, Fsum, U, kl, l1, n_inner, want_loss, col_loss,
                          b, t - b * ncol)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _sparse_column(indptr, indices, data, F, Fsum, U, l1, n_inner, want_loss, col_loss, b, j):
    """KL CCD on column j of run b (sparse data, model at stored entries only)."""
    r = U.shape[2]
    lo = indptr[j]
    hi = indptr[j + 1]
    nnz = hi - lo
    x = data[0, lo:hi] if data.shape[0] == 1 else data[b, lo:hi]
    idx = indices[lo:hi]
    y = np.zeros(nnz)
    w = np.empty(nnz)
    for k in range(r):
        u = U[b, j, k]
        if u != 0.0:
            fk = F[b, k]
            for i in range(nnz):
                y[i] += fk[idx[i]] * u
    for k in range(r):
        if Fsum[b, k] <= 0.0:  # a dead partner freezes the coordinate
            continue
        fk = F[b, k]
        for i in range(nnz):
            w[i] = fk[idx[i]]
        U[b, j, k] = _kl_coord(x, w, y, U[b, j, k], Fsum[b, k] + l1[b, k], n_inner)
    if want_loss:
        s = 0.0
        for i in range(nnz):
            xi = x[i]
            if xi > 0.0:
                yc = y[i] if y[i] > EPS32 else EPS32
                s += xi * np.log(xi / yc) - xi
        for k in range(r):
            s += Fsum[b, k] * U[b, j, k]
        col_loss[b, j] = s


@njit(parallel=True, cache=True, fastmath=_FAST, error_model="numpy")
def ccd_sparse_kl(indptr, indices, data, F, Fsum, U, active, l1, n_inner, want_loss, col_loss):
    """One KL CCD sweep for sparse data given as compressed columns (``indptr``/``indices``
    of the problem's columns, ``data`` (Bx, nnz) values per run), in parallel over columns.
    The model is evaluated only at stored entries; the sum over all entries uses ``Fsum``
    (row sums of ``F``)."""
    B, ncol, _ = U.shape
    for t in prange(B * ncol):
        b = t // ncol
        if active[b]:
            _sparse_column(indptr, indices, data, F, Fsum, U, l1, n_inner, want_loss,
                           col_loss, b, t - b * ncol)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def ccd_sparse_kl_serial(indptr, indices, data, F, Fsum, U, active, l1, n_inner, want_loss,
                         col_loss):
    """:func:`ccd_sparse_kl` in one thread."""
    B, ncol, _ = U.shape
    for t in range(B * ncol):
        b = t // ncol
        if active[b]:
            _sparse_column(indptr, indices, data, F, Fsum, U, l1, n_inner, want_loss,
                           col_loss, b, t - b * ncol)


@njit(parallel=True, cache=True)
def sparse_model_at(indptr, indices, W, H):
    """Model values ``(W H)`` at the stored entries of a CSR matrix (rows = features)."""
    n_rows = indptr.shape[0] - 1
    out = np.empty(indices.shape[0])
    r = W.shape[1]
    for i in prange(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            s = 0.0
            for k in range(r):
                s += W[i, k] * H[k, j]
            out[p] = s
    return out


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _hals_rows(U, A, g, l1, max_inner, rel_tol):
    """Up to ``max_inner`` exact coordinate sweeps of each row's NNLS subproblem
    ``min ½ uᵀ g u − aᵀu + l1·u, u ≥ 0`` (rows of ``U``/``A``, shape (n_rows, r)).

    Rows are independent and are updated side by side: the block is copied to a transposed
    buffer (r, n_rows) so that every step is a contiguous loop over the rows, which the
    compiler vectorises (one row at a time ran ~6× slower on 96×500 rank 5, rows side by side
    in the (n_rows, r) layout 1.3-1.5× slower than this). Each row does the same operations in
    the same order as a sweep of that row alone, and stops after the sweep whose squared
    change falls below ``rel_tol`` times that of its first sweep (a stopped row's updates are
    multiplied by 0, so the loops stay branch-free).
    """
    nrow, r = U.shape
    Ut = np.empty((r, nrow))
    At = np.empty((r, nrow))
    for i in range(nrow):
        for k in range(r):
            Ut[k, i] = U[i, k]
            At[k, i] = A[i, k] - l1[k]
    first = np.full(nrow, -1.0)
    change = np.zeros(nrow)
    live = np.ones(nrow)  # 1.0 while the row is swept, 0.0 once it has stopped
    s = np.empty(nrow)
    for _ in range(max_inner):
        change[:] = 0.0
        for k in range(r):
            gkk = g[k, k]
            if gkk <= 0.0:
                continue
            inv = 1.0 / gkk
            ak = At[k]
            for i in range(nrow):
                s[i] = ak[i]
            for q in range(r):
                gq = g[k, q]
                uq = Ut[q]
                for i in range(nrow):
                    s[i] -= gq * uq[i]
            uk = Ut[k]
            for i in range(nrow):
                new = max(uk[i] + s[i] * inv, 0.0)
                dlt = (new - uk[i]) * live[i]
                change[i] += dlt * dlt
                uk[i] = live[i] * new + (1.0 - live[i]) * uk[i]
        n_active = 0
        for i in range(nrow):
            if live[i] > 0.0:
                if first[i] < 0.0:
                    first[i] = change[i]
                if change[i] <= rel_tol * first[i]:
                    live[i] = 0.0
                else:
                    n_active += 1
        if n_active == 0:
            break
    for i in range(nrow):
        for k in range(r):
            U[i, k] = Ut[k, i]


#: Rows per task of the parallel HALS sweep (fixed, so a row's result does not depend on
#: the batch or the thread count).
_HALS_CHUNK = 64


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _hals_chunks(U, A, g, l1, max_inner, rel_tol):
    """:func:`_hals_rows` over all rows of ``U`` in the fixed chunks of the parallel sweep
    (so that serial and parallel sweeps give the same result)."""
    n = U.shape[0]
    for lo in range(0, n, _HALS_CHUNK):
        hi = min(lo + _HALS_CHUNK, n)
        _hals_rows(U[lo:hi], A[lo:hi], g, l1, max_inner, rel_tol)


@njit(parallel=True, cache=True, fastmath=_FAST, error_model="numpy")
def hals_columns(A, G, U, active, l1, max_inner, rel_tol):
    """HALS for min ½‖X − F U‖² + Σ l1·u column by column, in parallel: with ``A``
    (B, n_cols, r) = (Fᵀ X)ᵀ and ``G`` (B, r, r) = FᵀF, each column of ``U`` (B, n_cols, r)
    is swept up to ``max_inner`` times (exact coordinate minimisation), until its squared
    change falls below ``rel_tol`` times that of its first sweep."""
    B, ncol, _ = U.shape
    n_chunks = (ncol + _HALS_CHUNK - 1) // _HALS_CHUNK
    for t in prange(B * n_chunks):
        b = t // n_chunks
        if active[b]:
            lo = (t - b * n_chunks) * _HALS_CHUNK
            hi = min(lo + _HALS_CHUNK, ncol)
            _hals_rows(U[b, lo:hi], A[b, lo:hi], G[b], l1[b], max_inner, rel_tol)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def hals_columns_serial(A, G, U, active, l1, max_inner, rel_tol):
    """:func:`hals_columns` in one thread (same chunks, so the same result)."""
    for b in range(U.shape[0]):
        if active[b]:
            _hals_chunks(U[b], A[b], G[b], l1[b], max_inner, rel_tol)


@njit(parallel=True, cache=True)
def spmm(indptr, indices, data, D):
    """Compressed rows (``indptr``, ``indices``, ``data``) times a dense matrix ``D``, in
    parallel over rows (scipy's sparse product runs in one thread). Strict floating point:
    each output column is summed the same way whatever the width of ``D``, so a run's
    result does not depend on the other runs in its batch."""
    n_rows = indptr.shape[0] - 1
    k = D.shape[1]
    out = np.zeros((n_rows, k))
    for i in prange(n_rows):
        row = out[i]
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            d = D[indices[p]]
            for c in range(k):
                row[c] += v * d[c]
    return out


@njit(parallel=True, cache=True)
def spmm_low(indptr, indices, data, D):
    """:func:`spmm` for float32 ``data`` and ``D``, summed per row in float32 (the early,
    low-precision products of HALS: less memory traffic per stored value); returns float64.
    Strict floating point, so again independent of the width of ``D``."""
    n_rows = indptr.shape[0] - 1
    k = D.shape[1]
    out = np.zeros((n_rows, k))
    for i in prange(n_rows):
        acc = np.zeros(k, dtype=np.float32)
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            d = D[indices[p]]
            for c in range(k):
                acc[c] += v * d[c]
        for c in range(k):
            out[i, c] = acc[c]
    return out


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _rows_times(R, F, outT, out):
    """``out`` (L, r) = Rᵀ F for ``R`` (n_rows, L) and ``F`` (n_rows, r), summed row by row
    into ``outT`` (r, L) (each step a contiguous multiply-add over L: on catalog-sized
    problems twice as fast as BLAS, which is built for large inner dimensions)."""
    nrow, L = R.shape
    r = F.shape[1]
    outT[:] = 0.0
    for i in range(nrow):
        ri = R[i]
        for k in range(r):
            f = F[i, k]
            if f != 0.0:
                o = outT[k]
                for j in range(L):
                    o[j] += ri[j] * f
    for j in range(L):
        for k in range(r):
            out[j, k] = outT[k, j]


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _extrapolated(new, old, beta, out):
    """``out = max(0, new + β (new − old))``."""
    nrow, r = new.shape
    for i in range(nrow):
        for k in range(r):
            v = new[i, k] + beta * (new[i, k] - old[i, k])
            out[i, k] = v if v > 0.0 else 0.0


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def hals_fit_small(X, W, Ht, l1_W, l1_H, max_iter, tol, inner_W, inner_H, rel_tol, extra,
                   hist):
    """A whole accelerated-HALS fit of one small dense problem in compiled code (the general
    path's per-iteration Python overhead would dominate). ``W`` (m, r) and ``Ht`` (n, r) are
    updated in place; ``hist`` receives the objective per iteration. Returns
    ``(n_iter, converged)``. Same updates, extrapolation and objective as
    ``algorithms.fit_hals``; ``extra`` = (β₀, shrink, grow, grow of the cap, rounding floor
    relative to ½‖X‖²), β₀ = 0 for plain HALS."""
    m, r = W.shape
    n = Ht.shape[0]
    normX2 = 0.0
    for i in range(m):
        for j in range(n):
            normX2 += X[i, j] * X[i, j]
    Xt = np.ascontiguousarray(X.T)
    l1w = np.full(r, l1_W)
    l1h = np.full(r, l1_H)
    beta0, shrink, grow, grow_max, floor = extra
    use_extra = beta0 > 0.0
    beta, beta_max = beta0, 1.0
    restarted = False
    # W/Ht: starts of the sweeps; Wp/Hp: plain iterates; Wx/Hx: extrapolated; Wb/Hb: accepted
    Wp, Hp = W.copy(), Ht.copy()
    Wx, Hx = W.copy(), Ht.copy()
    Wb, Hb = W.copy(), Ht.copy()
    prev = np.inf
    A, AT = np.empty((m, r)), np.empty((r, m))
    A2, A2T = np.empty((n, r)), np.empty((r, n))
    for it in range(max_iter):
        _rows_times(Xt, Ht, AT, A)     # A = X H (m, r)
        _hals_chunks(W, A, np.dot(Ht.T, Ht), l1w, inner_W, rel_tol)
        if use_extra:
            _extrapolated(W, Wp, beta, Wx)
        else:
            Wx[:] = W
        _rows_times(X, Wx, A2T, A2)    # A2 = Xᵀ Ŵ (n, r)
        G2 = np.dot(Wx.T, Wx)
        _hals_chunks(Ht, A2, G2, l1h, inner_H, rel_tol)
        HH = np.dot(Ht.T, Ht)
        cross = 0.0
        for j in range(n):
            for k in range(r):
                cross += A2[j, k] * Ht[j, k]
        quad = 0.0
        for k in range(r):
            for q in range(r):
                quad += G2[k, q] * HH[k, q]
        fit = 0.5 * normX2 - cross + 0.5 * quad
        if fit < 1e-6 * 0.5 * normX2:
            R = X - np.dot(Wx, Ht.T)
            fit = 0.5 * np.sum(R * R)
        obj = fit + l1_W * Wx.sum() + l1_H * Ht.sum()
        if not use_extra:
            hist[it] = obj
            if it > 0 and prev - obj <= tol * max(abs(prev), 1e-300):
                return it + 1, True
            prev = obj
            continue
        _extrapolated(Ht, Hp, beta, Hx)
        Wp[:] = W
        Hp[:] = Ht
        if obj > prev:
            # rejected: restart from the plain iterates with a smaller step; an increase at
            # the rounding floor of an exact fit means converged
            hist[it] = prev
            if obj - prev <= floor * 0.5 * normX2:
                W[:] = Wb
                Ht[:] = Hb
                return it + 1, True
            beta_max = beta
            beta /= shrink
            restarted = True
        else:
            hist[it] = obj
            Wb[:] = Wx
            Hb[:] = Ht
            W[:] = Wx
            Ht[:] = Hx
            beta_max = min(1.0, grow_max * beta_max)
            beta = min(beta_max, grow * beta)
            # the first step after a restart is not tested: its start, the plain iterates, is
            # not the accepted pair
            if it > 0 and not restarted and prev - obj <= tol * max(abs(prev), 1e-300):
                W[:] = Wb
                Ht[:] = Hb
                return it + 1, True
            restarted = False
            prev = obj
    if use_extra:
        W[:] = Wb
        Ht[:] = Hb
    return max_iter, False
