"""Neural assemblies: the gated Poisson NMF, membership, detection accuracy on planted
recordings (several seeds) and null recordings, the ICA baseline, results and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nmfbio.assemblies import AssemblyResult, detect, ica_baseline, membership
from nmfbio.assemblies.ica import marchenko_pastur_edge, standardise
from nmfbio.datasets.assemblies import oracle_activation, planted_assemblies
from nmfbio.errors import NMFInputError
from nmfbio.solver.gated import gate_llr, gated_nmf, hat_basis


def _jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def _units(ids):
    return sorted(int(str(u).lstrip("u")) for u in ids)


# --------------------------------------------------------------------------- generator
def test_generator_follows_the_issue_spec():
    rec = planted_assemblies(seed=3)
    assert rec.counts.shape == (50, 24000)
    assert len(rec.members) == 3
    assert all(5 <= len(m) <= 10 for m in rec.members)
    assert 1 <= len(set(rec.members[0]) & set(rec.members[1])) <= 2
    assert np.all((rec.active.mean(axis=1) > 0.008) & (rec.active.mean(axis=1) < 0.055))
    rates = rec.counts.sum(axis=1) / 600.0
    assert rates.min() > 0.5 and rates.max() < 13
    # spike trains bin back to the counts
    from nmfbio.io import bin_spikes

    ad = bin_spikes(rec.trains, 0.025, window=rec.window)
    np.testing.assert_array_equal(np.asarray(ad.X).T, rec.counts)


def test_oracle_is_informative_but_imperfect():
    rec = planted_assemblies(seed=0)
    post = oracle_activation(rec)
    corr = [np.corrcoef(post[k], rec.active[k])[0, 1] for k in range(3)]
    assert all(0.25 < c < 0.7 for c in corr)


# --------------------------------------------------------------------------- gated NMF
def test_hat_basis_is_a_partition_of_unity():
    left, frac, n_knots = hat_basis(1000, 90)
    S = np.zeros((n_knots, 1000))
    S[left, np.arange(1000)] += 1 - frac
    S[left + 1, np.arange(1000)] += frac
    np.testing.assert_allclose(S.sum(axis=0), 1.0)
    assert np.all(S >= 0)


def test_gate_llr_matches_naive_poisson_ratio():
    rng = np.random.default_rng(0)
    X = rng.poisson(0.5, (6, 40)).astype(float)
    W = rng.random((6, 2))
    bg = rng.uniform(0.2, 1.0, (6, 40))
    naive = np.array([[np.sum(X[:, t] * np.log((bg[:, t] + W[:, c]) / bg[:, t]) - W[:, c])
                       for t in range(40)] for c in range(2)])
    np.testing.assert_allclose(gate_llr(X, W, bg), naive, rtol=1e-12)


def test_em_with_fixed_gates_never_decreases_the_likelihood():
    rng = np.random.default_rng(1)
    z = rng.random(5000) < 0.05
    rate = np.full((8, 5000), 0.2) * np.linspace(0.5, 1.5, 5000)  # drifting background
    rate[:4, z] *= 3
    X = rng.poisson(rate).astype(float)
    fit = gated_nmf(X, z[None].astype(float), update_gates=False, timescale=800,
                    max_iter=60, tol=0)
    assert np.all(np.diff(fit.loglik) >= -1e-9 * np.abs(fit.loglik[1:]))
    # the background follows the drift and W is the planted extra rate of the members
    assert np.corrcoef(fit.background()[5], rate[5])[0, 1] > 0.95
    np.testing.assert_allclose(fit.W[:4, 0] / fit.background()[:4][:, z].mean(axis=1), 2.0,
                               atol=0.35)


def test_gated_nmf_dense_equals_sparse():
    import scipy.sparse as sp

    rec = planted_assemblies(n_units=20, n_assemblies=1, duration=150, seed=2)
    q0 = rec.active.astype(float)
    a = gated_nmf(rec.counts, q0, timescale=1200, max_iter=30)
    b = gated_nmf(sp.csr_matrix(rec.counts), q0, timescale=1200, max_iter=30)
    np.testing.assert_allclose(a.W, b.W, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(a.q, b.q, rtol=1e-10, atol=1e-14)


def test_membership_finds_planted_members_and_not_others():
    rng = np.random.default_rng(4)
    z = rng.random(20000) < 0.03
    rate = rng.uniform(0.05, 0.2, (30, 1))[:, [0] * 20000]
    rate[:6, z] *= 3
    X = rng.poisson(rate).astype(float)
    fit = gated_nmf(X, z[None].astype(float), timescale=5000)
    zs, is_member, gain = membership(X, fit)
    assert np.flatnonzero(is_member[:, 0]).tolist() == list(range(6))
    assert np.all(gain[:6, 0] > 2.0) and np.all(np.abs(zs[6:, 0]) < 3.5)


# --------------------------------------------------------------------------- detection
@pytest.fixture(scope="module")
def planted_results():
    recs = [planted_assemblies(seed=s) for s in (2, 3, 5)]
    return [(rec, detect(rec.trains, bin_width=0.025, window=rec.window)) for rec in recs]


def test_detect_recovers_planted_assemblies(planted_results):
    """Issue 7's generator, three seeds: the number of assemblies, members and activations.

    Floors per assembly (Jaccard 0.7: seed 3's rare A1, π = 0.012, loses 3 low-rate members
    of 10 with 5 folds, 2 with 3 folds); the distribution over 30 seeds is measured in
    ``benchmarks/assemblies.py``."""
    for rec, res in planted_results:
        assert res.n_assemblies == 3
        oracle = oracle_activation(rec)
        for j, truth in enumerate(rec.members):
            jac = [_jaccard(_units(m), truth) for m in res.members]
            k = int(np.argmax(jac))
            assert jac[k] >= 0.7
            c = np.corrcoef(res.activations.iloc[:, k], rec.active[j])[0, 1]
            c_oracle = np.corrcoef(oracle[j], rec.active[j])[0, 1]
            assert c >= 0.75 * c_oracle
        assert np.all(res.pvalues < 0.05)
    jac_all = [max(_jaccard(_units(m), t) for m in res.members)
               for rec, res in planted_results for t in rec.members]
    assert np.mean(np.array(jac_all) >= 0.9) >= 0.6


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_assembly_in_drifting_null_recordings(seed):
    rec = planted_assemblies(n_assemblies=0, drift=0.3, seed=seed)
    res = detect(rec.counts, bin_width=0.025)
    assert res.n_assemblies == 0
    assert res.members == [] and res.events.empty


def test_heterogeneous_rates_alone_are_not_assemblies():
    rec = planted_assemblies(n_assemblies=0, rate_range=(0.5, 30.0), seed=21)
    assert detect(rec.counts, bin_width=0.025).n_assemblies == 0


def test_detect_is_reproducible_and_accepts_anndata():
    from nmfbio.io import bin_spikes

    rec = planted_assemblies(n_units=24, n_assemblies=1, duration=240, size_range=(8, 8),
                             active_range=(0.04, 0.04), overlap=(0, 0), seed=5)
    a = detect(rec.counts, bin_width=0.025, seed=1)
    b = detect(bin_spikes(rec.trains, 0.025, window=rec.window), seed=1)
    assert [_units(m) for m in a.members] == [_units(m) for m in b.members]
    np.testing.assert_allclose(a.activations.to_numpy(), b.activations.to_numpy())
    assert _units(b.members[0]) == rec.members[0]


def test_fixed_rank_reports_that_many():
    rec = planted_assemblies(n_units=30, n_assemblies=2, duration=300, overlap=(0, 0),
                             active_range=(0.04, 0.05), seed=8)
    res = detect(rec.counts, bin_width=0.025, rank=2)
    assert res.n_assemblies == 2
    for truth in rec.members:
        assert max(_jaccard(_units(m), truth) for m in res.members) >= 0.85


# --------------------------------------------------------------------------- baseline
def test_ica_baseline_counts_assemblies_by_marchenko_pastur():
    rec = planted_assemblies(n_units=30, n_assemblies=2, duration=300, overlap=(0, 0),
                             size_range=(8, 8), active_range=(0.05, 0.05), seed=1)
    res = ica_baseline(rec.counts, bin_width=0.025)
    assert res.n_assemblies == 2
    assert res.params["n_significant_pcs"] == 2
    for truth in rec.members:
        assert max(len(set(_units(m)) & set(truth)) for m in res.members) >= 3
    assert np.isnan(res.pvalues).all()
    assert marchenko_pastur_edge(30, 12000) == pytest.approx((1 + np.sqrt(30 / 12000)) ** 2)


def test_standardise_never_divides_by_zero():
    Z = standardise(np.zeros((2, 5)), np.full((2, 5), 0.1))
    assert np.all(Z == 0)


# --------------------------------------------------------------------------- result
def test_result_saves_loads_and_exports(planted_results, tmp_path):
    rec, res = planted_results[0]
    path = tmp_path / "a.h5"
    res.save(path)
    back = AssemblyResult.load(path)
    assert back.members == res.members
    np.testing.assert_allclose(back.weights.to_numpy(), res.weights.to_numpy())
    np.testing.assert_allclose(back.activations.to_numpy(), res.activations.to_numpy())
    np.testing.assert_allclose(back.pvalues.to_numpy(), res.pvalues.to_numpy())
    ad = res.to_anndata()
    assert ad.shape == (rec.counts.shape[1], rec.counts.shape[0])
    assert ad.obsm["X_assemblies"].shape == (ad.n_obs, res.n_assemblies)
    assert set(ad.uns["assemblies"]["members"]) == set(res.weights.columns)
    # weights are zero outside the members, in Hz
    for name, members in zip(res.weights.columns, res.members, strict=True):
        col = res.weights[name]
        assert set(col.index[col > 0]) == set(members)
    assert "A1" in res.summary()


# --------------------------------------------------------------------------- bad input
def test_bad_input_errors():
    with pytest.raises(NMFInputError, match="negative"):
        detect(-np.ones((3, 100)), bin_width=0.025)
    bad = np.ones((3, 100))
    bad[1, 7] = np.nan
    with pytest.raises(NMFInputError, match="NaN/inf.*bin 7"):
        detect(bad, bin_width=0.025)
    with pytest.raises(NMFInputError, match="bin_width is needed"):
        detect(np.ones((3, 100)))
    with pytest.raises(NMFInputError, match="bin_width must be > 0"):
        detect(np.ones((3, 100)), bin_width=0)
    with pytest.raises(NMFInputError, match=r"too short.*block=10 s \(need at least 5 blocks"):
        detect(np.ones((3, 100)), bin_width=0.025)
    with pytest.raises(NMFInputError, match="need at least 5 blocks, one per fold"):
        detect(np.ones((3, 1600)), bin_width=0.025)  # 4 blocks of 10 s: one fold short
    from nmfbio.io import from_traces

    with pytest.raises(NMFInputError, match="calcium traces"):
        detect(from_traces(np.ones((50, 4)), 30.0))


def test_llr_with_silent_units_is_finite():
    X = np.zeros((3, 50))
    X[0, ::5] = 1
    out = gate_llr(X, np.array([[0.5], [0.5], [0.0]]), np.full((3, 50), 0.1))
    assert np.all(np.isfinite(out))


def test_holm_adjustment_controls_like_bonferroni_and_is_never_weaker():
    from nmfbio.assemblies.detect import _holm

    rng = np.random.default_rng(3)
    for _ in range(50):
        p = rng.random(int(rng.integers(1, 12))) ** 3
        adj = _holm(p)
        bonf = np.minimum(p * p.size, 1.0)
        assert np.all(adj <= bonf + 1e-15) and np.all(adj >= p)
        # the smallest adjusted p is Bonferroni's: a null recording fares exactly the same
        assert adj.min() == pytest.approx(bonf.min())
        # order preserved
        o = np.argsort(p, kind="stable")
        assert np.all(np.diff(adj[o]) >= 0)
    # a second weak candidate passes under Holm and not under Bonferroni (0.004 · 3 > 0.01)
    adj = _holm(np.array([1e-9, 0.004, 0.5]))
    assert adj[1] == pytest.approx(0.008) and adj[1] < 0.01 < 0.004 * 3


def test_oracle_membership_reference():
    from nmfbio.datasets.assemblies import oracle_membership

    rec = planted_assemblies(seed=2)
    assert [sorted(m) for m in oracle_membership(rec)] == [sorted(m) for m in rec.members]
    # gain 1: assemblies leave no trace, so the oracle's rule finds (almost) no member
    flat = planted_assemblies(seed=2, gain=1.0)
    assert sum(len(m) for m in oracle_membership(flat)) <= 1
