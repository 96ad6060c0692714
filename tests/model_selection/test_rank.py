"""Rank selection: planted rank recovered, noise not over-fitted, bad parameters rejected."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import planted_cohort

import nmfbio
import nmfbio.model_selection.rank as rank_mod
from nmfbio.model_selection.consensus import cluster_runs
from nmfbio.model_selection.rank import plan_rank_selection, poor_runs, score_rank, speckled_masks


def test_planted_rank_5_recommended_in_9_of_10_seeds():
    """96 features × 300 samples of Poisson counts from a planted rank-5 model."""
    picks = [nmfbio.select_rank(planted_cohort(seed)[0], ranks=range(1, 9), seed=seed).best
             for seed in range(10)]
    assert sum(p == 5 for p in picks) >= 9, picks


def test_rank_1_noise_never_gets_more_than_2():
    picks = []
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        profile = rng.dirichlet(np.ones(96))
        depth = rng.lognormal(np.log(2000), 0.7, size=300)
        X = rng.poisson(np.outer(profile, depth))
        picks.append(nmfbio.select_rank(X, ranks=range(1, 5), seed=seed).best)
    assert max(picks) <= 2, picks


def test_result_table_plot_save(tmp_path):
    X = planted_cohort(11, n=120, r=3)[0]
    sel = nmfbio.select_rank(X, ranks=[1, 2, 3, 4], seed=0, repeats=2, restarts=2)
    assert list(sel.table.index) == [1, 2, 3, 4] and sel.best == 3
    assert {"train_error", "test_error", "test_se", "stability"} <= set(sel.table.columns)
    assert (sel.table["train_error"].diff().dropna() < 0).all()  # more parts fit better
    assert "recommended rank: 3" in sel.summary() and "within one standard error" in sel.rule
    ax = sel.plot()
    assert ax.get_xlabel() == "rank"
    sel.to_tsv(tmp_path / "rank.tsv")
    text = (tmp_path / "rank.tsv").read_text()
    assert text.startswith("# best=3") and "test_error" in text
    again = nmfbio.select_rank(X, ranks=[1, 2, 3, 4], seed=0, repeats=2, restarts=2)
    np.testing.assert_array_equal(again.test_errors, sel.test_errors)


def test_speckled_masks_keep_every_row_and_column():
    M = speckled_masks((5, 8), 0.5, 4, np.random.default_rng(0))
    assert M.shape == (4, 5, 8)
    assert (M.any(axis=1).all()) and (M.any(axis=2).all())
    assert ((~M).sum(axis=(1, 2)) == 20).all()


@pytest.mark.parametrize("kwargs, msg", [
    (dict(ranks=[0, 2]), "ranks must be positive integers"),
    (dict(ranks=[2.5]), "ranks must be positive integers"),
    (dict(ranks=["a"]), "ranks must be positive integers"),
    (dict(ranks=[3, 40]), r"ranks \[40\] exceed min\(n_features, n_samples\) = 12"),
    (dict(holdout=0.0), r"holdout must be a fraction in \(0, 0.5\]"),
    (dict(holdout=0.7), r"holdout must be a fraction in \(0, 0.5\]"),
    (dict(repeats=0), "repeats must be an integer >= 1"),
    (dict(repeats=1, restarts=1), "at least 2"),
])
def test_bad_parameters(kwargs, msg):
    X = np.random.default_rng(0).poisson(5.0, size=(20, 12))
    with pytest.raises(nmfbio.NMFInputError, match=msg):
        nmfbio.select_rank(X, **kwargs)


def test_too_small_for_the_holdout():
    with pytest.raises(nmfbio.NMFInputError, match="too small"):
        nmfbio.select_rank(np.ones((2, 2)) + np.eye(2), ranks=[1], holdout=0.1)


def test_poor_runs_rule():
    # 1.5 x the median, robust to a minority of failed fits
    assert poor_runs([100.0, 100.2, 99.9, 700.0, 100.1], 1e4).tolist() == [
        False, False, False, True, False]
    assert not poor_runs([100.0, 140.0, 100.0], 1e4).any()  # 1.4 x: a different minimum
    assert poor_runs([100.0, 700.0, 650.0, 100.0, 100.0], 1e4).sum() == 2
    # near-exact fits: the objectives are rounding noise, nothing is dropped
    assert not poor_runs([1e-12, 5e-11, 2e-12], 1e4).any()


def test_a_forced_poor_run_is_left_out_of_the_stability(monkeypatch):
    X = planted_cohort(11, n=120, r=3)[0]
    seen = []

    def with_a_failed_run(*args, **kwargs):
        runs = real(*args, **kwargs)
        bad = runs[1]  # a failed fit: arbitrary parts and a 7x objective
        bad.W = np.random.default_rng(0).dirichlet(np.ones(X.shape[0]), size=3).T
        bad.objective *= 7.0
        seen.append(runs)
        return runs

    real = rank_mod.nmf_runs
    clean = nmfbio.select_rank(X, ranks=[3], seed=0, repeats=2, restarts=4)
    monkeypatch.setattr(rank_mod, "nmf_runs", with_a_failed_run)
    forced = nmfbio.select_rank(X, ranks=[3], seed=0, repeats=2, restarts=4)
    assert clean.table.loc[3, "poor_runs"] == 0 and forced.table.loc[3, "poor_runs"] == 1
    assert forced.table.loc[3, "stability"] == pytest.approx(clean.table.loc[3, "stability"],
                                                             abs=0.01)
    assert forced.table.loc[3, "stability"] > 0.95 and forced.best == 3
    # counted in, the failed run would have dragged the stability below the threshold
    runs = seen[0]
    with_bad = cluster_runs([r.W for r in runs], reference=0)[2]
    assert with_bad.min() < 0.8


def test_natural_poor_local_minimum_on_a_signature_cohort(monkeypatch):
    # a generated 4-signature cohort where one of the 15 runs at rank 4 ends at ~9x the
    # objective of the others; counted in, it pulled the stability to 0.67
    from cohorts import cohort as sbs_cohort

    plan = plan_rank_selection(sbs_cohort(k=4, seed=1)[0], ranks=range(1, 7), seed=0)
    score = score_rank(plan, 3)
    assert score["rank"] == 4 and score["poor"] == 1 and score["stability"] > 0.95
    monkeypatch.setattr(rank_mod, "POOR_RUN_RATIO", np.inf)  # the old behaviour
    assert score_rank(plan, 3)["stability"] < 0.8


def test_heldout_error_is_the_trimmed_mean_entry_loss():
    """One held-out entry predicted in the thousands (a component whose weight in that sample
    no observed entry constrains) does not decide the error; the per-entry losses are the
    loss's own (their sum is Loss.value)."""
    from nmfbio.model_selection.rank import heldout_error
    from nmfbio.solver import get_loss

    kl = get_loss("kl")
    rng = np.random.default_rng(0)
    x = rng.poisson(50.0, size=999).astype(float)
    good = heldout_error(kl, x, np.full(999, 50.0))
    spiked = np.full(999, 50.0)
    spiked[0] = 31290.0  # measured on a real breast catalog: data 194, model 31,290
    assert heldout_error(kl, x, spiked) == pytest.approx(good, rel=0.01)
    assert kl.entries(x, spiked).mean() > 30 * kl.entries(x, np.full(999, 50.0)).mean()
    # sparse counts (DBS-like): a model that scatters its predictions around the truth
    # predicts worse; the median entry (a zero count) hardly sees it, the trimmed mean does
    truth = np.full(5000, 0.3)
    xs = rng.poisson(truth).astype(float)
    noisy = truth * rng.lognormal(0.0, 0.8, size=5000)
    med = [np.median(kl.entries(xs, y)) for y in (truth, noisy)]
    assert heldout_error(kl, xs, noisy) > 1.2 * heldout_error(kl, xs, truth)
    assert med[1] < 1.15 * med[0]
    W, H = rng.random((20, 3)), rng.random((3, 30))
    X = rng.poisson(W @ H * 10).astype(float)
    for name in ("kl", "frobenius"):
        loss = get_loss(name)
        assert loss.entries(X.ravel(), (W @ H).ravel()).sum() == pytest.approx(
            loss.value(X, W, H), rel=1e-12)


def test_without_a_stable_rank_the_cv_minimum_is_reported():
    params = dict(ranks=[1, 2, 3, 4], repeats=3, threshold=0.8, loss="kl")
    means = [5.0, 2.0, 1.9, 1.85]  # ranks 2-4 within one SE of rank 4, none stable
    scores = [dict(test=m + np.array([-0.2, 0.0, 0.2]) * (i + 1), train=np.ones(3),
                   stability=0.3, n_stable=1, unconverged=0) for i, m in enumerate(means)]
    sel = rank_mod.decide_rank(params, scores)
    assert sel.best == 4 and "smallest held-out kl error is reported" in sel.rule
    scores[1] = dict(scores[1], stability=0.9, n_stable=2)  # rank 2 stable, within 1 SE
    sel = rank_mod.decide_rank(params, scores)
    assert sel.best == 2 and sel.rule.startswith("smallest rank whose held-out")


def _scores(means, noise):
    """Rank scores whose test errors per repeat are ``mean + noise`` (same noise per rank,
    so paired differences are exact unless ``noise`` varies)."""
    return [dict(test=m + np.asarray(z), train=np.ones(len(z)), stability=0.3, n_stable=1,
                 unconverged=0) for m, z in zip(means, noise, strict=True)]


def test_choose_largest_takes_the_last_rank_within_two_standard_errors():
    params = dict(ranks=[7, 8, 9, 10, 11, 12], repeats=4, threshold=0.8, loss="kl",
                  choose="largest")
    means = [1.30, 1.00, 1.01, 1.02, 1.10, 1.40]
    # paired differences to rank 8: rank 10's mean 0.02 with SE 0.0129 (within 2 SE),
    # rank 11's mean 0.10 with SE 0.0129 (not)
    spread = np.array([-0.03, -0.01, 0.01, 0.03])
    noise = [np.zeros(4), np.zeros(4), spread * 0.5, spread, spread, np.zeros(4)]
    sel = rank_mod.decide_rank(params, _scores(means, noise))
    assert sel.best == 10
    assert sel.rule.startswith("largest rank whose held-out kl error is within 2 "
                               "standard errors of the minimum (rank 8)")
    # the parsimonious rule on the same scores reports the minimum (nothing stable)
    sel = rank_mod.decide_rank(dict(params, choose="smallest"), _scores(means, noise))
    assert sel.best == 8
    # a rank whose error is measurably worse is never taken, however large
    noise[2] = np.zeros(4)
    noise[3] = np.zeros(4)
    sel = rank_mod.decide_rank(params, _scores(means, noise))
    assert sel.best == 8
    # within the band, a rank whose components are all stable is preferred to larger ones
    noise[2] = spread * 0.5
    scores = _scores(means, noise)
    scores[1] = dict(scores[1], stability=0.95, n_stable=8)
    sel = rank_mod.decide_rank(params, scores)
    assert sel.best == 8 and sel.rule.startswith("largest rank whose components are all "
                                                 "stable")
    scores[2] = dict(scores[2], stability=0.95, n_stable=9)
    assert rank_mod.decide_rank(params, scores).best == 9


def test_choose_largest_stops_at_the_first_measurably_worse_rank():
    # rank 10 is measurably worse than rank 8 (mean +0.10, SE 0); rank 12 is worse still
    # but so erratic (SE 0.9) that 2 SE would cover it: over-fitting, not support
    params = dict(ranks=[7, 8, 9, 10, 11, 12], repeats=4, threshold=0.8, loss="kl",
                  choose="largest")
    means = [1.30, 1.00, 1.01, 1.10, 1.20, 2.00]
    wild = np.array([-1.5, -0.5, 0.5, 1.5]) * 1.2
    noise = [np.zeros(4), np.zeros(4), np.array([-0.03, -0.01, 0.01, 0.03]) * 0.5,
             np.zeros(4), np.zeros(4), wild]
    sel = rank_mod.decide_rank(params, _scores(means, noise))
    se = sel.table["test_se"]
    assert se[12] > 0.5 and 1.0 <= 2 * se[12]  # rank 12 alone would be "within" 2 SE
    assert sel.best == 9
    assert "as is every rank between them" in sel.rule
    # without the gap, the largest rank in the band is taken as before
    means[2:5] = [1.01, 1.015, 1.02]
    noise[2:5] = [np.array([-0.03, -0.01, 0.01, 0.03])] * 3
    assert rank_mod.decide_rank(params, _scores(means, noise)).best == 12


def test_choose_is_validated_and_recorded():
    X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    with pytest.raises(nmfbio.NMFInputError, match="choose must be one of 'smallest', 'largest'"):
        rank_mod.plan_rank_selection(X, [1, 2], choose="biggest")
    plan = rank_mod.plan_rank_selection(X, [1, 2], repeats=2, restarts=2, seed=0,
                                        choose="largest")
    sel = rank_mod.decide_rank(plan.params, [rank_mod.score_rank(plan, i) for i in range(2)])
    assert sel.params["choose"] == "largest" and sel.rule.startswith("largest rank")
