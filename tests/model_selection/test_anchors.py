"""Anchors and separability: SPA finds pure samples; the verdict tells separable from not."""

from __future__ import annotations

import numpy as np
import pytest

import nmfbio
from nmfbio import anchors


def sep_data(seed, m=96, n=300, r=5, noise=0.05, separable=True):
    """Planted parts; separable data have one pure sample per part; 5 % relative noise."""
    rng = np.random.default_rng(seed)
    W = rng.dirichlet(np.full(m, 0.5), size=r).T
    if separable:
        H = np.hstack([np.eye(r), rng.dirichlet(np.ones(r), size=n - r).T])
    else:
        H = rng.dirichlet(np.full(r, 3.0), size=n).T  # every sample well mixed
    H = H * rng.uniform(500, 3000, size=n)
    X = np.maximum(W @ H * (1 + noise * rng.standard_normal((m, n))), 0)
    return X, W, H


def test_spa_finds_an_anchor_for_every_part_in_95_percent_of_seeds():
    found = 0
    for seed in range(20):
        X, _, H = sep_data(seed)
        idx = anchors.spa(X, 5)
        shares = H[:, idx] / H[:, idx].sum(axis=0)
        found += bool((shares.max(axis=1) >= 0.9).all())
    assert found >= 19


@pytest.mark.parametrize("seed", [0, 1])
def test_verdicts(seed):
    X, _, _ = sep_data(seed)
    rep = anchors.separability(X, 5, seed=0)
    assert rep.separable and "near-separable" in rep.reason
    assert (rep.purity >= 0.9).all() and (rep.anchor_cosine >= 0.9).all()
    Xn, _, _ = sep_data(seed, separable=False)
    repn = anchors.separability(Xn, 5, seed=0)
    assert not repn.separable and repn.reason.startswith("not separable")
    assert repn.excess > rep.excess
    ax = rep.plot()
    assert len(ax.collections) == 3
    assert list(rep.table().columns) == ["purity", "purest_sample", "anchor", "anchor_cosine"]


def test_separable_fit_is_exact_on_exact_separable_data():
    X, _, _ = sep_data(2, noise=0.0)
    W, H, value, idx = anchors.separable_fit(X, 5, loss="frobenius")
    assert value < 1e-10 * (X ** 2).sum()
    assert sorted(idx.tolist()) == [0, 1, 2, 3, 4]


def test_spa_init_in_the_solver():
    X, W, _ = sep_data(3, noise=0.0)
    res = nmfbio.fit(X, 5, init="spa", loss="kl", seed=0, tol=1e-9, max_iter=2000)
    assert res.params["init"] == "spa"
    assert res.loss < 1e-6 * X.sum()


def test_spa_names_and_bad_rank():
    import pandas as pd

    X, _, _ = sep_data(4, n=40)
    df = pd.DataFrame(X, columns=[f"tumour{j}" for j in range(40)])
    rep = anchors.separability(df, 5, seed=0, restarts=2)
    assert sorted(rep.anchor_names) == [f"tumour{j}" for j in range(5)]
    with pytest.raises(nmfbio.NMFInputError, match="rank must be between 1 and"):
        anchors.spa(X, 97)
