"""Invariants of the solver: losses, monotone objective, recovery, dense == sparse, seeds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import evaluated, match_cosine, planted

import nmfbio
from nmfbio.errors import ConvergenceWarning
from nmfbio.solver import KL, Frobenius, nmf, nmf_runs

LOSS_NAMES = ["frobenius", "kl"]


def naive_loss(name, X, W, H, mask=None):
    """Obvious, slow reference: loop over every observed entry."""
    Y = W @ H
    eps = np.finfo(np.float32).eps
    total = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if mask is not None and not mask[i, j]:
                continue
            x, y = X[i, j], Y[i, j]
            if name == "frobenius":
                total += 0.5 * (x - y) ** 2
            else:
                total += (x * np.log(x / max(y, eps)) - x if x > 0 else 0.0) + y
    return total


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_fast_loss_equals_naive_and_sklearn(name):
    from sklearn.decomposition._nmf import _beta_divergence

    rng = np.random.default_rng(1)
    X, _, _ = planted(12, 15, 2, seed=1)
    X[rng.random(X.shape) < 0.3] = 0  # zeros exercise the x = 0 branch of KL
    W = rng.random((12, 2))
    H = rng.random((2, 15))
    lossobj = Frobenius() if name == "frobenius" else KL()
    ref = naive_loss(name, X, W, H)
    assert lossobj.value(X, W, H) == pytest.approx(ref, rel=1e-12)
    assert lossobj.value(sp.csr_matrix(X), W, H) == pytest.approx(ref, rel=1e-10)
    beta = 2 if name == "frobenius" else 1
    assert lossobj.value(X, W, H) == pytest.approx(_beta_divergence(X, W, H, beta), rel=1e-10)
    mask = rng.random(X.shape) > 0.25
    assert lossobj.value(X, W, H, mask) == pytest.approx(naive_loss(name, X, W, H, mask),
                                                         rel=1e-12)


@pytest.mark.filterwarnings("ignore::nmfbio.errors.ConvergenceWarning")
@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("l1", [0.0, 2.0])
@pytest.mark.parametrize("kind", ["dense", "masked", "sparse"])
def test_objective_never_increases(name, l1, kind):
    X, _, _ = planted(30, 40, 3, seed=2)
    mask = None
    if kind == "masked":
        mask = np.random.default_rng(3).random(X.shape) > 0.2
    if kind == "sparse":
        X = sp.csr_matrix(X)
    res = nmf(X, 3, loss=name, l1_W=l1, l1_H=l1, mask=mask, init="random", seed=4,
              max_iter=150, tol=1e-10)
    h = evaluated(res.history)
    assert len(h) > 5 and h[-1] == res.history[-1]
    assert np.all(np.diff(h) <= 1e-10 * np.abs(h[:-1])), np.diff(h).max()
    # the in-loop objective agrees with the exact loss (+ penalties) of the final factors
    if l1 == 0:
        assert h[-1] == pytest.approx(res.loss, rel=1e-7)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_planted_exact_model_is_recovered(name):
    # sparse planted factors with pure samples and features: the factorization is unique
    rng = np.random.default_rng(5)
    W = rng.gamma(0.6, size=(30, 4)) * (rng.random((30, 4)) < 0.6)
    H = rng.gamma(0.8, size=(4, 50)) * (rng.random((4, 50)) < 0.6) * 50
    W[:4] = np.eye(4)
    H[:, :4] = 50 * np.eye(4)
    H[0, H.sum(axis=0) == 0] = 10.0
    W[W.sum(axis=1) == 0, 0] = 0.5
    X = W @ H
    res = nmfbio.fit(X, 4, loss=name, seed=0, tol=1e-12, max_iter=3000, restarts=3)
    rel = res.loss / (Frobenius().value(X, np.zeros((30, 1)), np.zeros((1, 50))) if
                      name == "frobenius" else float(X.sum()))
    assert rel < 1e-6
    assert match_cosine(res.W, W).min() > 0.999
    assert match_cosine(res.H.T, H.T).min() > 0.999


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_worked_example(name):
    W = np.array([[2, 0.5], [0, 1.5], [1, 0]])
    H = np.array([[1, 0, 2, 1], [0.5, 1, 0, 0.5]])
    X = W @ H
    res = nmfbio.fit(X, 2, loss=name, seed=0, tol=1e-14, max_iter=5000)
    assert res.loss < 1e-10
    np.testing.assert_allclose(res.reconstruct()[:, 2], [4, 0, 2], atol=1e-5)
    np.testing.assert_allclose(res.W.sum(axis=0), 1.0)
    # components ordered by contribution
    assert np.all(np.diff(res.H.sum(axis=1)) <= 0)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_dense_equals_sparse(name):
    X, _, _ = planted(40, 50, 3, seed=6)
    X[X < 2] = 0  # genuinely sparse
    X[:, X.sum(axis=0) == 0] = 1.0
    X[X.sum(axis=1) == 0, :] = 1.0
    # the same algorithm on the same numbers: only the order of floating-point sums differs
    d = nmf(X, 3, loss=name, seed=7, tol=1e-9, max_iter=2000)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        s = nmf(fmt(X), 3, loss=name, seed=7, tol=1e-9, max_iter=2000)
        assert s.loss == pytest.approx(d.loss, rel=1e-7)
        np.testing.assert_allclose(s.W, d.W, atol=1e-4)
        np.testing.assert_allclose(s.H / d.H.max(), d.H / d.H.max(), atol=1e-3)


@pytest.mark.filterwarnings("ignore::nmfbio.errors.ConvergenceWarning")
def test_sparse_input_is_never_densified(monkeypatch):
    X, _, _ = planted(40, 50, 3, seed=8)
    S = sp.csr_matrix(X)

    def forbid(*args, **kwargs):
        raise AssertionError("a sparse matrix was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        monkeypatch.setattr(cls, "toarray", forbid)
        monkeypatch.setattr(cls, "todense", forbid)
    for name in LOSS_NAMES:
        for init in ("nndsvda", "random"):
            res = nmf(S, 3, loss=name, init=init, seed=0, max_iter=50, tol=1e-4)
            assert np.isfinite(res.loss)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_float32_input_matches_float64(name):
    X, _, _ = planted(30, 40, 3, seed=9)
    a = nmf(X, 3, loss=name, seed=1)
    b = nmf(X.astype(np.float32), 3, loss=name, seed=1)
    assert b.W.dtype == np.float64
    assert b.loss == pytest.approx(a.loss, rel=1e-6)
    np.testing.assert_allclose(b.W, a.W, atol=1e-5)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_same_seed_same_result_and_restarts(name):
    X, _, _ = planted(30, 40, 3, seed=10)
    a = nmf(X, 3, loss=name, seed=11, restarts=4)
    b = nmf(X, 3, loss=name, seed=11, restarts=4)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.H, b.H)
    np.testing.assert_array_equal(a.history, b.history)
    assert a.objective == pytest.approx(a.restart_objectives.min())
    assert len(a.restart_objectives) == 4
    # each run of a batch equals the same run fitted alone (batching changes nothing)
    runs = nmf_runs(X, 3, loss=name, seed=11, restarts=4, init="random")
    solo = nmf_runs(X, 3, loss=name, seed=11, restarts=4, init="random")
    for r1, r2 in zip(runs, solo, strict=True):
        np.testing.assert_array_equal(r1.W, r2.W)
    c = nmf(X, 3, loss=name, seed=12, init="random")
    assert not np.allclose(c.W, nmf(X, 3, loss=name, seed=13, init="random").W)


def test_seed_none_is_recorded_and_reproduces():
    X, _, _ = planted(20, 30, 2, seed=14)
    a = nmf(X, 2, loss="kl", init="random")
    assert isinstance(a.seed, int)
    b = nmf(X, 2, loss="kl", init="random", seed=a.seed)
    np.testing.assert_array_equal(a.W, b.W)


def test_masked_entries_take_no_part():
    X, _, _ = planted(30, 40, 3, seed=15)
    mask = np.random.default_rng(16).random(X.shape) > 0.2
    for name in LOSS_NAMES:
        a = nmf(X, 3, loss=name, mask=mask, seed=2)
        Y = X.copy()
        Y[~mask] = np.nan  # NaN is allowed where masked out ...
        Y[0, 0] = Y[0, 0] if mask[0, 0] else np.inf
        b = nmf(Y, 3, loss=name, mask=mask, seed=2)
        np.testing.assert_array_equal(a.W, b.W)  # ... and changes nothing
        Z = X.copy()
        Z[~mask] = 1e6  # wildly different held-out values: same fit
        c = nmf(Z, 3, loss=name, mask=mask, seed=2)
        np.testing.assert_allclose(c.W, a.W, atol=1e-12)


def test_l1_makes_factors_sparser():
    # (this test once passed with l1_H alone under KL only because the penalty killed a
    # whole component; see test_kl_single_l1_only_rescales)
    X, _, _ = planted(40, 60, 4, seed=17)
    plain = nmf(X, 4, loss="frobenius", seed=3)
    sparse = nmf(X, 4, loss="frobenius", seed=3, l1_H=5.0)
    assert (sparse.H < 1e-9).mean() > (plain.H < 1e-9).mean() + 0.05
    plain = nmf(X, 4, loss="kl", seed=3, tol=1e-10, max_iter=5000)
    both = nmf(X, 4, loss="kl", seed=3, l1_W=5.0, l1_H=5.0, tol=1e-10, max_iter=5000)
    assert both.n_dead == 0
    assert (both.H < 1e-9).mean() > (plain.H < 1e-9).mean()
    assert (both.W < 1e-9).mean() > (plain.W < 1e-9).mean() + 0.05


def planted_mixtures(seed):
    """40 features × 200 samples of counts from 4 parts, each sample using one or two."""
    rng = np.random.default_rng(seed)
    W = rng.gamma(0.5, size=(40, 4))
    W /= W.sum(axis=0)
    H = np.zeros((4, 200))
    for j in range(200):
        used = rng.choice(4, size=rng.integers(1, 3), replace=False)
        H[used, j] = rng.dirichlet(np.ones(len(used)))
    H *= rng.uniform(300, 3000, size=200)
    return rng.poisson(W @ H).astype(float)


@pytest.mark.parametrize("kind", ["dense", "sparse", "masked"])
@pytest.mark.parametrize("penalties", [{"l1_H": 1e-6}, {"l1_H": 1e-6, "l1_W": 1e-6}])
def test_kl_l1_does_not_kill_a_component(kind, penalties):
    # the first KL W-step from NNDSVDa empties a column of W; the penalty used to zero the
    # matching row of H too (its only gradient), and W = 0, H = 0 was then permanent:
    # W's column sums came out [1, 1, 1, 0] and the loss 13x the unpenalised one
    X = planted_mixtures(7)
    mask = np.random.default_rng(0).random(X.shape) > 0.1 if kind == "masked" else None
    Xk = sp.csr_matrix(X) if kind == "sparse" else X
    plain = nmf(Xk, 4, loss="kl", mask=mask, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no dead-component warning
        pen = nmf(Xk, 4, loss="kl", mask=mask, seed=0, **penalties)
    np.testing.assert_allclose(pen.W.sum(axis=0), 1.0)
    assert pen.n_dead == 0 and (pen.H.sum(axis=1) > 0).all()
    assert pen.loss == pytest.approx(plain.loss, rel=0.01)
    h = evaluated(pen.history)
    assert np.all(np.diff(h) <= 1e-10 * np.abs(h[:-1]))
    np.testing.assert_array_equal(nmf(Xk, 4, loss="kl", mask=mask, seed=0, **penalties).W,
                                  pen.W)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_dead_component_warns_and_drops_its_penalty(name):
    # exact rank-2 data fitted with rank 3 from the truth plus an empty column of W; with a
    # strong l1_W that column never comes back and its row of H stays frozen to the end
    X, W, H = planted(20, 30, 2, seed=24, poisson=False)
    W0 = np.hstack([W, np.zeros((20, 1))])
    H0 = np.vstack([H, np.full((1, 30), 5.0)])
    opts = dict(loss=name, l1_W=10.0, l1_H=0.01, seed=0)
    with pytest.warns(nmfbio.DataWarning, match="1 of 3 components ended dead"):
        res = nmf(X, 3, W_init=W0, H_init=H0, **opts)
    assert res.n_dead == 1
    assert not res.W[:, 2].any() and not res.H[2].any()  # ordered last, zero both sides
    assert res.loss == pytest.approx(naive_loss(name, X, res.W, res.H), rel=1e-7)
    # the frozen row (0.01 · 5 · 30 = 1.5 of penalty) changed nothing but the penalty, which
    # the final objective drops: the same fit as from a start with the row already zero
    H0[2] = 0.0
    with pytest.warns(nmfbio.DataWarning, match="ended dead"):
        ref = nmf(X, 3, W_init=W0, H_init=H0, **opts)
    assert res.objective == pytest.approx(ref.objective, rel=1e-12)
    assert res.history[-1] == res.objective
    both = np.isfinite(res.history[:-1]) & np.isfinite(ref.history[:-1])  # evaluated
    assert both.sum() >= 3
    np.testing.assert_allclose(res.history[:-1][both] - ref.history[:-1][both], 1.5,
                               rtol=1e-9)
    with pytest.warns(nmfbio.DataWarning, match="1 of 1 NMF runs ended with a dead"):
        nmf_runs(X, 3, init="custom", W_init=W0, H_init=H0, **opts)


@pytest.mark.parametrize("penalty", ["l1_H", "l1_W"])
def test_kl_single_l1_only_rescales(penalty):
    # with KL and the other factor pinned to unit sums, Σ of the penalised factor is the
    # total of the model, and the KL optimum over a cone is the unpenalised one times
    # 1/(1 + l1): same parts, same zeros, H / (1 + l1)
    X = planted_mixtures(7)
    opts = dict(loss="kl", seed=3, tol=1e-10, max_iter=5000)
    plain = nmf(X, 4, **opts)
    for l1 in (0.5, 5.0):
        pen = nmf(X, 4, **opts, **{penalty: l1})
        np.testing.assert_allclose(pen.W, plain.W, atol=1e-4)
        np.testing.assert_allclose(pen.H * (1 + l1), plain.H, atol=1e-3 * plain.H.max())
        np.testing.assert_array_equal(pen.H > 0, plain.H > 0)
        np.testing.assert_array_equal(pen.W > 0, plain.W > 0)
    # with both penalties, at the balanced scaling the penalty is 2·√(l1_W l1_H)·Σ_k √ΣH_k
    both = nmf(X, 4, **opts, l1_W=1.0, l1_H=4.0)
    assert both.objective - both.loss == pytest.approx(
        4.0 * np.sqrt(both.H.sum(axis=1)).sum(), rel=1e-6)


def test_custom_init_and_inits_run():
    X, W, H = planted(20, 30, 2, seed=18)
    with pytest.warns(ConvergenceWarning):
        res = nmf(X, 2, loss="kl", W_init=W, H_init=H, max_iter=5, tol=1e-12)
    assert res.params["init"] == "custom"
    for init in ("random", "nndsvd", "nndsvda", "nndsvdar"):
        r = nmf(X, 2, loss="kl", init=init, seed=0)
        assert r.loss < KL().value(X, np.full((20, 1), X.mean() ** 0.5),
                                   np.full((1, 30), X.mean() ** 0.5))


def test_convergence_warning_at_max_iter():
    X, _, _ = planted(20, 30, 2, seed=19)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = nmf(X, 2, loss="kl", max_iter=3, tol=1e-12, seed=0)
    assert not res.converged and res.n_iter == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nmf(X, 2, loss="kl", seed=0).converged


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("sparse", [False, True])
def test_runs_do_not_depend_on_their_batch(monkeypatch, name, sparse):
    import nmfbio.solver.core as core

    X, _, _ = planted(30, 40, 3, seed=20)
    Xs = sp.csr_matrix(X) if sparse else X
    together = nmf_runs(Xs, 3, loss=name, seed=5, restarts=4, resample="poisson")
    monkeypatch.setattr(core, "_BATCH_BYTES", 1)  # one run per batch
    alone = nmf_runs(Xs, 3, loss=name, seed=5, restarts=4, resample="poisson")
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.history, b.history)
    assert len({round(r.loss, 6) for r in together}) == 4  # each run saw its own data


@pytest.mark.parametrize("how", ["poisson", "multinomial"])
def test_resampling(how):
    from nmfbio.solver.resample import resample

    X, _, _ = planted(30, 40, 3, seed=21)
    X[X < 3] = 0
    a = resample(X, how, np.random.default_rng(1))
    b = resample(X, how, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert np.all(a[X == 0] == 0) and np.all(a == np.round(a))
    if how == "multinomial":
        np.testing.assert_array_equal(a.sum(axis=0), X.sum(axis=0))
    else:
        assert abs(a.sum() / X.sum() - 1) < 0.05
    S = sp.csr_matrix(X)
    c = resample(S, how, np.random.default_rng(1))
    np.testing.assert_array_equal(c.indices, S.indices)
    np.testing.assert_array_equal(c.indptr, S.indptr)
    if how == "multinomial":
        np.testing.assert_array_equal(np.asarray(c.sum(axis=0)).ravel(), X.sum(axis=0))


def test_per_run_masks_equal_separate_fits():
    X, _, _ = planted(30, 40, 3, seed=22)
    rng = np.random.default_rng(23)
    masks = rng.random((3, 30, 40)) > 0.2
    runs = nmf_runs(X, 3, loss="kl", mask=masks, restarts=3, seed=0, init="random")
    for b in range(3):
        ref = naive_loss("kl", X, runs[b].W, runs[b].H, masks[b])
        assert runs[b].loss == pytest.approx(ref, rel=1e-10)
    # the held-out entries of run 0 do not influence run 0
    Z = X.copy()
    Z[~masks[0]] = 1e5
    Z[~masks.any(axis=0)] = 0
    other = nmf_runs(Z, 3, loss="kl", mask=np.stack([masks[0], masks[0], masks[0]]),
                     restarts=3, seed=0, init="random")
    np.testing.assert_allclose(other[0].W, runs[0].W, atol=1e-12)
    with pytest.raises(nmfbio.NMFInputError, match="one mask per run"):
        nmf_runs(X, 3, mask=masks, restarts=2)
