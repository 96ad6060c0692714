"""The two fitting algorithms, on a :class:`~nmfbio.solver.batch.Batch` of runs.

* ``fit_hals`` — Frobenius without mask: accelerated HALS (Cichocki & Phan 2009, with the
  inner repetitions of Gillis & Glineur 2012, Neural Computation 24:1085) with extrapolation
  (Ang & Gillis 2019, see ``EXTRAPOLATE``). Each outer step forms ``WᵀX`` and ``WᵀW`` once
  (BLAS, sparse-aware; in float32 while the objective still falls fast, see ``LOW_SWITCH``)
  and sweeps the rows of H several times with them, stopping a run's sweeps when its change
  falls below 10 % of the first. Small dense runs are fitted whole in compiled code
  (``_ccd.hals_fit_small``, the same updates in float64).
* ``fit_ccd`` — KL (dense, masked or sparse) and masked Frobenius: cyclic coordinate descent
  with Newton steps (Hsieh & Dhillon 2011), compiled in ``_ccd.py``. Dense KL runs without
  one-sided L1 (the common case: catalogs, spike counts, and the masked fits of rank
  selection) are handed whole to ``_kl_fit.py``, which runs every iteration in compiled code.

Both update every still-running run of the batch together and stop each run on its own when
the relative decrease of its objective falls below ``tol``; runs never influence each other,
so a run's result does not depend on what else is in its batch. Validation happens before
this module is reached.
"""

from __future__ import annotations

import logging

import numpy as np

from nmfbio.solver import _ccd, _kl_fit

__all__ = ["fit_ccd", "fit_hals"]

log = logging.getLogger(__name__)

KL_NEWTON_STEPS = 2
#: accelerated HALS: inner sweeps per outer step are capped at 1 + HALS_ALPHA·ρ, ρ the cost of
#: the products relative to one sweep (Gillis & Glineur), and at HALS_MAX_INNER; a column stops
#: when its change falls below HALS_REL_TOL times that of its first sweep. Gillis & Glineur's
#: α = 0.5 assumes sweeps as efficient as BLAS products; our compiled sweeps are not, and
#: α = 0.05, at most 5 sweeps, 10 % was fastest to the 1e-4 target on the benchmark cases
#: (benchmarks/solver.py, catalog and expression Frobenius)
HALS_ALPHA = 0.05
HALS_MAX_INNER = 5
HALS_REL_TOL = 1e-1
#: single dense runs up to this size (m·n·r) are fitted entirely in compiled code
SMALL_FIT_WORK = 2_000_000
#: larger Frobenius fits (dense or sparse) form X Hᵀ and Wᵀ X in float32 (half the memory
#: traffic; 2-3× faster on the benchmark's 2000 × 3000, rank 20) until the relative decrease
#: of the then approximate objective falls below max(tol, LOW_SWITCH), and in float64 from
#: there on: every run ends on float64 products, so its final objective and its stopping
#: decision are exact. The float32 objective's relative error was ~1e-7 on that benchmark with
#: the fit at 7 % of ½‖X‖² (about 1e-8 × ½‖X‖² / fit), 100× below LOW_SWITCH
LOW_SWITCH = 1e-5
#: ... as long as the fit is not so close that the expanded objective cancels (the fit below
#: this share of ½‖X‖², where the float32 error would reach ~1e-6 relative)
LOW_MIN_FIT = 1e-2
#: False: every product in float64 (the tests compare both)
LOW_PRECISION = True
#: Frobenius fits of both factors without one-sided L1 extrapolate each new factor,
#: F̂ = max(0, F + β (F − F_prev)), and start the next sweeps from it (Ang & Gillis 2019,
#: Neural Computation 31:417, their scheme with the roles of W and H swapped). A step whose
#: objective exceeds the last accepted one is rejected: the sweeps restart from the plain
#: iterates, β shrinks by EXTRA_SHRINK and its cap is set to the failed β; accepted steps
#: grow β by EXTRA_GROW up to the cap, which grows by EXTRA_GROW_MAX up to 1. The result is
#: the last accepted pair, so the history never increases. β₀ = 0.1 took the fewest
#: iterations to 1e-4 and 1e-6 of the best objective among 0, 0.1, 0.25, 0.5 on 3 catalogs
#: (96 × 500, rank 5) and 4 catalog grid cells (96-1536 × 30-2000, ranks 3-15): 17-32 and
#: 22-66 iterations against 25-65 and 36-94 without (benchmarks/solver.py data)
EXTRAPOLATE = True
EXTRA_BETA0 = 0.1
EXTRA_SHRINK = 1.5
EXTRA_GROW = 1.05
EXTRA_GROW_MAX = 1.01
#: a rejected step whose increase is below this share of ½‖X‖² (rounding: an exact fit's
#: objective wanders at ~1e-31 of it) stops the run as converged
EXTRA_FLOOR = 1e4 * np.finfo(float).eps ** 2


#: OpenBLAS runs a product on one thread when m·n·k is below 4·65536; larger products wake
#: its threads, which then spin for a while (~0.1 s) and take the cores from the compiled
#: kernels that follow: a sparse product run right after a threaded 20000 × 20 Gram matrix
#: took 38 ms instead of 21 ms on 2 cores. Gram matrices are therefore summed over chunks of
#: rows small enough to stay single-threaded
_GRAM_WORK = 2**17


def _gram(F):
    """``F[b]ᵀ F[b]`` for ``F`` (B, L, r) → (B, r, r), as a sum over fixed chunks of rows,
    each a single-threaded BLAS product (see ``_GRAM_WORK``); the chunks do not depend on
    the batch, so neither does a run's result."""
    B, L, r = F.shape
    c = max(1, _GRAM_WORK // (r * r))
    k = L // c
    out = np.empty((B, r, r))
    for b in range(B):
        head = F[b, :k * c].reshape(k, c, r)
        tail = F[b, k * c:]
        out[b] = np.matmul(head.transpose(0, 2, 1), head).sum(axis=0) + tail.T @ tail
    return out


def penalty_mode(l1_W, l1_H):
    """Which factor's scale is pinned while fitting.

    With L1 on one factor only, the objective could be lowered forever by moving scale to
    the unpenalised factor. Then the unpenalised factor is kept at unit sums (W's columns
    for ``l1_H`` alone, H's rows for ``l1_W`` alone): the penalty acts on the recipes of
    normalised parts (or vice versa), the well-posed problem users mean.
    """
    if l1_H > 0 and l1_W == 0:
        return "W"  # W columns sum to 1
    if l1_W > 0 and l1_H == 0:
        return "H"  # H rows sum to 1
    return None


def _rescale(P, Q, axis, idx):
    """Make P's component sums 1 for runs ``idx`` (summing P[b] over ``axis``), moving the
    scale into Q, whose components lie along the same axis (P·Q unchanged)."""
    for b in idx:
        s = P[b].sum(axis=axis)
        s = np.where(s > 0, s, 1.0)
        if axis == 0:
            P[b] /= s
            Q[b] *= s
        else:
            P[b] /= s[:, None]
            Q[b] *= s[:, None]


def _converged(prev, cur, tol):
    """Relative decrease of the objective below tol (or an increase from rounding)."""
    return (prev - cur) <= tol * max(abs(prev), np.finfo(float).tiny)


def _extrapolate(new, old, beta):
    """``max(0, new + β (new − old))`` per run (β of shape (B,))."""
    out = new + beta[:, None, None] * (new - old)
    return np.maximum(out, 0.0, out=out)


def _loop(step, B, max_iter, tol, name, low=None, hold=None):
    """Run ``step(active) -> objectives (B,)`` until every run converges.

    ``low`` (bool (B,), optional, changed in place): runs whose objectives are still
    approximate (low-precision products). Such a run never stops: when its decrease falls
    below ``max(tol, LOW_SWITCH)`` it is switched to exact products (``low[b] = False``) and
    goes on; only exact objectives decide convergence. ``hold`` (bool (B,), optional, set by
    ``step``): runs whose step this iteration was rejected; neither test applies to them.
    """
    active = np.ones(B, dtype=bool)
    hist = [[] for _ in range(B)]
    n_iter = np.zeros(B, dtype=int)
    conv = np.zeros(B, dtype=bool)
    for it in range(max_iter):
        obj = step(active)
        for b in np.flatnonzero(active):
            hist[b].append(float(obj[b]))
            n_iter[b] = it + 1
            if len(hist[b]) < 2 or (hold is not None and hold[b]):
                continue
            if low is not None and low[b]:
                if _converged(hist[b][-2], hist[b][-1], max(tol, LOW_SWITCH)):
                    low[b] = False
            elif _converged(hist[b][-2], hist[b][-1], tol):
                conv[b] = True
                active[b] = False
        if it % 50 == 0:
            log.debug("%s iteration %d: %d runs active, best objective %.6g", name, it,
                      active.sum(), np.min([h[-1] for h in hist]))
        if not active.any():
            break
    return hist, n_iter, conv


# --------------------------------------------------------------------------- KL / masked
def fit_ccd(data, W, H, *, kl, l1_W, l1_H, max_iter, tol, update_W=True):
    """Coordinate descent for a batch. ``W`` (B, m, r) and ``H`` (B, r, n) are starts.

    Returns ``W, H, history (list per run), n_iter, converged``. Dense KL runs (masked or
    not) without one-sided L1 are fitted entirely in compiled code (``_kl_fit``).
    """
    Wm = np.ascontiguousarray(W)                        # (B, m, r): updated in the W-step
    Ht = np.ascontiguousarray(H.transpose(0, 2, 1))     # (B, n, r): updated in the H-step
    mode = penalty_mode(l1_W, l1_H) if update_W else None
    if kl and not data.sparse and mode is None and _kl_fit.ENABLED:
        masks = (data.mask_rows, data.mask_cols) if data.use_mask else (None, None)
        hist, n_iter, conv = _kl_fit.fit(data.rows, data.cols, Wm, Ht, l1_W=l1_W, l1_H=l1_H,
                                         max_iter=max_iter, tol=tol, update_W=update_W,
                                         mask_rows=masks[0], mask_cols=masks[1])
        log.debug("kl compiled fit of %d runs (%d x %d, rank %d): %s iterations, best "
                  "objective %.6g", len(hist), data.shape[0], data.shape[1], W.shape[2],
                  "/".join(str(k) for k in n_iter), min(h[-1] for h in hist))
        return Wm, Ht.transpose(0, 2, 1), [list(h) for h in hist], n_iter, conv
    B, m, r = W.shape
    n = H.shape[2]
    col_loss_w = np.zeros((B, m))
    col_loss_h = np.zeros((B, n))
    n_inner = KL_NEWTON_STEPS if kl else 1
    if data.sparse:
        rows = (data.row_indptr, data.row_indices, data.row_data)
        cols = (data.col_indptr, data.col_indices, data.col_data)

        def run(part, F, U, active, l1, want, out):
            indptr, indices, values = part
            kernel = _ccd.pick(_ccd.ccd_sparse_kl, _ccd.ccd_sparse_kl_serial,
                               active.sum() * data.nnz * r * (n_inner + 1))
            with _ccd.KERNEL_LOCK:
                kernel(indptr, indices, values, F, F.sum(axis=2), U, active, l1, n_inner,
                       want, out)
    else:
        rows = (data.rows, data.mask_rows)
        cols = (data.cols, data.mask_cols)

        def run(part, F, U, active, l1, want, out):
            Xd, Md = part
            kernel = _ccd.pick(_ccd.ccd_dense, _ccd.ccd_dense_serial,
                               active.sum() * m * n * r * (n_inner + 1))
            with _ccd.KERNEL_LOCK:
                kernel(Xd, Md, data.use_mask, F, F.sum(axis=2), U, active, kl, l1, n_inner,
                       want, out)

    every = np.arange(B)
    if mode == "W":
        _rescale(Wm, Ht, 0, every)  # W (m, r): columns sum to 1; Hᵀ (n, r) scaled
    elif mode == "H":
        _rescale(Ht, Wm, 0, every)

    def step(active):
        idx = np.flatnonzero(active)
        if update_W:
            L1 = np.full((B, r), l1_W)
            if mode == "W":  # penalty l1_H·s_k·|h_k| moves onto the scale s_k of w_k
                L1 += l1_H * Ht.sum(axis=1)
            F = np.ascontiguousarray(Ht.transpose(0, 2, 1))  # (B, r, n) = H
            run(rows, F, Wm, active, L1, False, col_loss_w)
            if mode == "W":
                _rescale(Wm, Ht, 0, idx)
        L1 = np.full((B, r), l1_H)
        if mode == "H":
            L1 += l1_W * Wm.sum(axis=1)
        F = np.ascontiguousarray(Wm.transpose(0, 2, 1))  # (B, r, m) = Wᵀ
        run(cols, F, Ht, active, L1, True, col_loss_h)
        if mode == "H":
            _rescale(Ht, Wm, 0, idx)
        return (col_loss_h.sum(axis=1) + l1_W * Wm.sum(axis=(1, 2))
                + l1_H * Ht.sum(axis=(1, 2)))

    hist, n_iter, conv = _loop(step, B, max_iter, tol, "ccd")
    return Wm, Ht.transpose(0, 2, 1), hist, n_iter, conv


# --------------------------------------------------------------------------- Frobenius
def fit_hals(data, W, H, *, l1_W, l1_H, max_iter, tol, lossobj, update_W=True):
    """Accelerated HALS for a batch (Frobenius, no mask); same contract as :func:`fit_ccd`."""
    B, m, r = W.shape
    n = H.shape[2]
    Wm = np.ascontiguousarray(W)                     # (B, m, r)
    Ht = np.ascontiguousarray(H.transpose(0, 2, 1))  # (B, n, r)
    # Gillis & Glineur: inner sweeps worth up to half the cost of the products
    inner_W = min(HALS_MAX_INNER, int(1 + HALS_ALPHA * (1 + data.nnz / (m * (r + 1)))))
    inner_H = min(HALS_MAX_INNER, int(1 + HALS_ALPHA * (1 + data.nnz / (n * (r + 1)))))
    normX2 = data.normX2 if data.n_data > 1 else np.full(B, data.normX2[0])

    mode = penalty_mode(l1_W, l1_H) if update_W else None
    if update_W and mode is None and not data.sparse and m * n * r <= SMALL_FIT_WORK:
        # small dense problems: each run's whole fit in compiled code
        extra = ((EXTRA_BETA0 if EXTRAPOLATE else 0.0), EXTRA_SHRINK, EXTRA_GROW,
                 EXTRA_GROW_MAX, EXTRA_FLOOR)
        hists, n_iter, conv = [], np.zeros(B, dtype=int), np.zeros(B, dtype=bool)
        for b in range(B):
            hist = np.zeros(max_iter)
            with _ccd.KERNEL_LOCK:
                n_iter[b], conv[b] = _ccd.hals_fit_small(
                    data.rows[b if data.n_data > 1 else 0], Wm[b], Ht[b], l1_W, l1_H,
                    max_iter, tol, inner_W, inner_H, HALS_REL_TOL, extra, hist)
            hists.append(list(hist[:n_iter[b]]))
        return Wm, Ht.transpose(0, 2, 1), hists, n_iter, conv
    every = np.arange(B)
    if mode == "W":
        _rescale(Wm, Ht, 0, every)  # columns of W sum to 1
    elif mode == "H":
        _rescale(Ht, Wm, 0, every)
    # float32 products first (see LOW_SWITCH)
    low = np.full(B, LOW_PRECISION)
    # extrapolation (see EXTRAPOLATE): Wm/Ht hold the starts of the next sweeps, ``last`` the
    # plain iterates, ``kept`` the accepted pair (the result) and its objective
    extra = EXTRAPOLATE and update_W and mode is None
    if extra:
        last = [Wm.copy(), Ht.copy()]
        kept = [Wm.copy(), Ht.copy(), np.full(B, np.inf)]
        beta, beta_max = np.full(B, EXTRA_BETA0), np.ones(B)
    hold = np.zeros(B, dtype=bool)  # runs whose last step is not tested for stopping
    restarted = np.zeros(B, dtype=bool)  # runs whose last step was rejected
    # HᵀH of a run's last objective is the next W-step's Gram matrix (plain HALS only)
    HH_last = np.zeros((B, r, r))
    has_HH = np.zeros(B, dtype=bool)

    def step(active):
        idx = np.flatnonzero(active)
        act = np.ones(len(idx), dtype=bool)
        Wa, Ha = Wm[idx], Ht[idx]
        nb = len(idx)
        lo = low[idx].copy()
        if update_W:
            # W-step: rows of W solve min ½‖Xᵀ − Hᵀ Wᵀ‖²: A = X Hᵀ (m, r), G = H Hᵀ
            L1 = np.full((nb, r), l1_W)
            if mode == "W":
                L1 += l1_H * Ha.sum(axis=1)
            A = data.product(Ha, idx, "W", lo)
            reuse = not extra and mode is None and has_HH[idx].all()
            G = HH_last[idx] if reuse else _gram(Ha)
            sweep = _ccd.pick(_ccd.hals_columns, _ccd.hals_columns_serial,
                              nb * m * r * r * inner_W)
            with _ccd.KERNEL_LOCK:
                sweep(A, G, Wa, act, L1, inner_W, HALS_REL_TOL)
            if mode == "W":
                _rescale(Wa, Ha, 0, range(nb))
        Wx = _extrapolate(Wa, last[0][idx], beta[idx]) if extra else Wa
        L1 = np.full((nb, r), l1_H)
        if mode == "H":
            L1 += l1_W * Wx.sum(axis=1)
        A = data.product(Wx, idx, "H", lo)          # (nb, n, r) = Xᵀ W
        G = _gram(Wx)                               # Wᵀ W
        sweep = _ccd.pick(_ccd.hals_columns, _ccd.hals_columns_serial, nb * n * r * r * inner_H)
        with _ccd.KERNEL_LOCK:
            sweep(A, G, Ha, act, L1, inner_H, HALS_REL_TOL)
        if mode == "H":
            _rescale(Ha, Wx, 0, range(nb))
            A = data.product(Wx, idx, "H", lo)
            G = _gram(Wx)
        obj = np.full(B, np.nan)
        obj[idx] = _hals_objective(A, G, Wx, Ha, idx)
        # float32 objectives are approximate: runs near an exact fit go on in float64
        low[idx[lo & (obj[idx] < LOW_MIN_FIT * 0.5 * normX2[idx])]] = False
        if not extra:
            Wm[idx], Ht[idx] = Wa, Ha
            return obj
        Hx = _extrapolate(Ha, last[1][idx], beta[idx])
        last[0][idx], last[1][idx] = Wa, Ha
        for t, b in enumerate(idx):
            if obj[b] > kept[2][b]:
                # worse than the accepted pair: restart the sweeps from the plain iterates
                # with a smaller step; the history repeats the accepted objective. No
                # stopping test (an overshoot says nothing about convergence), unless the
                # increase is at the rounding floor of an exact fit (the repeated objective
                # then stops the run)
                hold[b] = obj[b] - kept[2][b] > EXTRA_FLOOR * 0.5 * normX2[b]
                restarted[b] = True
                Wm[b], Ht[b], obj[b] = Wa[t], Ha[t], kept[2][b]
                beta_max[b] = beta[b]
                beta[b] /= EXTRA_SHRINK
            else:
                # the first step after a restart is not tested: its start (the plain
                # iterates) is not the accepted pair
                hold[b] = restarted[b]
                restarted[b] = False
                Wm[b], Ht[b] = Wx[t], Hx[t]
                kept[0][b], kept[1][b], kept[2][b] = Wx[t], Ha[t], obj[b]
                beta_max[b] = min(1.0, EXTRA_GROW_MAX * beta_max[b])
                beta[b] = min(beta_max[b], EXTRA_GROW * beta[b])
        return obj

    def _hals_objective(A, G, Wa, Ha, idx):
        """Objective from A = Xᵀ W and G = Wᵀ W of the current factors (expanded form)."""
        HH = _gram(Ha)
        HH_last[idx], has_HH[idx] = HH, True
        fit = (0.5 * normX2[idx] - np.einsum("bcr,bcr->b", A, Ha)
               + 0.5 * np.einsum("bkl,bkl->b", G, HH))
        for t in np.flatnonzero(fit < 1e-6 * 0.5 * normX2[idx]):
            # near an exact fit the expanded formula cancels: use the exact residual
            fit[t] = lossobj.value(data.data(idx[t]), Wa[t], Ha[t].T)
        return fit + l1_W * Wa.sum(axis=(1, 2)) + l1_H * Ha.sum(axis=(1, 2))

    hist, n_iter, conv = _loop(step, B, max_iter, tol, "hals", low, hold)
    if extra:  # the result is the accepted pair
        Wm[:], Ht[:] = kept[0], kept[1]
    for b in np.flatnonzero(low):
        # stopped at max_iter on float32 products: its last objective exactly, in float64
        idx = np.array([b])
        A = data.product(Wm[idx], idx, "H")
        G = _gram(Wm[idx])
        hist[b][-1] = float(_hals_objective(A, G, Wm[idx], Ht[idx], idx)[0])
    return Wm, Ht.transpose(0, 2, 1), hist, n_iter, conv
