"""The Frobenius (HALS) general path: float32 products first, Gram matrices in chunks,
transposed row sweeps. Small problems are forced onto the general path by lowering
``SMALL_FIT_WORK``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import match_cosine, planted

import nmfbio.solver.algorithms as algorithms
import nmfbio.solver.core as core
from nmfbio.solver import Frobenius, nmf, nmf_runs
from nmfbio.solver._ccd import _hals_chunks


@pytest.fixture
def general(monkeypatch):
    """Every dense Frobenius fit on the general (per-iteration) path."""
    monkeypatch.setattr(algorithms, "SMALL_FIT_WORK", 0)


def noisy(m=60, n=80, r=4, seed=0):
    X, W, H = planted(m, n, r, seed=seed)
    return np.random.default_rng(seed).poisson(X * 20).astype(float), W, H


@pytest.mark.filterwarnings("ignore::nmfbio.errors.ConvergenceWarning")
@pytest.mark.parametrize("max_iter, tol", [(3, 0.0), (500, 1e-9)])
@pytest.mark.parametrize("sparse", [False, True])
def test_final_objective_is_exact(general, max_iter, tol, sparse):
    # stopped on float32 products (3 iterations) or after the switch to float64: the last
    # objective is the exact float64 loss of the returned factors either way
    X, _, _ = noisy()
    res = nmf(sp.csr_matrix(X) if sparse else X, 4, seed=1, max_iter=max_iter, tol=tol)
    exact = Frobenius().value(X, res.W, res.H)
    assert res.history[-1] == pytest.approx(exact, rel=1e-11)
    assert res.loss == pytest.approx(exact, rel=1e-11)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_products_reach_the_float64_minimum(general, monkeypatch, sparse):
    X, W, _ = noisy()
    Xs = sp.csr_matrix(X) if sparse else X
    low = nmf(Xs, 4, seed=2, tol=1e-11, max_iter=5000)
    monkeypatch.setattr(algorithms, "LOW_PRECISION", False)
    full = nmf(Xs, 4, seed=2, tol=1e-11, max_iter=5000)
    assert low.converged and full.converged
    assert low.loss == pytest.approx(full.loss, rel=1e-9)
    assert match_cosine(low.W, full.W).min() > 0.9999
    assert match_cosine(low.W, W).min() > 0.95
    # float32 products were used: the early objectives differ (slightly)
    assert not np.array_equal(low.history[:3], full.history[:3])
    np.testing.assert_allclose(low.history[:3], full.history[:3], rtol=1e-5)


def test_objective_decreases_through_the_switch(general):
    X, _, _ = noisy(seed=3)
    h = np.asarray(nmf(X, 4, seed=3, tol=1e-10, max_iter=2000).history)
    assert len(h) > 10
    # float32 objectives carry a relative error ~1e-7: never an increase beyond it
    assert np.all(np.diff(h) <= 1e-6 * h[:-1])
    # after the switch (relative decrease < LOW_SWITCH) the objectives are exact: monotone
    dec = -np.diff(h) / h[1:]
    after = np.flatnonzero(dec < algorithms.LOW_SWITCH)[0] + 2
    assert np.all(np.diff(h[after:]) <= 1e-12 * h[after:-1])


@pytest.mark.parametrize("sparse", [False, True])
def test_runs_do_not_depend_on_their_batch(general, monkeypatch, sparse):
    X, _, _ = noisy(seed=4)
    Xs = sp.csr_matrix(X) if sparse else X
    together = nmf_runs(Xs, 4, seed=5, restarts=3, resample="poisson")
    monkeypatch.setattr(core, "_BATCH_BYTES", 1)  # one run per batch
    alone = nmf_runs(Xs, 4, seed=5, restarts=3, resample="poisson")
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.history, b.history)


@pytest.mark.parametrize("sparse", [False, True])
def test_restart_alone_equals_in_its_batch(general, sparse):
    # restarts of one X switch to float64 at different iterations, so a batch mixes float32
    # and float64 products; a run fitted alone gives the same numbers
    X, _, _ = noisy(seed=10)
    Xs = sp.csr_matrix(X) if sparse else X
    together = nmf_runs(Xs, 4, seed=6, restarts=4, tol=1e-8, max_iter=3000)
    assert len({r.n_iter for r in together}) > 1
    for b in range(4):
        alone = nmf_runs(Xs, 4, seed=6, restarts=4, tol=1e-8, max_iter=3000, run_ids=[b])[0]
        np.testing.assert_array_equal(alone.W, together[b].W)
        np.testing.assert_array_equal(alone.history, together[b].history)


def test_user_array_is_shared_but_never_written(general):
    X, _, _ = noisy(seed=6)
    before = X.copy()
    nmf(X, 4, seed=0, max_iter=2000)
    nmf(X, 4, loss="kl", seed=0, max_iter=2000)
    np.testing.assert_array_equal(X, before)


def test_gram_is_chunked_and_exact():
    rng = np.random.default_rng(7)
    F = rng.random((3, 5000, 20))
    G = algorithms._gram(F)
    np.testing.assert_allclose(G, np.matmul(F.transpose(0, 2, 1), F), rtol=1e-12)
    for b in range(3):  # a run's Gram matrix does not depend on the other runs
        np.testing.assert_array_equal(algorithms._gram(F[b:b + 1])[0], G[b])


def test_row_sweeps_equal_one_row_at_a_time():
    rng = np.random.default_rng(8)
    n, r = 150, 6
    F = rng.random((40, r))
    U0 = rng.random((n, r))
    A = rng.random((n, r)) @ (F.T @ F) + 0.1
    g = F.T @ F
    l1 = np.full(r, 0.05)
    U = U0.copy()
    _hals_chunks(U, A, g, l1, 3, 0.0)
    ref = U0.copy()
    for i in range(n):  # the obvious sweeps: row by row, coordinate by coordinate
        for _ in range(3):
            for k in range(r):
                s = A[i, k] - l1[k] - g[k] @ ref[i]
                ref[i, k] = max(ref[i, k] + s / g[k, k], 0.0)
    np.testing.assert_allclose(U, ref, rtol=1e-12, atol=1e-14)


def test_compiled_small_fit_is_the_same_algorithm(monkeypatch):
    # the whole-fit compiled path and the per-iteration path run the same updates,
    # extrapolation and stopping rule: same iterations, same objectives up to rounding
    X, _, _ = noisy(seed=9)
    monkeypatch.setattr(algorithms, "LOW_PRECISION", False)
    small = nmf(X, 4, seed=3, tol=1e-9, max_iter=3000)
    monkeypatch.setattr(algorithms, "SMALL_FIT_WORK", 0)
    general = nmf(X, 4, seed=3, tol=1e-9, max_iter=3000)
    assert small.n_iter == general.n_iter
    np.testing.assert_allclose(small.history, general.history, rtol=1e-9)
    np.testing.assert_allclose(small.W, general.W, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("path", ["small", "general"])
def test_extrapolation_keeps_the_minimum_in_fewer_iterations(monkeypatch, path):
    if path == "general":
        monkeypatch.setattr(algorithms, "SMALL_FIT_WORK", 0)
    iters, losses = {}, {}
    for on in (False, True):
        monkeypatch.setattr(algorithms, "EXTRAPOLATE", on)
        fits = [nmf(noisy(seed=s)[0], 4, seed=s, tol=1e-8, max_iter=5000) for s in range(4)]
        assert all(f.converged for f in fits)
        iters[on] = sum(f.n_iter for f in fits)
        losses[on] = np.array([f.loss for f in fits])
        for f in fits:  # the history never increases, extrapolated or not
            assert np.all(np.diff(f.history) <= 1e-6 * np.asarray(f.history[:-1]))
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-5)
    assert iters[True] < 0.8 * iters[False], iters
