"""The NMF solver on arrays: ``nmf`` (best of several restarts) and ``nmf_runs`` (all runs).

Two algorithms, chosen by a plain dispatch on the loss and the mask:

* Frobenius without mask — accelerated HALS (Cichocki & Phan 2009; inner repetitions as in
  Gillis & Glineur 2012, Neural Computation 24:1085): each outer step computes ``WᵀX`` and
  ``WᵀW`` once (BLAS, sparse-aware) and sweeps the rows of H several times with them.
* KL (dense, masked or sparse) and masked Frobenius — cyclic coordinate descent with Newton
  steps (Hsieh & Dhillon 2011), compiled with numba in ``_ccd.py``.

Restarts run as one batch: every kernel call updates all still-running restarts together, so
many small fits cost little more than one. Each restart draws from its own child of
``numpy.random.SeedSequence(seed)``, so a seed reproduces every restart exactly. Only arrays
are known here (numpy, scipy.sparse); names, DataFrames and AnnData are handled by
``nmfbio.data``.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from nmfbio._warn import warn
from nmfbio.errors import ConvergenceWarning, NMFInputError
from nmfbio.solver import _ccd
from nmfbio.solver.init import INITS, initialize
from nmfbio.solver.losses import LOSSES, get_loss
from nmfbio.solver.result import NMFResult
from nmfbio.solver.validate import (
    check_choice,
    check_data,
    check_nonneg_number,
    check_positive_int,
    check_rank,
)

__all__ = ["nmf", "nmf_runs", "refit_H", "DEFAULT_MAX_ITER", "DEFAULT_TOL"]

log = logging.getLogger(__name__)

DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-5
_KL_NEWTON_STEPS = 2


def nmf(X, rank, *, loss="frobenius", l1_W=0.0, l1_H=0.0, mask=None, init="auto",
        W_init=None, H_init=None, restarts=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
        seed=None, feature_names=None, sample_names=None) -> NMFResult:
    """Fit X ≈ W H with W, H ≥ 0 on arrays; return the best of ``restarts`` runs.

    Parameters and conventions are those of :func:`nmfbio.fit`, which also accepts
    DataFrames and AnnData and is the function most users want. Note that scikit-learn's
    ``NMF`` names the factors the other way round: its ``components_`` are our ``W.T`` when
    it is given ``X.T`` (samples × features).

    Returns
    -------
    NMFResult

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio.solver import nmf
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> res = nmf(X, 3, loss="kl", seed=1)
    >>> res.W.shape, res.H.shape
    ((20, 3), (3, 30))
    """
    runs = nmf_runs(X, rank, loss=loss, l1_W=l1_W, l1_H=l1_H, mask=mask, init=init,
                    W_init=W_init, H_init=H_init, restarts=restarts, max_iter=max_iter,
                    tol=tol, seed=seed, feature_names=feature_names,
                    sample_names=sample_names, _warn=False)
    objectives = np.array([r.objective for r in runs])
    best = runs[int(np.argmin(objectives))]
    best.restart_objectives = objectives
    if not best.converged:
        warn(
            f"NMF stopped at max_iter={best.n_iter} before the relative decrease of the "
            f"objective fell below tol={tol:g}; raise max_iter or tol", ConvergenceWarning,
        )
    return best


def nmf_runs(X, rank, *, loss="frobenius", l1_W=0.0, l1_H=0.0, mask=None, init="auto",
             W_init=None, H_init=None, restarts=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
             seed=None, feature_names=None, sample_names=None, _warn=True) -> list[NMFResult]:
    """Fit ``restarts`` seeded runs (as one batch) and return all of them, in seed order.

    Used by consensus and rank selection, which need every run. Parameters as in
    :func:`nmfbio.fit`.

    Returns
    -------
    list of NMFResult

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio.solver import nmf_runs
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> len(nmf_runs(X, 2, loss="kl", restarts=4, seed=0))
    4
    """
    lossobj = get_loss(check_choice("loss", loss, tuple(LOSSES)))
    init = check_choice("init", init, INITS)
    l1_W = check_nonneg_number("l1_W", l1_W)
    l1_H = check_nonneg_number("l1_H", l1_H)
    tol = check_nonneg_number("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    restarts = check_positive_int("restarts", restarts)
    Xv, mask = check_data(X, mask, feature_names=feature_names, sample_names=sample_names)
    m, n = Xv.shape
    rank = check_rank(rank, (m, n))
    if (W_init is not None or H_init is not None) and init == "auto":
        init = "custom"
    if init == "custom":
        _check_custom(W_init, H_init, m, n, rank)
    elif W_init is not None or H_init is not None:
        raise NMFInputError(f"W_init/H_init are used only with init='custom', got init={init!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NMFInputError(f"seed must be a non-negative integer or None, got {seed!r}")
    seed = int(seed)

    # --- initial factors, one per restart
    children = np.random.SeedSequence(seed).spawn(restarts)
    Ws, Hs = [], []
    for b, child in enumerate(children):
        rng = np.random.default_rng(child)
        this_init = init
        if init == "auto":
            this_init = "nndsvda" if b == 0 else "random"
        elif init in ("nndsvd", "nndsvda", "custom") and b > 0:
            this_init = "random"  # deterministic starts would repeat: later restarts are random
        W0, H0 = initialize(Xv, rank, this_init, rng, mask, W_init, H_init)
        Ws.append(W0)
        Hs.append(H0)
    W = np.stack(Ws)  # (B, m, r)
    H = np.stack(Hs)  # (B, r, n)

    opts = dict(l1_W=l1_W, l1_H=l1_H, max_iter=max_iter, tol=tol)
    if lossobj.name == "frobenius" and mask is None:
        W, H, hist, n_iter, conv = _fit_hals(Xv, W, H, lossobj=lossobj, **opts)
        algo = "hals"
    else:
        W, H, hist, n_iter, conv = _fit_ccd(Xv, mask, W, H, kl=lossobj.is_kl, **opts)
        algo = "ccd"

    params = dict(rank=rank, loss=lossobj.name, l1_W=l1_W, l1_H=l1_H, init=init,
                  restarts=restarts, max_iter=max_iter, tol=tol, seed=seed, algorithm=algo,
                  masked=mask is not None)
    fn = None if feature_names is None else np.asarray([str(x) for x in feature_names], object)
    sn = None if sample_names is None else np.asarray([str(x) for x in sample_names], object)
    runs = []
    for b in range(restarts):
        Wb, Hb = W[b], H[b]
        objective = float(hist[b][-1]) if len(hist[b]) else np.nan
        value = lossobj.value(Xv, Wb, Hb, mask)
        Wn, Hn = _normalize(Wb, Hb)
        runs.append(NMFResult(
            W=Wn, H=Hn, loss=value, objective=objective, loss_name=lossobj.name,
            history=np.asarray(hist[b]), n_iter=int(n_iter[b]), converged=bool(conv[b]),
            seed=seed, params=dict(params, restart=b), feature_names=fn, sample_names=sn,
            restart_objectives=np.array([objective]),
        ))
    if _warn and not all(r.converged for r in runs):
        k = sum(not r.converged for r in runs)
        warn(f"{k} of {restarts} NMF runs stopped at max_iter={max_iter}; raise max_iter or "
             "tol", ConvergenceWarning)
    return runs


def refit_H(X, W, *, loss="frobenius", l1_H=0.0, mask=None, max_iter=DEFAULT_MAX_ITER,
            tol=1e-7, H_init=None):
    """Fit the recipes H ≥ 0 for fixed parts W: min_H loss(X, W H) + l1_H·ΣH.

    Used for consensus (H of the consensus parts), separable fits and refitting known
    signatures. The problem is convex for both losses, so the start only affects speed.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_features, n_samples)
    W : ndarray of shape (n_features, rank)
        Fixed, non-negative; used as given (not renormalised).
    loss : {"frobenius", "kl"}
    l1_H : float
    mask : bool ndarray, optional
    max_iter, tol : as in :func:`nmf`
    H_init : ndarray of shape (rank, n_samples), optional

    Returns
    -------
    H : ndarray of shape (rank, n_samples)
    value : float
        Data-fit loss of ``W @ H``.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> H, value = refit_H(W @ np.array([[2.0, 0.0], [1.0, 3.0]]), W, tol=1e-12)
    >>> H.round(4).tolist()
    [[2.0, 0.0], [1.0, 3.0]]
    """
    lossobj = get_loss(check_choice("loss", loss, tuple(LOSSES)))
    l1_H = check_nonneg_number("l1_H", l1_H)
    Xv, mask = check_data(X, mask)
    W = np.asarray(W, dtype=np.float64)
    m, n = Xv.shape
    if W.ndim != 2 or W.shape[0] != m:
        raise NMFInputError(f"W must have shape ({m}, rank) to match X {Xv.shape}, got {W.shape}")
    if not np.all(np.isfinite(W)) or (W < 0).any():
        raise NMFInputError("W must be finite and non-negative")
    r = W.shape[1]
    if H_init is None:
        scale = (float(Xv.sum()) / max(n, 1)) / max(float(W.sum()), 1e-300)
        H0 = np.full((r, n), scale)
    else:
        H0 = np.array(H_init, dtype=np.float64)
    Wb, Hb = W[None].copy(), H0[None]
    opts = dict(l1_W=0.0, l1_H=l1_H, max_iter=max_iter, tol=tol, update_W=False)
    if lossobj.name == "frobenius" and mask is None:
        _, H, _, _, _ = _fit_hals(Xv, Wb, Hb, lossobj=lossobj, **opts)
    else:
        _, H, _, _, _ = _fit_ccd(Xv, mask, Wb, Hb, kl=lossobj.is_kl, **opts)
    H = np.ascontiguousarray(H[0])
    return H, lossobj.value(Xv, W, H, mask)


def _check_custom(W_init, H_init, m, n, rank):
    for name, arr, shape in (("W_init", W_init, (m, rank)), ("H_init", H_init, (rank, n))):
        if arr is None:
            continue
        a = np.asarray(arr, dtype=np.float64)
        if a.shape != shape:
            raise NMFInputError(f"{name} must have shape {shape}, got {a.shape}")
        if not np.all(np.isfinite(a)) or (a < 0).any():
            raise NMFInputError(f"{name} must be finite and non-negative")


def _normalize(W, H):
    """Columns of W sum to 1 (H takes the scale); order components by H's row sums."""
    s = W.sum(axis=0)
    live = s > 0
    Wn = W.copy()
    Hn = H.copy()
    Wn[:, live] /= s[live]
    Hn[live] *= s[live, None]
    Hn[~live] = 0.0
    order = np.argsort(-Hn.sum(axis=1), kind="stable")
    return np.ascontiguousarray(Wn[:, order]), np.ascontiguousarray(Hn[order])


def _penalty_mode(l1_W, l1_H):
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


def _rescale(P, Q, axis_p, axis_q, idx):
    """Make P's component sums 1 for runs ``idx``, moving the scale into Q (P·Q unchanged)."""
    for b in idx:
        s = P[b].sum(axis=axis_p)
        s = np.where(s > 0, s, 1.0)
        if axis_p == 0:
            P[b] /= s
        else:
            P[b] /= s[:, None]
        if axis_q == 0:
            Q[b] *= s
        else:
            Q[b] *= s[:, None]


def _converged(prev, cur, tol):
    """Relative decrease of the objective below tol (or an increase from rounding)."""
    return (prev - cur) <= tol * max(abs(prev), np.finfo(float).tiny)


def _loop(step, B, max_iter, tol, name):
    """Run ``step(active) -> objectives (B,)`` until every restart converges."""
    active = np.ones(B, dtype=bool)
    hist = [[] for _ in range(B)]
    n_iter = np.zeros(B, dtype=int)
    conv = np.zeros(B, dtype=bool)
    for it in range(max_iter):
        obj = step(active)
        for b in np.flatnonzero(active):
            hist[b].append(float(obj[b]))
            n_iter[b] = it + 1
            if len(hist[b]) > 1 and _converged(hist[b][-2], hist[b][-1], tol):
                conv[b] = True
                active[b] = False
        if it % 50 == 0:
            log.debug("%s iteration %d: %d runs active, best objective %.6g", name, it,
                      active.sum(), np.min([h[-1] for h in hist]))
        if not active.any():
            break
    return hist, n_iter, conv


# --------------------------------------------------------------------------- KL / masked
def _fit_ccd(X, mask, W, H, *, kl, l1_W, l1_H, max_iter, tol, update_W=True):
    B, m, r = W.shape
    n = H.shape[2]
    Wm = np.ascontiguousarray(W)                        # (B, m, r): updated in the W-step
    Ht = np.ascontiguousarray(H.transpose(0, 2, 1))     # (B, n, r): updated in the H-step
    col_loss_w = np.zeros((B, m))
    col_loss_h = np.zeros((B, n))
    n_inner = _KL_NEWTON_STEPS if kl else 1
    if sp.issparse(X):
        csr = X  # rows of X = columns of the W-step problem
        csc = X.tocsc()
        csc.sort_indices()

        def run(data, F, U, active, l1, want, out):
            indptr, indices, values = data
            _ccd.ccd_sparse_kl(indptr, indices, values, F, F.sum(axis=2), U, active, l1,
                               n_inner, want, out)

        rows = (csr.indptr, csr.indices, csr.data)
        cols = (csc.indptr, csc.indices, csc.data)
    else:
        use_mask = mask is not None
        Mr = np.ascontiguousarray(mask) if use_mask else np.ones((1, n), dtype=bool)
        Mc = np.ascontiguousarray(mask.T) if use_mask else np.ones((1, m), dtype=bool)

        def run(data, F, U, active, l1, want, out):
            Xd, Md = data
            _ccd.ccd_dense(Xd, Md, use_mask, F, F.sum(axis=2), U, active, kl, l1, n_inner,
                           want, out)

        rows = (X, Mr)
        cols = (np.ascontiguousarray(X.T), Mc)

    mode = _penalty_mode(l1_W, l1_H) if update_W else None
    every = np.arange(B)
    if mode == "W":
        _rescale(Wm, Ht, 0, 0, every)  # W (m, r): columns sum to 1; H^T (n, r) scaled
    elif mode == "H":
        _rescale(Ht, Wm, 0, 0, every)

    def step(active):
        idx = np.flatnonzero(active)
        L1 = np.full((B, r), l1_W)
        if mode == "W":  # penalty l1_H·s_k·|h_k| moves onto the scale s_k of w_k
            L1 += l1_H * Ht.sum(axis=1)
        F = np.ascontiguousarray(Ht.transpose(0, 2, 1))  # (B, r, n) = H
        if update_W:
            run(rows, F, Wm, active, L1, False, col_loss_w)
        if mode == "W":
            _rescale(Wm, Ht, 0, 0, idx)
        L1 = np.full((B, r), l1_H)
        if mode == "H":
            L1 += l1_W * Wm.sum(axis=1)
        F = np.ascontiguousarray(Wm.transpose(0, 2, 1))  # (B, r, m) = W^T
        run(cols, F, Ht, active, L1, True, col_loss_h)
        if mode == "H":
            _rescale(Ht, Wm, 0, 0, idx)
        return (col_loss_h.sum(axis=1) + l1_W * Wm.sum(axis=(1, 2))
                + l1_H * Ht.sum(axis=(1, 2)))

    hist, n_iter, conv = _loop(step, B, max_iter, tol, "ccd")
    return Wm, Ht.transpose(0, 2, 1), hist, n_iter, conv


# --------------------------------------------------------------------------- Frobenius
def _hals_sweeps(U, A, G, l1, max_inner):
    """Accelerated HALS on rows of U (B, r, c) for min ½‖X − FᵀU‖² + Σ_k l1_k·Σu_k with
    A = F X, G = F Fᵀ and l1 of shape (B, r)."""
    r = U.shape[1]
    first = None
    diag = np.einsum("bkk->bk", G)
    safe = np.where(diag > 0, diag, 1.0)
    for _ in range(max_inner):
        change = 0.0
        for k in range(r):
            num = A[:, k, :] - np.matmul(G[:, k:k + 1, :], U)[:, 0, :] - l1[:, k, None]
            new = np.maximum(U[:, k, :] + num / safe[:, k, None], 0.0)
            new = np.where(diag[:, k, None] > 0, new, U[:, k, :])
            change += float(np.sum((new - U[:, k, :]) ** 2))
            U[:, k, :] = new
        if first is None:
            first = change
        if change <= 1e-2 * first:
            break
    return U


def _fit_hals(X, W, H, *, l1_W, l1_H, max_iter, tol, lossobj, update_W=True):
    B, m, r = W.shape
    n = H.shape[2]
    Wt = np.ascontiguousarray(W.transpose(0, 2, 1))  # (B, r, m)
    H = np.ascontiguousarray(H)                      # (B, r, n)
    sparse = sp.issparse(X)
    if sparse:
        XT = X.T.tocsr()
        nnz = X.nnz
        normX2 = float(X.data @ X.data)
    else:
        XT = X.T
        nnz = m * n
        normX2 = float(np.vdot(X, X))
    # Gillis & Glineur: inner repetitions worth up to half the cost of the products
    inner_W = int(1 + 0.5 * (1 + nnz / (m * (r + 1))))
    inner_H = int(1 + 0.5 * (1 + nnz / (n * (r + 1))))

    def products(F, data, dataT, rows):
        """F (b, r, L) times data (L × rows) for dense or sparse data -> (b, r, rows)."""
        if sparse:
            b = F.shape[0]
            out = dataT @ F.reshape(b * r, -1).T  # (rows, b r)
            return np.ascontiguousarray(out.T.reshape(b, r, rows))
        return np.matmul(F, data)

    mode = _penalty_mode(l1_W, l1_H) if update_W else None
    every = np.arange(B)
    if mode == "W":
        _rescale(Wt, H, 1, 1, every)  # rows of Wᵀ (columns of W) sum to 1
    elif mode == "H":
        _rescale(H, Wt, 1, 1, every)

    def step(active):
        idx = np.flatnonzero(active)
        Wa, Ha = Wt[idx], H[idx]
        nb = len(idx)
        # W-step: min over W of ½‖Xᵀ − Hᵀ W‖² : rows of Wᵀ, with A = H Xᵀ, G = H Hᵀ
        L1 = np.full((nb, r), l1_W)
        if mode == "W":
            L1 += l1_H * Ha.sum(axis=2)
        if update_W:
            A = products(Ha, XT, X, m)
            G = np.matmul(Ha, Ha.transpose(0, 2, 1))
            Wa = _hals_sweeps(Wa, A, G, L1, inner_W)
        if mode == "W":
            _rescale(Wa, Ha, 1, 1, range(nb))
        # H-step
        L1 = np.full((nb, r), l1_H)
        if mode == "H":
            L1 += l1_W * Wa.sum(axis=2)
        A = products(Wa, X, XT, n)
        G = np.matmul(Wa, Wa.transpose(0, 2, 1))
        Ha = _hals_sweeps(Ha, A, G, L1, inner_H)
        if mode == "H":
            _rescale(Ha, Wa, 1, 1, range(nb))
            A = products(Wa, X, XT, n)
            G = np.matmul(Wa, Wa.transpose(0, 2, 1))
        Wt[idx], H[idx] = Wa, Ha
        HH = np.matmul(Ha, Ha.transpose(0, 2, 1))
        fit = 0.5 * normX2 - np.einsum("brc,brc->b", A, Ha) + 0.5 * np.einsum("bkl,bkl->b", G, HH)
        for t in np.flatnonzero(fit < 1e-6 * 0.5 * normX2):
            # near an exact fit the expanded formula cancels: use the exact residual
            fit[t] = lossobj.value(X, Wa[t].T, Ha[t])
        obj = np.full(B, np.nan)
        obj[idx] = fit + l1_W * Wa.sum(axis=(1, 2)) + l1_H * Ha.sum(axis=(1, 2))
        return obj

    hist, n_iter, conv = _loop(step, B, max_iter, tol, "hals")
    return Wt.transpose(0, 2, 1), H, hist, n_iter, conv
