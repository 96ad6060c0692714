"""Consensus over restarts: planted parts recovered and stable, extra components flagged."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import match_cosine, planted_cohort

import nmfbio
from nmfbio.model_selection.consensus import (
    DEFAULT_THRESHOLD,
    ConsensusResult,
    align_runs,
    silhouettes,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_parts_recovered_and_stable(seed):
    X, W, _ = planted_cohort(seed)
    res = nmfbio.consensus(X, 5, restarts=30, seed=seed)
    assert match_cosine(res.W, W).min() >= 0.95
    assert res.stable.all() and (res.stability > DEFAULT_THRESHOLD).all()
    assert (res.reproduced == res.run_W.shape[0]).all()
    np.testing.assert_allclose(res.W.sum(axis=0), 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_extra_components_are_flagged(seed):
    X, W, _ = planted_cohort(seed)
    res = nmfbio.consensus(X, 7, restarts=30, seed=seed, resample="poisson")
    assert res.stable.sum() == 5
    # the stable ones are the planted parts
    assert match_cosine(res.W[:, res.stable], W).min() >= 0.95


def test_same_seed_same_consensus_and_save_load(tmp_path):
    X, _, _ = planted_cohort(3, n=120)
    a = nmfbio.consensus(X, 3, restarts=8, seed=4, resample="multinomial")
    b = nmfbio.consensus(X, 3, restarts=8, seed=4, resample="multinomial")
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.stability, b.stability)
    a.save(tmp_path / "c.h5")
    back = ConsensusResult.load(tmp_path / "c.h5")
    np.testing.assert_array_equal(back.run_W, a.run_W)
    assert back.params["resample"] == "multinomial" and back.threshold == a.threshold
    assert "stable" in a.summary() and list(a.table().columns)[:2] == ["stability",
                                                                        "mean_cosine"]


def test_alignment_undoes_permutation_and_scale():
    rng = np.random.default_rng(5)
    A = rng.dirichlet(np.ones(20), size=4).T
    runs = [A[:, rng.permutation(4)] * rng.uniform(0.5, 2, size=4) for _ in range(6)]
    aligned, centre = align_runs(runs)
    for i in range(6):
        assert match_cosine(aligned[i], A).min() > 0.999
        np.testing.assert_allclose(aligned[i] / aligned[i].sum(axis=0), centre, atol=1e-12)
    assert silhouettes(aligned) == pytest.approx(np.ones(4))


def test_plots_draw():
    X, _, _ = planted_cohort(6, n=80, r=3)
    res = nmfbio.consensus(X, 3, restarts=5, seed=0)
    ax = res.plot_stability()
    assert len(ax.patches) == 3
    ax2 = res.plot_run_cosines()
    assert ax2.images[0].get_array().shape == (15, 15)


@pytest.mark.parametrize("restarts", [1, 0, 2.5])
def test_consensus_needs_two_restarts(restarts):
    with pytest.raises(nmfbio.NMFInputError, match="restarts >= 2"):
        nmfbio.consensus(np.ones((5, 6)), 2, restarts=restarts)
