"""Neural assembly detection: gated Poisson NMF on spike counts, with held-out significance.

:func:`detect` finds groups of units that fire together in short bins. Steps (each measured
on generated recordings; see ``benchmarks/assemblies.py`` and the tests):

1. **Split in time.** The recording is cut into blocks (``block``, 10 s) alternately used for
   training and testing, so significance is judged on spikes the fit never saw.
2. **Candidates** (training blocks). Each unit's background is its own slowly varying rate
   (piecewise linear, a knot every ``timescale`` seconds), so heterogeneous and drifting rates
   are not assemblies. PCA/ICA of the standardised residuals (Lopes-dos-Santos et al. 2013)
   proposes ``n_significant + extra`` patterns (Marchenko–Pastur count plus spares); the bins
   where each pattern is most active start a gated Poisson NMF (:mod:`nmfbio.solver.gated`),
   X ≈ background + W·Z with on/off gates Z. Plain KL-NMF with free activations fits Poisson
   noise instead: every bin gets its own activation.
3. **Membership** (the documented rule). For each candidate and unit, the gate posterior is
   recomputed *leaving that unit out*; the unit's spikes in those bins are compared with its
   expected background there: ``z = (O − E)/√E`` with ``O = Σ_t q⁽⁻ⁱ⁾_t x_it`` and
   ``E = Σ_t q⁽⁻ⁱ⁾_t μ_it``. A unit is a member when ``z`` exceeds the one-sided Bonferroni
   threshold at ``member_alpha`` over units (3.09 for 50 units at 0.05). Non-members' weights
   are set to zero and the model refitted, until membership is stable. Overlaps are allowed.
   Candidates with fewer than 2 members are dropped; two candidates sharing most members
   (Jaccard ≥ 0.5) keep the one with more evidence.
4. **Significance** (test blocks). The background of the test blocks is fitted on the test
   spikes alone (the unit's own background, without assemblies); each candidate's gain in
   held-out log-likelihood, ``Σ_t log(1 − π + π·e^{llr_t})``, is summed per block. Under the
   null (a pattern fitted to noise) the gain's mean is ≤ 0 (Jensen); the one-sided t-test of
   the block gains gives the p-value, Bonferroni-adjusted over candidates. In-sample scores and
   whole-recording circular-shift surrogates are not used for the test: both gave false
   positives on drifting null recordings. Shift surrogates of the test blocks are still drawn
   (``null_gains``) to show what noise looks like.
5. **Final fit** on all bins with the significant assemblies, membership re-tested, and
   activation probabilities and events (runs of bins with probability > 0.5).

``rank=`` fixes the number of candidates (all reported, with their p-values). What is not
here: the ICA maths (:mod:`nmfbio.assemblies.ica`), the result object and plots.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy import stats

from nmfbio.assemblies.ica import ica_activity, ica_patterns, standardise
from nmfbio.assemblies.result import AssemblyResult, as_counts
from nmfbio.errors import NMFInputError
from nmfbio.solver.gated import gate_llr, gated_nmf

__all__ = ["detect", "membership"]

log = logging.getLogger("nmfbio")

#: Fraction of bins in which each ICA pattern is most active that start its gate.
START_QUANTILE = 0.97
MIN_MEMBERS = 2
#: EM tolerance (relative log-likelihood change) of the exploratory fits; the final fit
#: uses the solver's 1e-7.
SEARCH_TOL = 1e-5
#: A candidate must be on in at least this many bins (expected) to be kept.
MIN_EVENTS = 10
DUPLICATE_JACCARD = 0.5


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _expected_without(fit, X_shape, k):
    """μ⁽⁻ᵏ⁾: background plus every other component's posterior rate, (n_units, n_bins)."""
    mu = fit.background() + fit.W @ fit.q
    return mu - np.outer(fit.W[:, k], fit.q[k]) if k is not None else mu


def membership(X, fit, *, alpha=0.05):
    """Leave-one-unit-out membership z-scores of every unit in every component.

    Parameters
    ----------
    X : ndarray of shape (n_units, n_bins)
    fit : nmfbio.solver.gated.GatedFit
    alpha : float
        Family-wise level over units (one-sided Bonferroni).

    Returns
    -------
    z : ndarray of shape (n_units, k)
    members : ndarray of bool, shape (n_units, k)
    gain : ndarray of shape (n_units, k)
        ``O / E``: how many times its background rate a unit fires while the component is on.

    Examples
    --------
    >>> from nmfbio.solver.gated import gated_nmf
    >>> rng = np.random.default_rng(0); z = rng.random(6000) < 0.03
    >>> rate = np.full((8, 6000), 0.2); rate[:3, z] *= 4
    >>> X = rng.poisson(rate).astype(float); fit = gated_nmf(X, z[None].astype(float))
    >>> membership(X, fit)[1][:, 0].tolist()
    [True, True, True, False, False, False, False, False]
    """
    n_units, k = fit.W.shape
    threshold = stats.norm.isf(alpha / max(n_units, 1))
    z = np.zeros((n_units, k))
    gain = np.ones((n_units, k))
    logit_pi = np.log(fit.pi) - np.log1p(-fit.pi)
    for c in range(k):
        mu = np.maximum(_expected_without(fit, X.shape, c), 1e-12)
        contrib = X * np.log1p(fit.W[:, [c]] / mu) - fit.W[:, [c]]
        llr = contrib.sum(axis=0)
        q_loo = 1.0 / (1.0 + np.exp(-np.clip(logit_pi[c] + llr[None, :] - contrib, -700, 700)))
        observed = (q_loo * X).sum(axis=1)
        expected = (q_loo * mu).sum(axis=1)
        z[:, c] = (observed - expected) / np.sqrt(np.maximum((q_loo ** 2 * mu).sum(axis=1),
                                                             1e-12))
        gain[:, c] = observed / np.maximum(expected, 1e-12)
    return z, z > threshold, gain


def _evidence(X, fit):
    """In-sample log-likelihood gain of each component: Σ_t log(1 − π + π e^{llr})."""
    llr = gate_llr(X, fit.W, fit.background())
    return _mixture_gain(llr, fit.pi).sum(axis=1)


def _mixture_gain(llr, pi):
    pi = np.asarray(pi)[:, None]
    return np.logaddexp(np.log1p(-pi), np.log(pi) + llr)


def _refine(X, fit, *, timescale, alpha, max_iter, rounds=4, tol=SEARCH_TOL):
    """Membership test → zero the non-members → refit, until stable; drop weak duplicates."""
    members = None
    for _ in range(rounds):
        z, is_member, _ = membership(X, fit, alpha=alpha)
        keep = (is_member.sum(axis=0) >= MIN_MEMBERS) & (fit.pi * X.shape[1] >= MIN_EVENTS)
        # duplicates: two candidates sharing most members keep the better-supported one
        evidence = _evidence(X, fit)
        for a in range(is_member.shape[1]):
            for b in range(a + 1, is_member.shape[1]):
                if not (keep[a] and keep[b]):
                    continue
                inter = np.sum(is_member[:, a] & is_member[:, b])
                union = np.sum(is_member[:, a] | is_member[:, b])
                if union and inter / union >= DUPLICATE_JACCARD:
                    keep[b if evidence[a] >= evidence[b] else a] = False
        new = is_member[:, keep]
        if members is not None and new.shape == members.shape and np.array_equal(new, members):
            break
        members = new
        if not keep.any():
            return None
        W = np.where(members, np.maximum(fit.W[:, keep], 1e-3 * fit.W[:, keep].max()), 0.0)
        fit = gated_nmf(X, fit.q[keep], W_init=W, B_init=fit.B, timescale=timescale,
                        max_iter=max_iter, tol=tol)
    return fit


def _propose(X, n_candidates, *, extra, timescale, seed, alpha, max_iter, rounds=3):
    """Candidate assemblies on training bins: ICA-started gated NMF, refined, then deflated.

    Round 1 starts gates from the bins where each ICA pattern of the standardised residuals
    (against each unit's background) is most active. Later rounds look for what the found
    assemblies leave unexplained (residuals against background + found assemblies), add
    those patterns and refit all together; they stop when no new assembly survives.
    ``n_candidates`` (a fixed rank) makes one round with exactly that many patterns.
    """
    Xd = _dense(X)
    base = gated_nmf(X, None, timescale=timescale, max_iter=100, tol=SEARCH_TOL)
    fit, n_sig0 = None, 0
    for r in range(1 if n_candidates is not None else rounds):
        expected = base.background() if fit is None else fit.background() + fit.W @ fit.q
        Z = standardise(Xd, expected)
        if n_candidates is None:
            _, _, n_sig = ica_patterns(Z, 0)
            n_new = min(n_sig + (extra if r == 0 else extra // 2),
                        X.shape[0] // MIN_MEMBERS)
        else:
            n_sig = ica_patterns(Z, 0)[2]
            n_new = n_candidates
        n_sig0 = n_sig if r == 0 else n_sig0
        if n_new == 0:
            break
        patterns, _, _ = ica_patterns(Z, n_new, seed=seed + r)
        R = ica_activity(patterns, Z)
        q_new = (R > np.quantile(R, START_QUANTILE, axis=1, keepdims=True)).astype(np.float64)
        k_before = 0 if fit is None else fit.W.shape[1]
        q0 = q_new if fit is None else np.vstack([fit.q, q_new])
        new = gated_nmf(X, q0, B_init=base.B if fit is None else fit.B, timescale=timescale,
                        max_iter=max_iter, tol=SEARCH_TOL)
        new = _refine(X, new, timescale=timescale, alpha=alpha, max_iter=max_iter)
        log.info("assemblies: round %d, %d pattern(s) tried, %d candidate(s) kept", r + 1,
                 n_new, 0 if new is None else new.W.shape[1])
        if new is None or new.W.shape[1] <= k_before:
            break
        fit = new
    return fit, n_sig0


def _heldout(X, W, pi, *, timescale, n_surrogates, seed):
    """Held-out gain of each candidate against shift surrogates of the same test bins.

    Returns the observed gains (k,), the surrogate gains (n_surrogates, k) and one-sided
    p-values from the surrogates' normal approximation, ``z = (G − mean)/sd``.
    """
    base = gated_nmf(X, None, timescale=timescale, max_iter=100, tol=SEARCH_TOL)
    bg = base.background()
    observed = _mixture_gain(gate_llr(X, W, bg), pi).sum(axis=1)
    rng = np.random.default_rng(seed)
    Xd = _dense(X)
    n_units, n_bins = Xd.shape
    rows = np.arange(n_units)[:, None]
    null = np.empty((n_surrogates, W.shape[1]))
    for s in range(n_surrogates):
        cols = (np.arange(n_bins)[None, :] - rng.integers(0, n_bins, size=n_units)[:, None])
        cols %= n_bins
        null[s] = _mixture_gain(gate_llr(Xd[rows, cols], W, bg[rows, cols]), pi).sum(axis=1)
    z = (observed - null.mean(axis=0)) / np.maximum(null.std(axis=0, ddof=1), 1e-12)
    return observed, null, stats.norm.sf(z)


def _significant_candidates(X, block_ids, *, rank, extra, timescale, seed, member_alpha,
                            max_iter, n_surrogates):
    """Cross-fitting: candidates from even blocks tested on odd ones, and the reverse.

    Returns the candidates' W (n_units, k), π, Bonferroni-adjusted p-values over all
    candidates of both folds, their held-out gains and surrogate gains, and the
    Marchenko–Pastur count of the first fold.
    """
    Ws, pis, ps, gains, nulls, n_sig0 = [], [], [], [], [], None
    for fold, train in enumerate((block_ids % 2 == 0, block_ids % 2 == 1)):
        cand, n_sig = _propose(X[:, train], rank, extra=extra, timescale=timescale,
                               seed=seed + fold, alpha=member_alpha, max_iter=max_iter)
        n_sig0 = n_sig if n_sig0 is None else n_sig0
        if cand is None:
            continue
        g, null, p = _heldout(X[:, ~train], cand.W, cand.pi, timescale=timescale,
                              n_surrogates=n_surrogates, seed=seed + fold)
        Ws.append(cand.W), pis.append(cand.pi), ps.append(p), gains.append(g)
        nulls.append(null)
        log.info("assemblies: fold %d, %d candidate(s), held-out p = %s", fold + 1,
                 cand.W.shape[1], np.array2string(p, precision=3))
    if not Ws:
        return None
    p = np.concatenate(ps)
    return (np.hstack(Ws), np.concatenate(pis), np.minimum(p * p.size, 1.0),
            np.concatenate(gains), np.hstack(nulls), n_sig0)


def _distinct(W, order):
    """Candidates in ``order`` skipping any whose support overlaps a kept one (Jaccard ≥ ½)."""
    support = W > 0
    kept: list[int] = []
    for c in order:
        dup = False
        for d in kept:
            union = np.sum(support[:, c] | support[:, d])
            if union and np.sum(support[:, c] & support[:, d]) / union >= DUPLICATE_JACCARD:
                dup = True
                break
        if not dup:
            kept.append(int(c))
    return np.array(kept, dtype=int)


def detect(data, *, bin_width=None, window=None, rank=None, timescale=30.0, block=10.0,
           alpha=0.05, member_alpha=0.05, extra=4, max_iter=300, n_surrogates=50, seed=0):
    """Detect cell assemblies in spike counts with gated Poisson NMF.

    Parameters
    ----------
    data : AnnData, dict, list or ndarray
        Binned counts as AnnData (bins × units, from :func:`nmfbio.io.bin_spikes` and the other
        spike readers); spike trains (dict unit id → times in seconds, or a list of arrays),
        binned here at ``bin_width`` over ``window``; or an ndarray of counts of shape
        (n_units, n_bins) with ``bin_width``.
    bin_width : float, optional
        Seconds per bin; needed for spike trains and arrays (AnnData records its own).
    window : (float, float), optional
        Recording window in seconds for spike trains (see :func:`nmfbio.io.bin_spikes`).
    rank : int, optional
        Number of candidate assemblies; by default chosen by the held-out test.
    timescale : float, default 30
        Seconds between knots of each unit's background rate (drift slower than this is
        background, not assembly activity).
    block : float, default 10
        Seconds per train/test block.
    alpha : float, default 0.05
        Family-wise significance level over candidates (Bonferroni).
    member_alpha : float, default 0.05
        Family-wise level over units of the membership test.
    extra : int, default 4
        Candidates proposed beyond the Marchenko–Pastur count.
    max_iter : int, default 300
        EM iterations per fit.
    n_surrogates : int, default 50
        Shift surrogates of the test blocks drawn for the null-distribution plot.
    seed : int, default 0

    Returns
    -------
    AssemblyResult
        ``.members`` (unit ids per assembly), ``.weights`` (units × assemblies, extra rate
        in Hz), ``.activations`` (bins × assemblies, probability of being on), ``.pvalues``,
        ``.events``.

    Examples
    --------
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(seed=0)
    >>> res = detect(rec.trains, bin_width=0.025, window=rec.window)  # doctest: +SKIP
    >>> len(res.members)  # doctest: +SKIP
    3
    """
    X, unit_ids, t_start, width = as_counts(data, bin_width, window)
    n_units, n_bins = X.shape
    ts_bins = timescale / width
    block_bins = max(int(round(block / width)), 1)
    block_ids = np.arange(n_bins) // block_bins
    if block_ids[-1] < 3:
        raise NMFInputError(
            f"the recording is {n_bins * width:g} s long: too short for the held-out test with "
            f"block={block:g} s (need at least 4 blocks); pass a smaller block= or more data")
    silent = np.flatnonzero(X.sum(axis=1) == 0)
    if silent.size:
        log.info("assemblies: %d unit(s) never fire and cannot be members", silent.size)
    params = dict(bin_width=width, timescale=timescale, block=block, alpha=alpha,
                  member_alpha=member_alpha, extra=extra, rank=rank, seed=seed,
                  method="gated-nmf")

    found = _significant_candidates(
        X, block_ids, rank=rank, extra=extra, timescale=ts_bins, seed=seed,
        member_alpha=member_alpha, max_iter=max_iter, n_surrogates=n_surrogates)
    fit = None
    if found is not None:
        W_c, pi_c, p_c, gain_c, null_c, n_sig = found
        order = np.argsort(p_c, kind="stable")
        if rank is None:
            order = order[p_c[order] < alpha]
        chosen = _distinct(W_c, order)
        if rank is not None:
            chosen = chosen[:rank]
        log.info("assemblies: %d distinct significant candidate(s) of %d", chosen.size,
                 p_c.size)
        if chosen.size:
            fit = gated_nmf(X, None, W_init=W_c[:, chosen], pi_init=pi_c[chosen],
                            timescale=ts_bins, max_iter=max_iter)
            fit = _refine(X, fit, timescale=ts_bins, alpha=member_alpha, max_iter=max_iter,
                          tol=1e-7)
    else:
        n_sig = 0
    if fit is None:
        fit = gated_nmf(X, None, timescale=ts_bins, max_iter=100)
        W_c = np.zeros((n_units, 0))
        chosen = np.zeros(0, int)
    z, is_member, gain = membership(X, fit, alpha=member_alpha)
    # each final assembly carries the test of the candidate it grew from (best cosine)
    src = chosen[_match_columns(fit.W, W_c[:, chosen])] if fit.W.shape[1] else chosen
    return AssemblyResult.from_fit(
        fit, X, unit_ids=unit_ids, t_start=t_start, bin_width=width, z=z, members=is_member,
        gain=gain, pvalues=p_c[src] if src.size else np.zeros(0),
        heldout_gains=gain_c[src] if src.size else np.zeros(0),
        null_gains=null_c[:, src] if src.size else np.zeros((0, 0)),
        n_significant_pcs=n_sig, params=params)


def _match_columns(W_final, W_cand):
    """For each final column, the candidate column with the highest cosine."""
    a = W_final / np.maximum(np.linalg.norm(W_final, axis=0), 1e-300)
    b = W_cand / np.maximum(np.linalg.norm(W_cand, axis=0), 1e-300)
    return np.argmax(a.T @ b, axis=1)
