"""A whole KL fit of dense data in compiled code: the fast path of ``fit_ccd``.

The general KL path (``algorithms.fit_ccd`` with the kernels of ``_ccd.py``) returns to
Python twice per iteration and evaluates the loss with ``log`` on every entry; on
catalog-sized problems (96–1536 channels × 20–2000 tumours, ranks 2–15) that overhead, not
the arithmetic, set the speed. Here one compiled call runs every iteration of a run:

* **The same coordinate descent**, one Newton step per coordinate and sweep, with passes
  fused: the pass that moves coordinate k (``y += w_k d``) also sums the terms of the
  Newton step of coordinate k + 1 and the derivative that accepts or rejects k's step, so a
  sweep over a column costs r + 1 passes with one division per entry. The acceptance rule
  is that of ``_ccd._kl_coord`` (f' concave: a step right never overshoots; a step left is
  kept only when f'(d) + f'(0) >= 0, else halved), so the objective never increases.
* **Float32 sweeps, float64 objective.** The sweeps read float32 copies of X and of the fixed
  factor (twice the SIMD width, and the reciprocal estimate of the CPU); the coefficients,
  their sums, every Newton step and the objective are float64. When the relative decrease
  per iteration falls below ``SWITCH_TOL`` (near float32's resolution) the sweeps continue in
  float64, so any ``tol`` is reached as before.
* **A vectorised log** (``_xlogy``: exponent and mantissa from the bits, an atanh series of 12
  terms, relative error ~1e-16) for the objective, which is evaluated exactly in float64.
* **The objective only when it decides something.** It costs 20-45 % of an iteration (the
  log and a float64 model column), and far from convergence nothing depends on it. After
  each evaluation ``_next_gap`` predicts, from how fast the mean decrease per iteration
  decayed between the last two windows, when it would reach the threshold that matters
  (``tol``, or ``SWITCH_TOL`` while sweeps are float32), and evaluates again after half that
  many iterations (1 to ``GAP_MAX``; every iteration when the decrease does not decay). The
  tests use the mean decrease per iteration since the last evaluation, relative to the
  window's last (smallest) objective: a window's mean is at least its smallest iteration's,
  so a fit never stops before an every-iteration test would; once the decrease is within
  ``NEAR`` times the threshold every iteration is evaluated, so where the decrease keeps
  falling it stops within a few iterations of that test.
  The first three and the last iterations are always evaluated; ``history`` is NaN at the
  others. Which iterations are evaluated depends only on the run's own objective values
  (not on the batch), and a run stopped at ``max_iter = k`` follows the same path as a
  longer one for its k iterations.

Runs are independent: ``_fit_runs`` fits many small runs side by side, ``_fit_wide`` one
large run with each half-step's columns split into ranges; both share the work out over
Python threads (``_side_by_side``; the kernels release the GIL), as many as numba's thread
count. Every column, and every run, is computed by the same compiled code whatever range,
thread or batch it falls in, so a seed gives the same numbers bit for bit on either path, in
any batch, with any thread count, in a fresh process or from numba's cache. (numba's
``prange`` was tried first: its cached machine code gave other last bits than a fresh
compile, and a float32 fit amplifies those to ~1e-3 in W; so did a cached caller of a
separately compiled kernel. Hence no ``prange`` here, and every kernel ``_fit_one`` uses is
inlined into it.) Which path a run takes depends on its size and on how many runs share
the call (``WIDE_WORK``, ``WIDE_WORK_FEW``), never its numbers.
**Masks** (rank selection holds out speckles of entries): the data arrive zeroed where held
out, so the ratios x / y vanish there by themselves; what changes is the coefficient of each
coordinate, Σ_i f_i over the *observed* entries of the column instead of over all, computed
per column in float64 (r extra passes over the column), and the loss, whose Σ y runs over the
observed entries. Unmasked fits run the same arithmetic as before.

Sparse and one-sided-L1 problems take the general path. Nothing here validates input.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from nmfbio.solver._ccd import _FAST, EPS32

_OPTS = dict(cache=True, fastmath=_FAST, error_model="numpy")
#: the sweeps see only finite data (validated) and positive model values
_SWEEP = dict(cache=True, fastmath=True, error_model="numpy", inline="always")
#: off: every KL fit takes the general path (for comparisons)
ENABLED = True
#: relative decrease per iteration below which float32 sweeps stop helping
SWITCH_TOL = 1e-7
#: runs with at least this many multiply-adds per sweep (m·n·r) spread their columns over
#: the threads (``_fit_wide``); smaller ones run one per thread (``_fit_runs``)
WIDE_WORK = 4_000_000
#: ... and so do runs from this size when there are fewer runs than threads (a single fit):
#: measured 2026-12-06 (2 cores), a time per iteration 0.70-0.92 of one thread's from
#: ~600k (1536x300 r3-15, 288x300 r8-15, 96x2000 r3), 1.0-1.2 below (96x300 r15, 1536x30
#: r8), 1.5-6.6 on small fits (starting the threads each half-step costs ~0.1-0.3 ms)
WIDE_WORK_FEW = 600_000

_MANT = 0x000FFFFFFFFFFFFF
_ONE = 0x3FF0000000000000
_MAGIC = 0x4330000000000000          # bits of 2**52: (MAGIC | e) as a double is 2**52 + e
_EXP_OFFSET = 4503599627370496.0 + 1023.0
_SQRT2 = 1.4142135623730951
_LN2_HI = 0.6931471803691238          # ln 2 split so that e * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10
_TINY32 = np.float32(1e-30)
#: derivatives below these fractions of Σ w are rounding noise of float32 / float64 sums
GTOL32 = 1e-6
GTOL64 = 1e-13
#: Newton steps per coordinate and sweep
NEWTON_STEPS = 1
#: most iterations between two exact objectives (see ``_next_gap``)
GAP_MAX = 8
#: every iteration is evaluated once the decrease is within this factor of its threshold
NEAR = 4.0


@njit(**_OPTS)
def _xlogy(x, y, buf, mbits, ebits, floor=EPS32):
    """Σ x_i log(max(y_i, floor)) in float64, vectorised (``buf``/``mbits``/``ebits`` are
    scratch of y's length: float64, int64, int64). The model is clipped at ``EPS32`` as
    scikit-learn's KL loss does; ``floor`` > 0 small serves x log x."""
    n = y.shape[0]
    for i in range(n):
        v = y[i]
        buf[i] = v if v > floor else floor
    b = buf.view(np.int64)
    for i in range(n):
        mbits[i] = (b[i] & _MANT) | _ONE
        ebits[i] = (b[i] >> 52) | _MAGIC
    mf = mbits.view(np.float64)
    ef = ebits.view(np.float64)
    s = 0.0
    for i in range(n):
        m = mf[i]
        e = ef[i] - _EXP_OFFSET
        if m > _SQRT2:
            m = m * 0.5
            e = e + 1.0
        t = (m - 1.0) / (m + 1.0)
        t2 = t * t
        p = 1.0 / 23.0
        p = p * t2 + 1.0 / 21.0
        p = p * t2 + 1.0 / 19.0
        p = p * t2 + 1.0 / 17.0
        p = p * t2 + 1.0 / 15.0
        p = p * t2 + 1.0 / 13.0
        p = p * t2 + 1.0 / 11.0
        p = p * t2 + 1.0 / 9.0
        p = p * t2 + 1.0 / 7.0
        p = p * t2 + 1.0 / 5.0
        p = p * t2 + 1.0 / 3.0
        p = p * t2 + 1.0
        s += x[i] * (e * _LN2_HI + (2.0 * t * p + e * _LN2_LO))
    return s


def log_fast(y):
    """``log(max(y, EPS32))`` of a float64 array by the same series as the objective (for
    tests; the fit calls ``_xlogy`` directly)."""
    y = np.ascontiguousarray(y, dtype=np.float64).ravel()
    out = np.empty_like(y)
    one = np.ones(1)
    buf, mb, eb = np.empty(1), np.empty(1, np.int64), np.empty(1, np.int64)
    for i in range(y.shape[0]):
        out[i] = _xlogy(one, y[i:i + 1], buf, mb, eb)
    return out


@njit(**_SWEEP)
def _column(x, F, Fsum, l1, u, y, tiny, zero, one, gtol, n_steps):
    """One CCD sweep over the r coefficients ``u`` (float64) of one column: ``x`` the data
    column, ``F`` (r, L) the fixed factor, ``Fsum`` its row sums, ``y`` scratch of length
    L + 1. ``x``, ``F``, ``y`` are float32 or float64 (``tiny``, ``zero``, ``one`` of the same
    type). A derivative within ``gtol`` · (its first term) of zero is rounding noise of the
    float type (the acceptance test of a step left is then noise too): the coordinate is
    left as it is."""
    r, L = F.shape
    cast = y[L:L + 1]  # y's spare entry converts a float64 step to y's type
    for i in range(L):
        y[i] = zero
    for k in range(r):
        cast[0] = u[k]
        uk = cast[0]
        fk = F[k]
        for i in range(L):
            y[i] += fk[i] * uk
    # Newton terms of coordinate 0: q1 = Σ f x / y, q2 = Σ f² x / y²
    fn = F[0]
    q1 = zero
    q2 = zero
    for i in range(L):
        yi = y[i] if y[i] > tiny else tiny
        inv = one / yi
        t = x[i] * inv
        q1 += fn[i] * t
        q2 += fn[i] * fn[i] * t * inv
    k = 0
    s = 0
    while k < r:
        nxt = k + 1 < r
        last = s + 1 >= n_steps
        fk = F[k]
        c = Fsum[k] + l1[k]
        g = c - float(q1)
        h = float(q2)
        d = 0.0
        if Fsum[k] > 0.0 and abs(g) > gtol * c:  # a dead partner freezes (see _ccd.py)
            if h > 0.0:
                d = -g / h
            elif g > 0.0:
                d = -u[k]
            if d < -u[k]:
                d = -u[k]
        if d == 0.0:
            last = True  # nothing more to gain on this coordinate
        if last and not nxt and d >= 0.0:
            # the last coordinate: a step right never passes the 1-D minimum, no check
            if d > 0.0:
                cast[0] = d
                dd = cast[0]
                for i in range(L):
                    y[i] += fk[i] * dd
                u[k] += d
            break
        # the pass that moves coordinate k also sums the terms of the next Newton step:
        # coordinate k + 1 after k's last step, else k again
        fn = F[k + 1] if last and nxt else fk
        # move by d, halving while a step left fails f'(d) + f'(0) >= 0 (which by concavity
        # of f' guarantees f(d) <= f(0))
        step = d
        moved = 0.0
        for _bt in range(52):
            cast[0] = step
            dd = cast[0]
            a1 = zero
            b1 = zero
            b2 = zero
            for i in range(L):
                yn = y[i] + fk[i] * dd
                y[i] = yn
                yi = yn if yn > tiny else tiny
                inv = one / yi
                t = x[i] * inv
                a1 += fk[i] * t
                b1 += fn[i] * t
                b2 += fn[i] * fn[i] * t * inv
            moved += step
            if moved >= 0.0 or (c - float(a1)) + g >= 0.0:
                break
            if _bt == 50:
                step = -moved  # never accepted: undo the move
            else:
                step = -0.5 * moved
        u[k] += moved
        if u[k] < 0.0:
            u[k] = 0.0
        q1 = b1
        q2 = b2
        if last:
            k += 1
            s = 0
        else:
            s += 1


@njit(**_OPTS)
def _transpose_into(A, out):
    """``out[:] = A.T`` (any float types)."""
    for i in range(A.shape[0]):
        for k in range(A.shape[1]):
            out[k, i] = A[i, k]


@njit(**_OPTS)
def _column_loss(x, xlx, WT, u, y, buf, mb, eb, mk, masked):
    """Exact float64 loss of one column: Σ x log(x / y) − x + y with y = Wᵀ-rows · u;
    ``xlx`` = Σ x log x − x of the column (precomputed). With ``masked``, only the entries
    where ``mk`` is true count (``x`` is zero at the others)."""
    r, L = WT.shape
    for i in range(L):
        y[i] = 0.0
    for k in range(r):
        uk = u[k]
        if uk != 0.0:
            wk = WT[k]
            for i in range(L):
                y[i] += wk[i] * uk
    s = 0.0
    if masked:
        for i in range(L):
            s += y[i] * mk[i]
    else:
        for i in range(L):
            s += y[i]
    return xlx - _xlogy(x, y[:L], buf, mb, eb) + s


@njit(inline="always", **_OPTS)
def _decide(obj, prev, steps, tol, single):
    """After an exact objective ``obj``, ``steps`` iterations after the previous one
    ``prev``: (converged, single, mean decrease per iteration). Converged when the mean
    relative decrease per iteration is below tol (or the objective rose, from rounding);
    float32 sweeps stop below ``SWITCH_TOL``. Over one iteration the decrease is relative to
    ``prev`` (the every-iteration rule); over a window, to ``obj``, the smallest objective in
    it, so that a window passes only where some iteration in it would have passed alone."""
    dec = (prev - obj) / steps
    scale = max(abs(prev) if steps == 1 else abs(obj), 1e-300)
    if dec <= tol * scale:
        return True, single, dec
    if single and dec <= SWITCH_TOL * scale:
        single = False
    return False, single, dec


@njit(inline="always", **_OPTS)
def _next_gap(obj, dec, last_dec, span, tol, single):
    """Iterations until the next exact objective: half the iterations the decrease per
    iteration ``dec`` needs to fall to the threshold at which something happens (``tol``,
    or ``SWITCH_TOL`` during float32 sweeps) if it keeps decaying at the rate seen since
    the window before (mean ``last_dec``, ``span`` iterations earlier); 1 on the first
    windows, when it does not decay, and once it is within ``NEAR`` times the threshold;
    at most ``GAP_MAX``."""
    if not (last_dec > dec > 0.0) or span <= 0.0:
        return 1
    thr = max(tol, SWITCH_TOL) if single else tol
    if thr <= 0.0:
        return GAP_MAX  # tol 0 in float64: nothing to watch but max_iter
    level = thr * max(abs(obj), 1e-300)
    if dec <= NEAR * level:
        return 1
    q = np.log(dec / last_dec) / span  # log of the decay per iteration, < 0
    need = np.log(level / dec) / q
    if not need > 2.0:
        return 1
    return int(min(0.5 * need, GAP_MAX))


@njit(**_OPTS)
def _column_xlogx(Xc):
    """Σ_i x log x − x for each row of ``Xc`` (n, m) (x = 0 adds nothing), in float64, by the
    objective's vectorised log."""
    n, m = Xc.shape
    out = np.empty(n)
    buf = np.empty(m)
    mb = np.empty(m, np.int64)
    eb = np.empty(m, np.int64)
    for j in range(n):
        x = Xc[j]
        s = 0.0
        for i in range(m):
            s += x[i]
        out[j] = _xlogy(x, x, buf, mb, eb, 1e-300) - s
    return out


@njit(nogil=True, inline="always", **_OPTS)
def _half(X, X32, F, F32, Fsum, l1, U, single, xlx, losses, M, masked, lo, hi):
    """One sweep over columns ``lo:hi`` of ``U`` (n_cols, r): float32 (``X32``, ``F32``) while
    ``single``, else float64 (``X``, ``F``). With ``losses`` of length n_cols (the H-step),
    ``losses[j]`` is then the exact loss of column j (``xlx`` its Σ x log x − x), computed
    while the column is in cache. With ``masked``, ``M`` (n_cols, L) says which entries are
    observed (``X`` is zero at the others): the coefficient sums Σ f are then each column's
    own, over its observed entries (float64)."""
    r, L = F.shape
    y = np.empty(L + 1)
    y32 = np.empty(L + 1, np.float32)
    want = losses.shape[0] > 0
    buf = np.empty(L)
    mb = np.empty(L, np.int64)
    eb = np.empty(L, np.int64)
    csum = np.empty(r) if masked else Fsum
    mk = M[0]
    for j in range(lo, hi):
        if masked:
            mk = M[j]
            for k in range(r):
                fk = F[k]
                t = 0.0
                for i in range(L):
                    t += fk[i] * mk[i]
                csum[k] = t
        if single:
            _column(X32[j], F32, csum, l1, U[j], y32, _TINY32, np.float32(0.0),
                    np.float32(1.0), GTOL32, NEWTON_STEPS)
        else:
            _column(X[j], F, csum, l1, U[j], y, 1e-300, 0.0, 1.0, GTOL64, NEWTON_STEPS)
        if want:
            losses[j] = _column_loss(X[j], xlx[j], F, U[j], y, buf, mb, eb, mk, masked)


@njit(nogil=True, inline="always", **_OPTS)
def _prepare(F, FT, FT32):
    """The fixed factor of a half-step: ``FT`` = Fᵀ, ``FT32`` its float32 copy; returns the
    component sums."""
    _transpose_into(F, FT)
    _transpose_into(F, FT32)
    return FT.sum(axis=1)


@njit(nogil=True, inline="always", **_OPTS)
def _objective(losses, W, Ht, l1_W, l1_H):
    """Σ losses (in order) + the L1 penalties."""
    obj = 0.0
    for j in range(losses.shape[0]):
        obj += losses[j]
    return obj + l1_W * W.sum() + l1_H * Ht.sum()


@njit(nogil=True, **_OPTS)
def _fit_one(Xr, Xc, Xr32, Xc32, xlx, Mr, Mc, masked, W, Ht, l1_W, l1_H, update_W, max_iter,
             tol, hist):
    """A whole fit of one run in one thread; ``W`` (m, r) and ``Ht`` (n, r) in place. Returns
    ``(n_iter, converged)``. The same steps as :func:`_fit_wide`, one range each."""
    m, n = Xr.shape
    r = W.shape[1]
    HT, HT32 = np.empty((r, n)), np.empty((r, n), np.float32)
    WT, WT32 = np.empty((r, m)), np.empty((r, m), np.float32)
    l1w, l1h = np.full(r, l1_W), np.full(r, l1_H)
    losses = np.empty(n)
    none = np.empty(0)  # the W-step computes no loss
    single = True
    state = _new_state()
    for it in range(max_iter):
        if update_W:
            Hsum = _prepare(Ht, HT, HT32)
            _half(Xr, Xr32, HT, HT32, Hsum, l1w, W, single, xlx, none, Mr, masked, 0, m)
        Wsum = _prepare(W, WT, WT32)
        exact = _evaluate_now(state, it, max_iter)
        _half(Xc, Xc32, WT, WT32, Wsum, l1h, Ht, single, xlx, losses if exact else none, Mc,
              masked, 0, n)
        converged, single = _after(hist, it, exact, losses, W, Ht, l1_W, l1_H, tol, single,
                                   state)
        if converged:
            return it + 1, True
    return max_iter, False


@njit(inline="always", **_OPTS)
def _new_state():
    """The schedule's state before the first iteration (see :func:`_after`)."""
    return np.array([np.inf, -1.0, np.nan, 0.0, 0.0])


@njit(inline="always", **_OPTS)
def _evaluate_now(state, it, max_iter):
    """Whether iteration ``it`` evaluates the exact objective: when the schedule says so,
    and always the last iteration (its objective is the result's)."""
    return it >= state[3] or it == max_iter - 1


@njit(inline="always", **_OPTS)
def _after(hist, it, exact, losses, W, Ht, l1_W, l1_H, tol, single, state):
    """Record iteration ``it`` and decide what follows: (converged, single). ``state`` =
    [last exact objective, its iteration, mean decrease per iteration in the window before
    it, next iteration to evaluate, that window's centre]. Without ``exact`` the history
    gets NaN."""
    if not exact:
        hist[it] = np.nan
        return False, single
    obj = _objective(losses, W, Ht, l1_W, l1_H)
    hist[it] = obj
    prev, prev_it, last_dec, _, last_mid = state
    if prev_it < 0.0:
        state[0], state[1], state[3] = obj, it, it + 1
        return False, single
    steps = it - prev_it
    converged, single, dec = _decide(obj, prev, steps, tol, single)
    mid = 0.5 * (it + prev_it)
    gap = _next_gap(obj, dec, last_dec, mid - last_mid, tol, single)
    state[0], state[1], state[2], state[3], state[4] = obj, it, dec, it + gap, mid
    return converged, single


_POOL = None


def _pool() -> ThreadPoolExecutor:
    """The threads that run compiled work side by side (the kernels release the GIL)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                   thread_name_prefix="nmfbio-kl")
    return _POOL


def _ranges(n, k):
    """``k`` contiguous ranges covering ``range(n)`` (fewer when n < k)."""
    edges = np.linspace(0, n, min(k, n) + 1).astype(int)
    return list(zip(edges[:-1], edges[1:], strict=True))


def _side_by_side(fn, n, *args):
    """``fn(*args, lo, hi)`` over ranges of ``range(n)``, one per numba thread."""
    parts = _ranges(n, numba.get_num_threads())
    if len(parts) == 1:
        fn(*args, *parts[0])
        return
    for f in [_pool().submit(fn, *args, lo, hi) for lo, hi in parts]:
        f.result()


def _fit_wide(Xr, Xc, Xr32, Xc32, xlx, Mr, Mc, masked, W, Ht, l1_W, l1_H, update_W, max_iter,
              tol, hist):
    """:func:`_fit_one` with each half-step's columns split over the threads (one large run;
    a column is computed by the same compiled code whichever range it falls in)."""
    m, n = Xr.shape
    r = W.shape[1]
    HT, HT32 = np.empty((r, n)), np.empty((r, n), np.float32)
    WT, WT32 = np.empty((r, m)), np.empty((r, m), np.float32)
    l1w, l1h = np.full(r, l1_W), np.full(r, l1_H)
    losses = np.empty(n)
    none = np.empty(0)  # the W-step computes no loss
    single = True
    state = _new_state()
    for it in range(max_iter):
        if update_W:
            Hsum = _prepare(Ht, HT, HT32)
            _side_by_side(_half, m, Xr, Xr32, HT, HT32, Hsum, l1w, W, single, xlx, none, Mr,
                          masked)
        Wsum = _prepare(W, WT, WT32)
        exact = _evaluate_now(state, it, max_iter)
        _side_by_side(_half, n, Xc, Xc32, WT, WT32, Wsum, l1h, Ht, single, xlx,
                      losses if exact else none, Mc, masked)
        converged, single = _after(hist, it, exact, losses, W, Ht, l1_W, l1_H, tol, single,
                                   state)
        if converged:
            return it + 1, True
    return max_iter, False


def _fit_runs(Xr, Xc, Xr32, Xc32, xlx, Mr, Mc, masked, W, Ht, l1_W, l1_H, update_W, max_iter,
              tol, hist, n_iter, conv):
    """:func:`_fit_one` for every run b of ``W`` (B, m, r) / ``Ht`` (B, n, r), runs side by
    side over the threads; data and mask arrays have a leading axis of 1 (shared) or B."""

    def runs(lo, hi):
        for b in range(lo, hi):
            d = b if Xr.shape[0] > 1 else 0
            e = b if Mr.shape[0] > 1 else 0
            n_iter[b], conv[b] = _fit_one(Xr[d], Xc[d], Xr32[d], Xc32[d], xlx[d], Mr[e], Mc[e],
                                          masked, W[b], Ht[b], l1_W, l1_H, update_W, max_iter,
                                          tol, hist[b])

    _side_by_side(runs, W.shape[0])


def fit(rows, cols, W, Ht, *, l1_W, l1_H, max_iter, tol, update_W=True, mask_rows=None,
        mask_cols=None):
    """Fit a batch of dense KL runs entirely in compiled code.

    Parameters
    ----------
    rows, cols : ndarray (Bx, m, n) and (Bx, n, m), float64, C-contiguous
        The data as rows and as columns; Bx is 1 (shared) or B. Zero where a mask holds out.
    mask_rows, mask_cols : ndarray (Bm, m, n) and (Bm, n, m) of bool, optional
        Observed entries (Bm is 1 or B); None: all.
    W, Ht : ndarray (B, m, r) and (B, n, r), float64, C-contiguous
        Starts; updated in place.

    Returns
    -------
    hists : list of 1-D arrays (exact objective per iteration; NaN where not evaluated, the
        last always evaluated), n_iter, converged
    """
    from nmfbio.solver._ccd import KERNEL_LOCK

    B, m, r = W.shape
    n = Ht.shape[1]
    rows32 = rows.astype(np.float32)
    cols32 = cols.astype(np.float32)
    xlx = np.stack([_column_xlogx(c) for c in cols])
    masked = mask_rows is not None
    if not masked:
        mask_rows = mask_cols = np.ones((1, 1, 1), dtype=np.bool_)
    hist = np.zeros((B, max_iter))
    n_iter = np.zeros(B, dtype=np.int64)
    conv = np.zeros(B, dtype=np.bool_)
    work = m * n * r
    threads = numba.get_num_threads()
    # (measured on 2 threads: each thread's share should stay at ~300k)
    wide = work >= WIDE_WORK or (B < threads and work >= WIDE_WORK_FEW * threads / 2)
    with KERNEL_LOCK:
        if wide:
            for b in range(B):
                d = 0 if rows.shape[0] == 1 else b
                e = 0 if mask_rows.shape[0] == 1 else b
                n_iter[b], conv[b] = _fit_wide(rows[d], cols[d], rows32[d], cols32[d], xlx[d],
                                               mask_rows[e], mask_cols[e], masked, W[b], Ht[b],
                                               l1_W, l1_H, update_W, max_iter, tol, hist[b])
        else:
            _fit_runs(rows, cols, rows32, cols32, xlx, mask_rows, mask_cols, masked, W, Ht,
                      l1_W, l1_H, update_W, max_iter, tol, hist, n_iter, conv)
    hists = [hist[b, :n_iter[b]].copy() for b in range(B)]
    return hists, n_iter, conv
