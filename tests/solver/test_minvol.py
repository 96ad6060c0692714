"""Minimum-volume KL NMF: monotone objective, planted recovery where plain NMF blurs,
masks, sparse input, batch/shard independence and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from cohorts import flat_cohort, min_matched_cosine

from nmfbio.errors import NMFInputError
from nmfbio.solver import nmf, nmf_runs
from nmfbio.solver.losses import KL
from nmfbio.solver.minvol import fit_minvol, log_volume


@pytest.fixture(scope="module")
def planted():
    cat, S = flat_cohort(n=120, seed=2)
    return cat.to_numpy(dtype=float), S


def test_objective_never_increases_and_parts_stay_on_the_simplex(planted):
    X, _ = planted
    rng = np.random.default_rng(1)
    W, H, hist, n_iter, conv = fit_minvol(X, rng.random((96, 4)) + 0.1,
                                          rng.random((4, 120)) + 0.1, lam=2e4,
                                          max_iter=300, tol=0, check_every=1)
    steps = np.diff(hist)
    assert len(hist) == 301 and (steps <= 1e-10 * abs(hist[0])).all()
    assert hist[-1] < 0.5 * hist[0]
    np.testing.assert_allclose(W.sum(axis=0), 1.0, rtol=1e-12)
    assert (W > 0).all() and (H > 0).all()
    # the history is the stated objective
    assert hist[-1] == pytest.approx(KL().value(X, W, H) + 2e4 * log_volume(W), rel=1e-12)


def test_volume_recovers_flat_signatures_plain_nmf_blurs(planted):
    X, S = planted
    plain = nmf(X, 4, loss="kl", seed=0, restarts=2, max_iter=1500, tol=1e-6)
    with pytest.warns(Warning, match="max_iter"):  # the volume phase converges slowly
        mv = nmf(X, 4, loss="kl", seed=0, restarts=2, max_iter=1500, tol=1e-6, volume=0.5)
    # measured: plain 0.971, volume 0.996
    assert min_matched_cosine(S, plain.W) < 0.98
    assert min_matched_cosine(S, mv.W) > 0.99
    assert log_volume(mv.W) < log_volume(plain.W)
    assert mv.loss < 1.02 * plain.loss  # the data still fit
    assert mv.objective == pytest.approx(
        mv.loss + mv.params["volume_lambda"] * log_volume(mv.W), rel=1e-9)
    assert mv.params["algorithm"] == "ccd+minvol" and mv.params["volume"] == 0.5


def test_runs_do_not_depend_on_batch_or_shard(planted):
    X, _ = planted
    X = X[:, :60]
    kw = dict(loss="kl", restarts=3, seed=2, volume=0.3, max_iter=300, tol=1e-5)
    with pytest.warns(Warning):  # short runs may not converge
        every = nmf_runs(X, 3, **kw)
        part = nmf_runs(X, 3, run_ids=[1, 2], **kw)
    lam = {r.params["volume_lambda"] for r in every + part}
    assert len(lam) == 1  # one λ (from run 0's plain fit) even for a shard without run 0
    np.testing.assert_array_equal(every[1].W, part[0].W)
    np.testing.assert_array_equal(every[2].H, part[1].H)


def test_masked_entries_do_not_matter_and_sparse_is_accepted(planted):
    X, _ = planted
    X = X[:, :60]
    rng = np.random.default_rng(3)
    mask = rng.random(X.shape) > 0.1
    X2 = X.copy()
    X2[~mask] = 1e6  # held out: must not count
    kw = dict(loss="kl", seed=0, volume=0.3, max_iter=400, tol=1e-6)
    with pytest.warns(Warning):
        a = nmf(X, 3, mask=mask, **kw)
        b = nmf(X2, 3, mask=mask, **kw)
    np.testing.assert_allclose(a.W, b.W, rtol=1e-9, atol=1e-12)
    Xs = sp.csr_matrix(X)
    W, H, hist, _, _ = fit_minvol(Xs, a.W, a.H, lam=100.0, max_iter=50, tol=0)
    Wd, Hd, histd, _, _ = fit_minvol(X, a.W, a.H, lam=100.0, max_iter=50, tol=0)
    np.testing.assert_allclose(W, Wd, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(hist, histd, rtol=1e-10)


def test_bad_options_are_refused(planted):
    X, _ = planted
    with pytest.raises(NMFInputError, match="minimum-volume NMF .* is for loss='kl'"):
        nmf(X, 3, loss="frobenius", volume=0.1)
    with pytest.raises(NMFInputError, match="l1_W must be 0"):
        nmf(X, 3, loss="kl", volume=0.1, l1_W=1.0)
    with pytest.raises(NMFInputError, match="volume"):
        nmf(X, 3, loss="kl", volume=-1.0)
