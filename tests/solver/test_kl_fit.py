"""The compiled whole-fit KL path (``solver/_kl_fit.py``): its log, its objective, its
agreement with the general path, and its independence from the batch."""

import numpy as np
import pytest
from conftest import match_cosine, planted

from nmfbio.solver import _kl_fit, nmf, nmf_runs, refit_H
from nmfbio.solver.losses import get_loss

#: fits run a fixed number of iterations (tol=0), which warns that they did not converge
FIXED_ITERS = pytest.mark.filterwarnings("ignore::nmfbio.errors.ConvergenceWarning")


@pytest.fixture
def general_path(monkeypatch):
    """Run the fits in the test on the general (Python-driven) KL path."""
    monkeypatch.setattr(_kl_fit, "ENABLED", False)


def test_vectorised_log_matches_numpy_to_rounding():
    rng = np.random.default_rng(0)
    y = np.concatenate([np.exp(rng.uniform(np.log(1.2e-7), 700, 5000)),
                        1 + rng.uniform(-1e-6, 1e-6, 500), [1.0, 2.0, 0.5, np.sqrt(2)]])
    got = _kl_fit.log_fast(y)
    want = np.log(y)
    scale = np.maximum(np.abs(want), 1e-300)
    err = np.abs(got - want)
    assert np.all((err <= 4e-16 * scale) | (err <= 1e-22))
    # below float32's epsilon the model is clipped, as scikit-learn's KL loss does
    assert _kl_fit.log_fast(np.array([1e-12]))[0] == pytest.approx(np.log(_kl_fit.EPS32))


@FIXED_ITERS
def test_history_is_the_exact_objective_and_never_increases():
    X, _, _ = planted(m=96, n=120, r=4, seed=3)
    res = nmf(X, 4, loss="kl", seed=0, tol=0.0, max_iter=60)
    assert res.params["algorithm"] == "ccd" and len(res.history) == 60
    assert res.history[-1] == pytest.approx(get_loss("kl").value(X, res.W, res.H), rel=1e-12)
    assert np.all(np.diff(res.history) <= 1e-12 * res.history[:-1])


def test_recovers_planted_parts():
    X, W, _ = planted(m=96, n=200, r=5, seed=4)
    res = nmf(X, 5, loss="kl", seed=1, restarts=3)
    assert match_cosine(W, res.W).min() > 0.98


@pytest.mark.parametrize("kw", [dict(), dict(l1_W=0.5, l1_H=0.5)])
def test_same_minimum_as_the_general_path(kw, monkeypatch):
    X, _, _ = planted(m=60, n=80, r=4, seed=5)
    fast = nmf(X, 4, loss="kl", seed=2, tol=1e-10, max_iter=5000, **kw)
    monkeypatch.setattr(_kl_fit, "ENABLED", False)
    slow = nmf(X, 4, loss="kl", seed=2, tol=1e-10, max_iter=5000, **kw)
    assert fast.converged and slow.converged
    # tol=1e-10 is far below float32's resolution: the float64 sweeps finished the fit
    assert fast.objective == pytest.approx(slow.objective, rel=1e-7)
    np.testing.assert_allclose(fast.W, slow.W, atol=1e-4)


def test_refit_H_matches_the_general_path(monkeypatch):
    X, W, _ = planted(m=50, n=40, r=3, seed=6)
    H1, v1 = refit_H(X, W, loss="kl", tol=1e-12)
    monkeypatch.setattr(_kl_fit, "ENABLED", False)
    H2, v2 = refit_H(X, W, loss="kl", tol=1e-12)
    assert v1 == pytest.approx(v2, rel=1e-9)
    np.testing.assert_allclose(H1, H2, rtol=1e-5, atol=1e-6)


def test_run_does_not_depend_on_its_batch():
    X, _, _ = planted(m=40, n=50, r=3, seed=7)
    runs = nmf_runs(X, 3, loss="kl", restarts=5, seed=8, max_iter=80)
    alone = nmf_runs(X, 3, loss="kl", restarts=5, seed=8, max_iter=80, run_ids=[3])[0]
    np.testing.assert_array_equal(runs[3].W, alone.W)
    np.testing.assert_array_equal(runs[3].history, alone.history)


@FIXED_ITERS
def test_wide_path_agrees_with_one_thread_and_not_with_the_thread_count(monkeypatch):
    """A large run spreads its columns over the threads: its numbers must not depend on the
    thread count, and agree with the one-thread path to float32 rounding (the two compile the
    column sweep in different contexts, so the last bits of float32 sums may differ; which
    path a run takes depends only on its size, never on its batch)."""
    import numba

    X, _, _ = planted(m=64, n=90, r=4, seed=9)
    one = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    monkeypatch.setattr(_kl_fit, "WIDE_WORK", 1)  # every run spreads its columns
    wide = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        wide1 = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(wide.history, wide1.history)
    np.testing.assert_array_equal(wide.W, wide1.W)
    np.testing.assert_allclose(wide.history, one.history, rtol=1e-6)
    np.testing.assert_allclose(wide.W, one.W, rtol=1e-3, atol=1e-6)


@FIXED_ITERS
@pytest.mark.filterwarnings("ignore::nmfbio.errors.DataWarning")
def test_dead_partner_is_frozen_not_zeroed(general_path):
    """The general path keeps a component whose partner an early step emptied (see _ccd.py);
    the compiled path must too: both end with the same number of live components."""
    X, _, _ = planted(m=30, n=40, r=3, seed=10)
    W0 = np.full((30, 3), 1.0 / 30)
    W0[:, 2] = 0.0
    H0 = np.ones((3, 40))
    slow = nmf(X, 3, loss="kl", init="custom", W_init=W0, H_init=H0, max_iter=50, tol=0.0)
    _kl_fit.ENABLED = True
    try:
        fast = nmf(X, 3, loss="kl", init="custom", W_init=W0, H_init=H0, max_iter=50, tol=0.0)
    finally:
        _kl_fit.ENABLED = False
    assert fast.n_dead == slow.n_dead
