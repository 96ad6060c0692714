"""Neural assembly detection: gated Poisson NMF on spike counts, with held-out significance.

:func:`detect` finds groups of units that fire together in short bins. Steps (each measured
on generated recordings; see ``benchmarks/assemblies.py`` and the tests):

1. **Cross-fitting in time.** The recording is cut into blocks (``block``, 10 s) dealt in
   turn to 5 folds. Each fold proposes candidates on the other folds' blocks and scores
   them on its own, so significance is judged on spikes the proposing fit never saw.
   (Measured on issue 7's generator, 30 recordings and 40 drifting nulls: 5 folds recovered
   57/90 planted member sets at Jaccard ≥ 0.9 against 49/90 with 3 folds, the right number
   of assemblies in 23/30 against 22/30, and false detections on 1/40 nulls against 2/40,
   for 1.4× the time: each fold proposes from 80 % of the recording instead of 67 %.)
2. **Candidates.** Each unit's background is its own slowly varying rate (piecewise linear,
   a knot every ``timescale`` seconds of real time), so heterogeneous and drifting rates are
   not assemblies. PCA/ICA of the standardised residuals (Lopes-dos-Santos et al. 2013)
   proposes ``n_significant + extra`` patterns (Marchenko–Pastur count plus spares); the bins
   where each pattern is most active start a gated Poisson NMF (:mod:`nmfbio.solver.gated`),
   X ≈ background + W·Z with on/off gates Z. (Plain KL-NMF with free activations fits the
   Poisson noise instead: every bin gets its own activation.) Later rounds look at what the
   found assemblies leave unexplained and add patterns from there.
3. **Membership** (the documented rule). For each candidate and unit, the gate posterior is
   recomputed *leaving that unit out*, ``q⁽⁻ⁱ⁾``; the unit is scored against its expected
   rate μ there with the Poisson score statistic ``z = Σ_t q⁽⁻ⁱ⁾(x_it − μ_it) /
   sqrt(Σ_t q⁽⁻ⁱ⁾² μ_it)`` (≈ N(0, 1) for a unit unrelated to the gate). A unit is a member
   when ``z`` exceeds the one-sided Bonferroni threshold at ``member_alpha`` over units (3.09
   for 50 units at 0.05); while searching a looser 0.5 is used. Non-members' weights are set
   to zero and the model refitted until membership is stable. Overlaps are allowed.
   Candidates with fewer than 2 members or fewer than 10 expected activations are dropped;
   two sharing most members (Jaccard ≥ ½) keep the better supported; two whose single-gate
   posteriors (each on its own units, against the background) correlate above
   ``3/sqrt(n_bins)`` are fragments of one assembly and are joined.
4. **Significance.** In the held-out fold, each unit's background is fitted on those spikes
   alone; a candidate's held-out gain is ``G = Σ_t log(1 − π + π·e^{llr_t})`` (mixture vs
   background-only log-likelihood). It is compared with the same gain on surrogates in which
   each unit's held-out train (with its background) is shifted circularly by its own random
   lag, which keeps rates and drift but breaks co-firing: ``z = (G − mean)/sd`` of the
   surrogates, one-sided normal p-value. The same assembly found by several folds adds its
   gains (and surrogate gains) over them. p-values are adjusted over candidates by Holm's
   step-down rule (family-wise error control like Bonferroni, whose threshold the smallest
   p-value still meets, so a recording with no assembly fares exactly as under Bonferroni;
   on issue 7's generator it found one more weak assembly in 10 recordings) and an assembly
   is reported when the adjusted p < ``alpha``. The background's knots are
   placed every ``timescale`` of *real* time in the folds' concatenated bins: with knots
   spread over the longer real span, slow co-drift of two units passed as co-firing. (G > 0
   alone, i.e. plain cross-validated likelihood, misses weak real assemblies: their
   held-out gain is often slightly negative while far above the surrogates'.)
5. **Final fit** on all bins with the significant assemblies, membership re-tested, and
   activation probabilities and events (runs of bins with probability > 0.5).

**What it can find.** On issue 7's generator (30 recordings of 50 units, 10 min at 25 ms),
an assembly's evidence is the number of spikes it adds over the recording (activations ×
Σ over members of (gain − 1) × rate). Every planted assembly adding ≥ 1000 spikes was
found (69/69, member sets exact to Jaccard ≥ 0.9 in 55); 13/15 of those adding 700–1000;
1/6 below 700 (e.g. 5 units at 5 Hz, active in 1.4 % of bins). What limits it is the
search, not the test: the same held-out test given the *true* pattern of each missed
assembly reaches z 3.3–8.4 (all 7 above 3.09, p < 0.001), but the pairwise co-firing of
their members is at noise level (mean member-pair z 0.55–1.33, against a median of 2.42
for the assemblies found; independent pairs scatter with sd 1), so no second-order start
(PCA/ICA) points at them: a planted-clique-like search problem. For the four at z ≤ 4.8
any search is unlikely to succeed (a rough bound: the best of the ~5·10⁸ sets of 8 among
50 units scores about √(2 ln 5·10⁸) ≈ 6.3 on noise alone); those at 7.8–8.4 are at the
margin. Re-fitting a candidate that other folds found in a fold that did not find it
(starting from its pattern, membership re-tested on that fold's training blocks)
recovered none of the 7 missed assemblies in their 6 recordings and made 3 of the 6
report a false one (the pattern has seen that fold's test blocks), so it is not done.

``rank=`` fixes the number of candidates (the best ``rank`` are reported whatever their
p-values). What is not here: the ICA maths (:mod:`nmfbio.assemblies.ica`), the result object
and plots.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy import stats

from nmfbio._validation import check_seed
from nmfbio.assemblies.ica import ica_activity, ica_patterns, standardise
from nmfbio.assemblies.result import AssemblyResult, as_counts
from nmfbio.errors import NMFInputError
from nmfbio.solver.gated import Nonzeros, gate_terms, gated_nmf, llr_from_terms

__all__ = ["detect", "membership"]

log = logging.getLogger("nmfbio")

#: Fraction of bins in which each ICA pattern is most active that start its gate.
START_QUANTILE = 0.97
MIN_MEMBERS = 2
#: EM tolerance (relative log-likelihood change) of the exploratory fits; the final fit
#: uses the solver's 1e-7.
SEARCH_TOL = 1e-5
#: Membership level while searching for candidates: looser than the final rule, because the
#: held-out test, not membership, guards against false assemblies.
SEARCH_MEMBER_ALPHA = 0.5
#: Interleaved folds of blocks for cross-fitting (each proposes on the others, tests on its own).
N_FOLDS = 5
#: Smallest p-value reported: beyond this the normal approximation of the surrogate null is
#: an extrapolation whose digits mean nothing.
P_FLOOR = 1e-12
#: Two gates whose single-gate posteriors correlate above FRAGMENT_Z/sqrt(n_bins) are one.
FRAGMENT_Z = 3.0
#: A candidate must be on in at least this many bins (expected) to be kept.
MIN_EVENTS = 10
DUPLICATE_JACCARD = 0.5


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


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
        ``1 + w / b̄``: how many times its mean background rate a unit fires while the
        component is on (1 for units outside the component).

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
    logit_pi = np.log(fit.pi) - np.log1p(-fit.pi)
    bg, W, Q = fit.background(), fit.W, fit.q
    # each component's gate without any unit's own spikes left out yet (q_all), and the
    # leave-one-out gates of its members (O, E, V of the score statistic)
    q_all = np.empty_like(Q)
    loo = []
    for c in range(k):
        members = np.flatnonzero(W[:, c] > 0)
        # μ⁽⁻ᶜ⁾ (background + the other components' posterior rates) of the members
        mu_m = bg[members] + W[members] @ Q - np.outer(W[members, c], Q[c])
        mu_m = np.maximum(mu_m, 1e-12)
        contrib = X[members] * np.log1p(W[members, c][:, None] / mu_m) - W[members, c][:, None]
        llr = logit_pi[c] + contrib.sum(axis=0)
        q_all[c] = 1.0 / (1.0 + np.exp(-np.clip(llr, -700, 700)))
        q_loo = 1.0 / (1.0 + np.exp(-np.clip(llr[None, :] - contrib, -700, 700)))
        loo.append((members, (q_loo * X[members]).sum(axis=1), (q_loo * mu_m).sum(axis=1),
                    (q_loo ** 2 * mu_m).sum(axis=1)))
    # every unit against the full gates at once (a non-member does not enter its own gate):
    # expected count under background + the other components, and its variance
    A, A2 = Q @ q_all.T, Q @ (q_all ** 2).T
    E = bg @ q_all.T + W @ A - W * np.diag(A)
    V = bg @ (q_all ** 2).T + W @ A2 - W * np.diag(A2)
    O = X @ q_all.T
    for c, (members, o, e, v) in enumerate(loo):
        O[members, c], E[members, c], V[members, c] = o, e, v
    z = (O - E) / np.sqrt(np.maximum(V, 1e-12))
    gain = 1.0 + W / np.maximum(bg.mean(axis=1), 1e-12)[:, None]
    return z, z > threshold, gain


def _gate_llr_rows(X, w, bg):
    """Single-gate log-likelihood ratio per bin from the units with ``w > 0`` (dense rows)."""
    units = np.flatnonzero(w > 0)
    if units.size == 0:
        return np.zeros(X.shape[1])
    return _unit_evidence(X, w, bg, units).sum(axis=0) - w[units].sum()


def _unit_evidence(X, w, bg, units):
    """Per unit in ``units`` and bin, ``x log(1 + w / b)`` (dense rows)."""
    return X[units] * np.log1p(w[units][:, None] / np.maximum(bg[units], 1e-300))


def _evidence(X, fit):
    """In-sample log-likelihood gain of each component: Σ_t log(1 − π + π e^{llr})."""
    bg = fit.background()
    llr = np.stack([_gate_llr_rows(X, fit.W[:, c], bg) for c in range(fit.W.shape[1])]) \
        if fit.W.shape[1] else np.zeros((0, X.shape[1]))
    return _mixture_gain(llr, fit.pi).sum(axis=1)


def _mixture_gain(llr, pi):
    pi = np.asarray(pi)[:, None]
    return np.logaddexp(np.log1p(-pi), np.log(pi) + llr)


def _fragments(X, fit, is_member, keep):
    """Pairs (a, b) that are pieces of one assembly.

    Two fragments of one assembly explain each other's spikes away in the joint fit, so the
    membership test cannot join them. Each gate is re-scored alone, against the background
    only and on the units it does not share with the other; the two gates of fragments open
    together, those of distinct assemblies independently. A pair is joined when the
    correlation of the two single-gate posteriors exceeds ``FRAGMENT_Z / sqrt(n_bins)``.
    """
    pairs = []
    k = fit.W.shape[1]
    bg = fit.background()
    threshold = FRAGMENT_Z / np.sqrt(X.shape[1])
    logit_pi = np.log(fit.pi) - np.log1p(-fit.pi)
    # each component's per-unit evidence rows, computed once (a pair sums a subset of them)
    units = [np.flatnonzero(fit.W[:, c] > 0) for c in range(k)]
    rows = [_unit_evidence(X, fit.W[:, c], bg, u) if keep[c] else None
            for c, u in enumerate(units)]
    for a in range(k):
        for b in range(a + 1, k):
            if not (keep[a] and keep[b]):
                continue
            only_a = is_member[:, a] & ~is_member[:, b]
            only_b = is_member[:, b] & ~is_member[:, a]
            if only_a.sum() < MIN_MEMBERS or only_b.sum() < MIN_MEMBERS:
                continue
            post = []
            for c, alone in ((a, only_a), (b, only_b)):
                use = alone[units[c]]
                llr = rows[c][use].sum(axis=0) - fit.W[units[c][use], c].sum() + logit_pi[c]
                post.append(1.0 / (1.0 + np.exp(-np.clip(llr, -700, 700))))
            # a gate whose posterior never moves (never on) is no fragment of anything
            if min(post[0].std(), post[1].std()) > 0 and \
                    np.corrcoef(post[0], post[1])[0, 1] > threshold:
                pairs.append((a, b))
    return pairs


def _refine(X, fit, *, timescale, alpha, max_iter, rounds=4, tol=SEARCH_TOL, Xs=None):
    """Membership test → zero the non-members → refit, until stable; drop weak duplicates
    and join fragments of one assembly. ``Xs``: X as CSC for the solver (made once here when
    not given: the solver's per-call conversion of dense counts was a tenth of the time)."""
    Xs = sp.csc_matrix(X) if Xs is None else Xs
    members = None
    for _ in range(rounds):
        z, is_member, _ = membership(X, fit, alpha=alpha)
        keep = (is_member.sum(axis=0) >= MIN_MEMBERS) & (fit.pi * X.shape[1] >= MIN_EVENTS)
        # duplicates: two candidates sharing most members keep the better-supported one
        evidence = _evidence(X, fit)
        for a in range(is_member.shape[1]):
            for b in range(a + 1, is_member.shape[1]):
                if keep[a] and keep[b] and _jaccard(is_member[:, a],
                                                    is_member[:, b]) >= DUPLICATE_JACCARD:
                    keep[b if evidence[a] >= evidence[b] else a] = False
        q = fit.q.copy()
        for a, b in _fragments(X, fit, is_member, keep):
            if keep[a] and keep[b]:
                is_member[:, a] |= is_member[:, b]
                q[a] = np.maximum(q[a], q[b])
                keep[b] = False
        new = is_member[:, keep]
        if members is not None and new.shape == members.shape and np.array_equal(new, members):
            break
        members = new
        if not keep.any():
            return None
        W = np.where(members, np.maximum(fit.W[:, keep], 1e-3 * fit.W[:, keep].max()), 0.0)
        fit = gated_nmf(Xs, q[keep], W_init=W, B_init=fit.B, timescale=timescale,
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
    Xs = sp.csc_matrix(Xd)
    base = gated_nmf(Xs, None, timescale=timescale, max_iter=100, tol=SEARCH_TOL)
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
        new = gated_nmf(Xs, q0, B_init=base.B if fit is None else fit.B, timescale=timescale,
                        max_iter=max_iter, tol=SEARCH_TOL)
        new = _refine(Xd, new, timescale=timescale, alpha=alpha, max_iter=max_iter, Xs=Xs)
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
    nz = Nonzeros(X)
    # each count keeps its own background; a surrogate only moves it to another bin
    terms = gate_terms(nz, W, base.background()[nz.rows, nz.cols])
    n_units, n_bins = nz.shape
    observed = _mixture_gain(llr_from_terms(terms, nz.cols, n_bins, W), pi).sum(axis=1)
    rng = np.random.default_rng(seed)
    null = np.empty((n_surrogates, W.shape[1]))
    for s in range(n_surrogates):
        cols = (nz.cols + rng.integers(0, n_bins, size=n_units)[nz.rows]) % n_bins
        null[s] = _mixture_gain(llr_from_terms(terms, cols, n_bins, W), pi).sum(axis=1)
    return observed, null, _tail_p(observed, null)


def _tail_p(observed, null):
    """One-sided p-value of each observed gain against its surrogate gains (columns)."""
    z = (observed - null.mean(axis=0)) / np.maximum(null.std(axis=0, ddof=1), 1e-12)
    return stats.norm.sf(z)


def _jaccard(a, b):
    union = np.sum(a | b)
    return np.sum(a & b) / union if union else 0.0


def _significant_candidates(X, block_ids, *, rank, extra, timescale, seed, max_iter,
                            n_surrogates, n_folds=N_FOLDS):
    """Cross-fitting over ``n_folds`` interleaved folds of blocks.

    Fold f proposes candidates on the other folds' blocks and scores them on its own; the
    same assembly found by several folds (supports overlapping, Jaccard ≥ ½) forms one
    cluster whose held-out gains add up over the folds that found it (disjoint test data),
    as do their surrogate gains. Returns, per cluster: the representative W column (the
    best-scoring candidate), its π, the Holm-adjusted p-value over clusters, the summed
    held-out gain and the summed surrogate gains; and the Marchenko–Pastur count of fold 1.
    """
    cands, n_sig0 = [], None
    for fold in range(n_folds):
        train = block_ids % n_folds != fold
        # knots every `timescale` of real time: the folds' bins are a fraction of the record
        cand, n_sig = _propose(X[:, train], rank, extra=extra,
                               timescale=timescale * (n_folds - 1) / n_folds,
                               seed=seed + fold, alpha=SEARCH_MEMBER_ALPHA,
                               max_iter=max_iter)
        n_sig0 = n_sig if n_sig0 is None else n_sig0
        if cand is None:
            continue
        g, null, p = _heldout(X[:, ~train], cand.W, cand.pi, timescale=timescale / n_folds,
                              n_surrogates=n_surrogates, seed=seed + fold)
        log.info("assemblies: fold %d of %d, %d candidate(s), held-out p = %s", fold + 1,
                 n_folds, cand.W.shape[1], np.array2string(p, precision=3))
        cands += [(fold, cand.W[:, c], cand.pi[c], g[c], null[:, c], p[c])
                  for c in range(cand.W.shape[1])]
    if not cands:
        return None
    clusters: list[list[int]] = []
    for i in np.argsort([c[5] for c in cands], kind="stable"):
        fold, w = cands[i][0], cands[i][1] > 0
        for cl in clusters:
            head = cands[cl[0]][1] > 0
            if all(cands[j][0] != fold for j in cl) and _jaccard(w, head) >= DUPLICATE_JACCARD:
                cl.append(int(i))
                break
        else:
            clusters.append([int(i)])
    W = np.stack([cands[cl[0]][1] for cl in clusters], axis=1)
    pi = np.array([cands[cl[0]][2] for cl in clusters])
    gain = np.array([sum(cands[j][3] for j in cl) for cl in clusters])
    null = np.stack([np.sum([cands[j][4] for j in cl], axis=0) for cl in clusters], axis=1)
    # the tail beyond the surrogates is an extrapolation: report no less than P_FLOOR
    p = np.maximum(_tail_p(gain, null), P_FLOOR)
    return W, pi, _holm(p), gain, null, n_sig0


def _holm(p):
    """Holm's step-down adjusted p-values (family-wise error control, uniformly more
    powerful than Bonferroni; the smallest is Bonferroni's).

    Examples
    --------
    >>> _holm(np.array([0.01, 0.04, 0.002])).round(3).tolist()
    [0.02, 0.04, 0.006]
    """
    p = np.asarray(p, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    steps = p[order] * (p.size - np.arange(p.size))
    adj = np.empty_like(p)
    adj[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adj


def _distinct(W, order):
    """Candidates in ``order`` skipping any whose support overlaps a kept one (Jaccard ≥ ½)."""
    support = W > 0
    kept: list[int] = []
    for c in order:
        if all(_jaccard(support[:, c], support[:, d]) < DUPLICATE_JACCARD for d in kept):
            kept.append(int(c))
    return np.array(kept, dtype=int)


def detect(data, *, bin_width=None, window=None, rank=None, timescale=30.0, block=10.0,
           alpha=0.01, member_alpha=0.05, extra=4, max_iter=300, n_surrogates=50, seed=0):
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
    alpha : float, default 0.01
        Family-wise significance level over candidates (Holm). 0.01 rather than 0.05: the
        surrogate null is slightly optimistic (on 40 drifting null recordings, 2.7 % of
        candidates had p < 0.01 and 0.4 % p < 0.001), so at 0.05 six of the 40 would
        report an assembly; at 0.01 one does (smallest adjusted p-values 0.0013, 0.0105,
        0.024; ``benchmarks/assemblies.py``).
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
    On a generated 50-unit, 10-minute recording with three planted assemblies (about 20 s
    on two cores, so not run as a doctest; ``tests/assemblies`` runs it)::

        from nmfbio.datasets.assemblies import planted_assemblies
        rec = planted_assemblies(seed=0)
        res = detect(rec.trains, bin_width=0.025, window=rec.window)
        len(res.members)  # 3
    """
    seed = check_seed(seed)
    X, unit_ids, t_start, width = as_counts(data, bin_width, window)
    n_units, n_bins = X.shape
    ts_bins = timescale / width
    block_bins = max(int(round(block / width)), 1)
    block_ids = np.arange(n_bins) // block_bins
    if block_ids[-1] < N_FOLDS - 1:
        raise NMFInputError(
            f"the recording is {n_bins * width:g} s long: too short for the held-out test with "
            f"block={block:g} s (need at least {N_FOLDS} blocks, one per fold); pass a smaller "
            f"block= or more data")
    silent = np.flatnonzero(X.sum(axis=1) == 0)
    if silent.size:
        log.info("assemblies: %d unit(s) never fire and cannot be members", silent.size)
    params = dict(bin_width=width, timescale=timescale, block=block, alpha=alpha,
                  member_alpha=member_alpha, extra=extra, rank=rank, seed=seed,
                  method="gated-nmf")

    found = _significant_candidates(
        X, block_ids, rank=rank, extra=extra, timescale=ts_bins, seed=seed,
        max_iter=max_iter, n_surrogates=n_surrogates)
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
            Xs = sp.csc_matrix(X)
            fit = gated_nmf(Xs, None, W_init=W_c[:, chosen], pi_init=pi_c[chosen],
                            timescale=ts_bins, max_iter=max_iter)
            fit = _refine(X, fit, timescale=ts_bins, alpha=member_alpha, max_iter=max_iter, Xs=Xs,
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
