"""The compiled whole-fit KL path (``solver/_kl_fit.py``): its log, its objective, its
agreement with the general path, and its independence from the batch."""

from pathlib import Path

import numpy as np
import pytest
from conftest import evaluated, match_cosine, planted

from nmfbio.solver import _kl_fit, nmf, nmf_runs, refit_H
from nmfbio.solver.losses import get_loss

#: fits run a fixed number of iterations (tol=0), which warns that they did not converge
FIXED_ITERS = pytest.mark.filterwarnings("ignore::nmfbio.errors.ConvergenceWarning")


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
    kl = get_loss("kl")
    res = nmf(X, 4, loss="kl", seed=0, tol=0.0, max_iter=60)
    h = res.history
    assert res.params["algorithm"] == "ccd" and len(h) == 60
    assert h[-1] == pytest.approx(kl.value(X, res.W, res.H), rel=1e-12)
    # the objective is evaluated at the first iterations, then sparsely (NaN between)
    assert np.isfinite(h[:3]).all() and 5 < np.isfinite(h).sum() < 30
    assert np.all(np.diff(evaluated(h)) <= 1e-12 * evaluated(h)[:-1])
    # every evaluated entry is the exact objective after that many iterations: a run told to
    # stop there follows the same path and evaluates its last iteration
    for k in np.flatnonzero(np.isfinite(h))[[1, 4, -2]] + 1:
        short = nmf(X, 4, loss="kl", seed=0, tol=0.0, max_iter=int(k))
        assert short.history[-1] == h[k - 1]


@FIXED_ITERS
@pytest.mark.filterwarnings("ignore::nmfbio.DataWarning")  # dead components after 1-2 its
@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_sparse_evaluation_stops_where_an_every_iteration_test_would(tol):
    # the exact objective after each iteration i (a run of max_iter=i follows the same path
    # and evaluates its last iteration) gives the iteration at which testing the relative
    # decrease every iteration would have stopped; the sparse schedule stops there or a few
    # iterations later (here within GAP_MAX), never before (a window's mean decrease is at
    # least its smallest), and its objective is then no worse
    X, _, _ = planted(m=60, n=80, r=5, seed=9)
    res = nmf(X, 5, loss="kl", seed=1, tol=tol, max_iter=1000)
    assert res.converged
    exact = [nmf(X, 5, loss="kl", seed=1, tol=0.0, max_iter=i).objective
             for i in range(1, res.n_iter + 1)]
    dec = (np.array(exact[:-1]) - np.array(exact[1:])) <= tol * np.abs(exact[:-1])
    first = int(np.flatnonzero(dec)[0]) + 2  # iterations run when that rule stops
    assert first <= res.n_iter <= first + _kl_fit.GAP_MAX
    assert res.objective <= exact[first - 1]
    ok = np.isfinite(res.history)
    np.testing.assert_array_equal(res.history[ok], np.array(exact)[ok])


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


@pytest.mark.parametrize("few", [None, 1])
def test_run_does_not_depend_on_its_batch(few, monkeypatch):
    # with few=1 the run fitted alone spreads its columns over the threads (as a single fit
    # of WIDE_WORK_FEW multiply-adds does) while the batch of 5 runs side by side
    if few is not None:
        monkeypatch.setattr(_kl_fit, "WIDE_WORK_FEW", few)
    X, _, _ = planted(m=40, n=50, r=3, seed=7)
    runs = nmf_runs(X, 3, loss="kl", restarts=5, seed=8, max_iter=80)
    alone = nmf_runs(X, 3, loss="kl", restarts=5, seed=8, max_iter=80, run_ids=[3])[0]
    np.testing.assert_array_equal(runs[3].W, alone.W)
    np.testing.assert_array_equal(runs[3].history, alone.history)


@FIXED_ITERS
def test_wide_path_gives_the_numbers_of_one_thread_with_any_thread_count(monkeypatch):
    """A large run splits its columns over the threads: its numbers are those of the
    one-thread path, bit for bit, whatever the thread count."""
    import numba

    X, _, _ = planted(m=64, n=90, r=4, seed=9)
    one = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    monkeypatch.setattr(_kl_fit, "WIDE_WORK", 1)  # every run splits its columns
    wide = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        wide1 = nmf(X, 4, loss="kl", seed=3, tol=0.0, max_iter=40)
    finally:
        numba.set_num_threads(threads)
    for res in (wide, wide1):
        np.testing.assert_array_equal(res.history, one.history)
        np.testing.assert_array_equal(res.W, one.W)


def test_fresh_compile_and_cache_give_the_same_numbers(tmp_path):
    """numba's cache must not change a result: the same fit in a process that compiles the
    kernels and in one that loads them from that cache."""
    import subprocess
    import sys

    code = ("import numpy as np; from conftest import planted; from nmfbio.solver import nmf; "
            "X = planted(m=50, n=70, r=4, seed=12)[0]; "
            "r = nmf(X, 4, loss='kl', seed=5, restarts=3, tol=1e-9, max_iter=300); "
            "print(r.W.tobytes().hex()[:4000], r.history.tobytes().hex())")
    env = dict(__import__("os").environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    tests = str(Path(__file__).resolve().parents[1])
    out = [subprocess.run([sys.executable, "-c", code], env=env, cwd=tests, check=True,
                          capture_output=True, text=True).stdout for _ in range(2)]
    assert out[0] == out[1] and len(out[0]) > 100


@FIXED_ITERS
@pytest.mark.filterwarnings("ignore::nmfbio.errors.DataWarning")
def test_dead_partner_is_frozen_not_zeroed(monkeypatch):
    """The general path keeps a component whose partner an early step emptied (see _ccd.py);
    the compiled path must too: both end with the same number of live components."""
    X, _, _ = planted(m=30, n=40, r=3, seed=10)
    W0 = np.full((30, 3), 1.0 / 30)
    W0[:, 2] = 0.0
    H0 = np.ones((3, 40))
    fast = nmf(X, 3, loss="kl", init="custom", W_init=W0, H_init=H0, max_iter=50, tol=0.0)
    monkeypatch.setattr(_kl_fit, "ENABLED", False)
    slow = nmf(X, 3, loss="kl", init="custom", W_init=W0, H_init=H0, max_iter=50, tol=0.0)
    assert fast.n_dead == slow.n_dead


def _speckles(shape, seed, frac=0.1):
    return np.random.default_rng(seed).random(shape) >= frac


@pytest.mark.parametrize("kw", [dict(), dict(l1_W=0.3, l1_H=0.3)])
def test_masked_fit_reaches_the_general_paths_minimum(kw, monkeypatch):
    """Held-out entries (rank selection's masks) take the compiled path too: same minimum as
    the general path, and the objective counts only the observed entries."""
    X, _, _ = planted(m=60, n=80, r=4, seed=13)
    M = _speckles(X.shape, 1)
    fast = nmf(X, 4, loss="kl", mask=M, seed=2, tol=1e-10, max_iter=5000, **kw)
    monkeypatch.setattr(_kl_fit, "ENABLED", False)
    slow = nmf(X, 4, loss="kl", mask=M, seed=2, tol=1e-10, max_iter=5000, **kw)
    assert fast.converged and slow.converged
    assert fast.objective == pytest.approx(slow.objective, rel=1e-7)
    np.testing.assert_allclose(fast.W, slow.W, atol=1e-4)
    # the reported loss (the objective less the penalties) counts the observed entries only
    assert fast.loss == pytest.approx(get_loss("kl").value(X, fast.W, fast.H, mask=M),
                                      rel=1e-11)


@FIXED_ITERS
def test_masked_history_never_increases_and_ignores_held_out_values():
    X, _, _ = planted(m=50, n=60, r=3, seed=14)
    M = _speckles(X.shape, 2, 0.2)
    rng = np.random.default_rng(3)
    start = dict(init="custom", W_init=rng.random((50, 3)), H_init=rng.random((3, 60)))
    res = nmf(X, 3, loss="kl", mask=M, tol=0.0, max_iter=60, **start)
    assert res.params["algorithm"] == "ccd"
    h = evaluated(res.history)
    assert np.all(np.diff(h) <= 1e-12 * h[:-1])
    Y = X.copy()
    Y[~M] = 1e6  # what is held out must not matter
    other = nmf(Y, 3, loss="kl", mask=M, tol=0.0, max_iter=60, **start)
    np.testing.assert_array_equal(other.W, res.W)
    np.testing.assert_array_equal(other.history, res.history)


def test_masked_runs_do_not_depend_on_their_batch():
    X, _, _ = planted(m=40, n=50, r=3, seed=15)
    masks = np.stack([_speckles(X.shape, s) for s in range(5)])
    runs = nmf_runs(X, 3, loss="kl", mask=masks, restarts=5, seed=8, max_iter=80)
    alone = nmf_runs(X, 3, loss="kl", mask=masks[3], restarts=5, seed=8, max_iter=80,
                     run_ids=[3])[0]
    np.testing.assert_array_equal(runs[3].W, alone.W)
    np.testing.assert_array_equal(runs[3].history, alone.history)


def test_next_gap_stays_in_range_and_watches_near_the_threshold():
    gap = _kl_fit._next_gap
    G = _kl_fit.GAP_MAX
    # first windows (no earlier mean) and a decrease that does not decay: evaluate next time
    assert gap(100.0, 1.0, np.nan, 2.0, 1e-4, True) == 1
    assert gap(100.0, 1.0, 0.5, 2.0, 1e-4, True) == 1
    # fast decay far above the threshold: a long gap, never more than GAP_MAX, even where
    # the predicted count would overflow an integer (a decay of 1e-16 per iteration)
    assert 1 < gap(1e4, 10.0, 100.0, 1.0, 1e-8, False) <= G
    assert 1 <= gap(1.0, 1e-3, 1e-3 * (1 + 4e-16), 100.0, 1e-300, False) <= G
    # within NEAR times the threshold every iteration is evaluated
    assert gap(100.0, 100.0 * 1e-4 * 0.9 * _kl_fit.NEAR, 1.0, 1.0, 1e-4, False) == 1
    # tol 0 in float64: nothing to watch once a rate is known
    assert gap(100.0, 1.0, 2.0, 1.0, 0.0, False) == G
