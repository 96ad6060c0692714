"""The NMF solver on arrays: ``nmf`` (best of several restarts), ``nmf_runs`` (all runs)
and ``refit_H`` (recipes for fixed parts).

The algorithms (accelerated HALS for Frobenius, compiled coordinate descent for KL and
masked problems) are in ``algorithms.py``; this module validates once, draws the starts,
groups restarts into batches (each run from its own child of
``numpy.random.SeedSequence(seed)``, so a seed reproduces every run whatever the batching),
optionally resamples the data per run, and packs the results. Only arrays are known here
(numpy, scipy.sparse); names, DataFrames and AnnData are handled by ``nmfbio.data``.
"""

from __future__ import annotations

import logging

import numpy as np

from nmfbio._validation import check_seed
from nmfbio._warn import warn
from nmfbio.errors import ConvergenceWarning, DataWarning, NMFInputError
from nmfbio.solver.algorithms import fit_ccd, fit_hals
from nmfbio.solver.batch import Batch
from nmfbio.solver.init import INITS, initialize
from nmfbio.solver.losses import LOSSES, get_loss
from nmfbio.solver.minvol import DEFAULT_DELTA, fit_minvol, log_volume, volume_lambda
from nmfbio.solver.resample import RESAMPLERS
from nmfbio.solver.resample import resample as resample_data
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
_BATCH_BYTES = 256 * 2**20  # per-run data (resampled copies, masks) held at once


def nmf(X, rank, *, loss="frobenius", l1_W=0.0, l1_H=0.0, mask=None, init="auto",
        W_init=None, H_init=None, restarts=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
        seed=None, feature_names=None, sample_names=None, volume=0.0,
        volume_delta=DEFAULT_DELTA) -> NMFResult:
    """Fit X ≈ W H with W, H ≥ 0 on arrays; return the best of ``restarts`` runs.

    Parameters and conventions are those of :func:`nmfbio.fit`, which also accepts
    DataFrames and AnnData and is the function most users want. Note that scikit-learn's
    ``NMF`` names the factors the other way round: its ``components_`` are our ``W.T`` when
    it is given ``X.T`` (samples × features).

    L1 with the KL loss: with ``l1_H`` alone the columns of W are pinned to sum 1, so ΣH is
    the total of the model and the penalty only rescales: the result is the unpenalised W
    with H divided by (1 + l1_H), with the same zeros (likewise ``l1_W`` alone). Setting
    both penalties does sparsify (see :func:`nmfbio.fit`); with the Frobenius loss either
    one does.

    A coefficient whose partner component is zero (a column of W, or a row of H, all zero
    where observed) is left unchanged rather than pulled to zero by its penalty, so that a
    component an early step emptied can come back (see ``_ccd.py``). A component still
    dead at the end is zeroed on both sides, its penalty dropped from the last objective,
    and a ``DataWarning`` is raised.

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
                    sample_names=sample_names, volume=volume, volume_delta=volume_delta,
                    _warn=False)
    objectives = np.array([r.objective for r in runs])
    best = runs[int(np.argmin(objectives))]
    best.restart_objectives = objectives
    if not best.converged:
        warn(
            f"NMF stopped at max_iter={best.n_iter} before the relative decrease of the "
            f"objective fell below tol={tol:g}; raise max_iter or tol", ConvergenceWarning,
        )
    if best.n_dead:
        warn(f"{best.n_dead} of {best.rank} components ended dead (an all-zero column of W "
             "and row of H): the data support fewer components, or l1_W/l1_H is too "
             "strong; lower the rank or the penalty", DataWarning)
    return best


def nmf_runs(X, rank, *, loss="frobenius", l1_W=0.0, l1_H=0.0, mask=None, init="auto",
             W_init=None, H_init=None, restarts=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
             seed=None, resample=None, feature_names=None, sample_names=None,
             run_ids=None, volume=0.0, volume_delta=DEFAULT_DELTA,
             _warn=True) -> list[NMFResult]:
    """Fit ``restarts`` seeded runs (in batches) and return all of them, in seed order.

    Used by consensus and rank selection, which need every run. Parameters as in
    :func:`nmfbio.fit`, plus:

    Parameters
    ----------
    mask : bool ndarray of shape (n_features, n_samples) or (restarts, n_features, n_samples)
        One mask for all runs, or one per run (e.g. cross-validation repeats).
    resample : {None, "poisson", "multinomial"}
        Fit run b on its own resampled copy of X (drawn from run b's seed); ``loss`` of each
        result is then measured on that copy.
    run_ids : sequence of int, optional
        Fit only these runs of the ``restarts`` (indices in ``range(restarts)``). Run b is
        drawn from child b of ``SeedSequence(seed)`` whatever else is fitted, so the union of
        disjoint ``run_ids`` gives exactly the runs of one call (shards, see
        :mod:`nmfbio.model_selection._shards`).
    volume : float, default 0
        λ̃ of minimum-volume NMF (KL only; :mod:`nmfbio.solver.minvol`): each run is fitted
        as plain KL NMF, then continued with the penalty λ·log det(WᵀW + δI),
        λ = λ̃ · KL / |log det| of run 0's plain fit (the same λ for every run, batch and
        shard). ``loss`` of a result is its data fit, ``objective`` adds the penalty.
    volume_delta : float, default 1
        δ of the volume penalty.

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
    if resample is not None:
        check_choice("resample", resample, RESAMPLERS)
    volume = check_nonneg_number("volume", volume)
    volume_delta = check_nonneg_number("volume_delta", volume_delta)
    if volume > 0 and (lossobj.name != "kl" or l1_W > 0 or volume_delta <= 0):
        raise NMFInputError("minimum-volume NMF (volume > 0) is for loss='kl' with parts on "
                            "the simplex: l1_W must be 0 and volume_delta > 0")
    masks = None
    if mask is not None and np.ndim(mask) == 3:
        masks = np.asarray(mask)
        if masks.shape[0] != restarts:
            raise NMFInputError(f"a 3-D mask needs one mask per run: shape ({restarts}, "
                                f"n_features, n_samples), got {masks.shape}")
        mask = masks.any(axis=0)  # validate X where any run observes it
    Xv, mask = check_data(X, mask, feature_names=feature_names, sample_names=sample_names)
    if masks is not None:
        masks = np.ascontiguousarray(masks.astype(bool))
        if not masks.reshape(restarts, -1).any(axis=1).all():
            raise NMFInputError("a per-run mask leaves no observed entry")
    m, n = Xv.shape
    rank = check_rank(rank, (m, n))
    if (W_init is not None or H_init is not None) and init == "auto":
        init = "custom"
    if init == "custom":
        _check_custom(W_init, H_init, m, n, rank)
    elif W_init is not None or H_init is not None:
        raise NMFInputError(f"W_init/H_init are used only with init='custom', got init={init!r}")
    seed = check_seed(seed)
    use_hals = lossobj.name == "frobenius" and mask is None
    algo = "hals" if use_hals else "ccd"
    params = dict(rank=rank, loss=lossobj.name, l1_W=l1_W, l1_H=l1_H, init=init,
                  restarts=restarts, max_iter=max_iter, tol=tol, seed=seed, algorithm=algo,
                  masked=mask is not None, resample=resample or "none")
    lam = None
    if volume > 0:
        params.update(algorithm="ccd+minvol", volume=volume, volume_delta=volume_delta)
        selected0 = range(restarts) if run_ids is None else _check_run_ids(run_ids, restarts)
        if 0 not in selected0:  # λ comes from run 0's plain fit, whatever is fitted here
            run0 = nmf_runs(
                X, rank, loss="kl", l1_H=l1_H, mask=mask if masks is None else masks,
                init=init, W_init=W_init, H_init=H_init, restarts=restarts,
                max_iter=max_iter, tol=tol, seed=seed, resample=resample, run_ids=[0],
                _warn=False)[0]
            lam = volume_lambda(volume, run0.loss, run0.W, volume_delta)
    fn = None if feature_names is None else np.asarray([str(x) for x in feature_names], object)
    sn = None if sample_names is None else np.asarray([str(x) for x in sample_names], object)

    # per-run copies held at once: resampled data (rows + columns), masks with masked data
    dense_bytes = 8 * (Xv.nnz if hasattr(Xv, "nnz") else m * n)
    # (resampled dense data: rows, columns and, for HALS, a float32 copy)
    per_run_bytes = (5 * dense_bytes // 2 if resample is not None else 0) + (
        17 * m * n if masks is not None else 0)
    chunk = restarts if per_run_bytes == 0 else max(1, min(restarts,
                                                          _BATCH_BYTES // per_run_bytes))
    children = np.random.SeedSequence(seed).spawn(restarts)
    selected = range(restarts) if run_ids is None else _check_run_ids(run_ids, restarts)
    runs = []
    for lo in range(0, len(selected), chunk):
        ids = selected[lo:lo + chunk]
        Ws, Hs, data = [], [], []
        for b in ids:
            rng = np.random.default_rng(children[b])
            this_init = init
            if init == "auto":
                this_init = "nndsvda" if b == 0 else "random"
            elif init in ("nndsvd", "nndsvda", "spa", "custom") and b > 0:
                this_init = "random"  # deterministic starts would repeat
            Xb = resample_data(Xv, resample, rng) if resample is not None else Xv
            mb = masks[b] if masks is not None else mask
            W0, H0 = initialize(Xb, rank, this_init, rng, mb, W_init, H_init)
            Ws.append(W0)
            Hs.append(H0)
            data.append(Xb)
        batch_mask = mask
        if masks is not None:  # a slice (a view) when every run is fitted
            batch_mask = (masks[ids.start:ids.stop] if isinstance(ids, range)
                          else masks[list(ids)])
        batch = Batch(data if resample is not None else Xv, batch_mask)
        W, H = np.stack(Ws), np.stack(Hs)
        opts = dict(l1_W=l1_W, l1_H=l1_H, max_iter=max_iter, tol=tol)
        if use_hals:
            W, H, hist, n_iter, conv = fit_hals(batch, W, H, lossobj=lossobj, **opts)
        else:
            W, H, hist, n_iter, conv = fit_ccd(batch, W, H, kl=lossobj.is_kl, **opts)
        for t, b in enumerate(ids):
            if volume > 0:
                Xt, Mt = batch.data(t), batch.mask(t)
                if lam is None:  # run 0, the first of the first batch
                    lam = volume_lambda(volume, float(hist[t][-1] - l1_H * H[t].sum()),
                                        _normalize(W[t], H[t])[0], volume_delta)
                W[t], H[t], hist_v, it_v, conv[t] = fit_minvol(
                    Xt, W[t], H[t], lam=lam, delta=volume_delta, l1_H=l1_H, mask=Mt,
                    max_iter=max_iter, tol=tol)
                n_iter[t] += it_v
                penalty = lam * log_volume(W[t], volume_delta)
                hist[t] = list(hist_v)
                history = np.asarray(hist_v, dtype=float)
                value = float(history[-1]) - penalty - l1_H * float(H[t].sum())
                Wn, Hn = _normalize(W[t], H[t])
                runs.append(NMFResult(
                    W=Wn, H=Hn, loss=value, objective=float(history[-1]),
                    loss_name=lossobj.name, history=history, n_iter=int(n_iter[t]),
                    converged=bool(conv[t]), seed=seed,
                    params=dict(params, restart=b, volume_lambda=lam), feature_names=fn,
                    sample_names=sn, restart_objectives=np.array([float(history[-1])])))
                continue
            history = np.asarray(hist[t], dtype=float)
            # the algorithms evaluate the exact loss of the final factors in float64 (KL
            # column by column; Frobenius by the expanded form, exactly near zero): no second
            # pass over X, whose temporaries would set the peak memory of a sparse fit
            value = float(history[-1]) - l1_W * float(W[t].sum()) - l1_H * float(H[t].sum())
            dead = _dead_components(W[t], H[t])
            # a dead component's partner was frozen, not fitted (see _ccd.py): its penalty
            # is dropped with it, which only lowers the last objective
            W[t][:, dead] = 0.0
            H[t][dead] = 0.0
            history[-1] = value + l1_W * float(W[t].sum()) + l1_H * float(H[t].sum())
            objective = float(history[-1])
            Wn, Hn = _normalize(W[t], H[t])
            runs.append(NMFResult(
                W=Wn, H=Hn, loss=value, objective=objective, loss_name=lossobj.name,
                history=history, n_iter=int(n_iter[t]), converged=bool(conv[t]),
                seed=seed, params=dict(params, restart=b), feature_names=fn,
                sample_names=sn, restart_objectives=np.array([objective]),
            ))
    if _warn and not all(r.converged for r in runs):
        k = sum(not r.converged for r in runs)
        warn(f"{k} of {restarts} NMF runs stopped at max_iter={max_iter}; raise max_iter or "
             "tol", ConvergenceWarning)
    if _warn:
        k = sum(r.n_dead > 0 for r in runs)
        if k:
            warn(f"{k} of {len(runs)} NMF runs ended with a dead component (an all-zero "
                 "column of W or row of H); the data support fewer components, or "
                 "l1_W/l1_H is too strong", DataWarning)
    return runs


def refit_H(X, W, *, loss="frobenius", l1_H=0.0, mask=None, max_iter=DEFAULT_MAX_ITER,
            tol=1e-7, H_init=None, _warn=True):
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
    _warn : bool, default True
        Warn about all-zero features/samples (internal callers that fitted the same data
        already did).

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
    Xv, mask = check_data(X, mask, warn_zero=_warn)
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
        _, H, _, _, _ = fit_hals(Batch(Xv), Wb, Hb, lossobj=lossobj, **opts)
    else:
        _, H, _, _, _ = fit_ccd(Batch(Xv, mask), Wb, Hb, kl=lossobj.is_kl, **opts)
    H = np.ascontiguousarray(H[0])
    return H, lossobj.value(Xv, W, H, mask)


def _check_run_ids(run_ids, restarts):
    ids = [int(b) for b in run_ids if isinstance(b, (int, np.integer)) and not isinstance(b, bool)]
    if len(ids) != len(run_ids) or not ids or len(set(ids)) != len(ids) or not all(
            0 <= b < restarts for b in ids):
        raise NMFInputError(f"run_ids must be distinct integers in [0, {restarts}), got "
                            f"{list(run_ids)!r}")
    return sorted(ids)


def _check_custom(W_init, H_init, m, n, rank):
    for name, arr, shape in (("W_init", W_init, (m, rank)), ("H_init", H_init, (rank, n))):
        if arr is None:
            continue
        a = np.asarray(arr, dtype=np.float64)
        if a.shape != shape:
            raise NMFInputError(f"{name} must have shape {shape}, got {a.shape}")
        if not np.all(np.isfinite(a)) or (a < 0).any():
            raise NMFInputError(f"{name} must be finite and non-negative")


def _dead_components(W, H):
    """Indices of components whose column of W or row of H is all zero (they contribute
    nothing to ``W H``)."""
    return np.flatnonzero(~(W.any(axis=0) & H.any(axis=1)))


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
