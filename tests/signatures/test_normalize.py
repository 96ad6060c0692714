"""Sample normalisation before extraction: the cutoffs, the fall-back, and the refit of the
exposures on the raw counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cohorts import typed_signatures

import nmfbio.signatures as sg
from nmfbio.errors import DataWarning, NMFInputError
from nmfbio.signatures.normalize import GMM_MIN_SAMPLES, gmm_cutoff, normalize_catalog


def _catalog(totals, channels=96):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(channels))
    return pd.DataFrame(np.outer(p, totals), columns=[f"s{i}" for i in range(len(totals))])


def test_gmm_sets_hypermutators_aside_and_keeps_the_floor():
    rng = np.random.default_rng(1)
    main = rng.normal(20_000, 2_000, 60)
    hyper = rng.normal(200_000, 20_000, 6)
    cut = gmm_cutoff(np.r_[main, hyper], 96)
    assert cut == pytest.approx(np.floor(main.mean() + 2 * main.std()), abs=1)
    # one population: no cluster set aside, mean + 2 sd
    assert gmm_cutoff(main, 96) == pytest.approx(np.floor(main.mean() + 2 * main.std()), abs=1)
    assert gmm_cutoff(main / 100, 96) == 9600  # below the floor of 100 × channels
    assert gmm_cutoff(main / 100, 83) == 8300


def test_methods_scale_only_what_they_say():
    totals = np.r_[np.linspace(1000, 5000, 20), 50_000, 90_000]
    cat = _catalog(totals)
    scaled, info = normalize_catalog(cat, "gmm")
    assert info["applied"] == "gmm" and info["cutoff"] == 9600
    assert info["scaled"] == ["s20", "s21"]
    np.testing.assert_allclose(scaled.sum().to_numpy(), np.minimum(totals, 9600))
    np.testing.assert_allclose(scaled["s0"], cat["s0"])  # others untouched
    assert "2 of 22 samples with more than 9,600 mutations (the gmm cutoff)" in info["note"]
    scaled, info = normalize_catalog(cat, 4000)
    np.testing.assert_allclose(scaled.sum().to_numpy(), np.minimum(totals, 4000))
    scaled, info = normalize_catalog(cat, "log2")
    np.testing.assert_allclose(scaled.sum().to_numpy(), np.log2(totals))
    scaled, info = normalize_catalog(cat, "none")
    assert scaled.equals(cat.astype(float)) and info["scaled"] == []
    for bad in ("zscore", 0, 1.5, True):
        with pytest.raises(NMFInputError, match="normalize must be one of|at least 1"):
            normalize_catalog(cat, bad)


def test_too_few_samples_for_a_mixture_fall_back_to_100x_with_a_warning():
    cat = _catalog(np.r_[np.full(GMM_MIN_SAMPLES - 2, 3000.0), 50_000])
    with pytest.warns(DataWarning, match=r"gmm needs at least 10 samples.*has 9: used the "
                                          r"100X cutoff"):
        scaled, info = normalize_catalog(cat, "gmm")
    assert info["applied"] == "100X" and info["cutoff"] == 9600
    assert scaled.sum().max() == pytest.approx(9600)
    assert "used the 100X cutoff instead" in info["note"]


def test_extract_fits_scaled_counts_and_refits_exposures_on_the_raw_ones():
    rng = np.random.default_rng(2)
    S = typed_signatures("SBS96", 3, seed=4)
    E = rng.gamma(1.0, 1.0, (3, 60)) * 2000
    E[0, :5] *= 40  # five hypermutators of the first signature
    cat = pd.DataFrame(rng.poisson(S.to_numpy() @ E), index=S.index,
                       columns=[f"t{j}" for j in range(60)])
    res = sg.extract(cat, ranks=[3], restarts=6, seed=0)
    norm = res.params["normalization"]
    assert norm["method"] == "gmm"
    assert norm["scaled"] == list(cat.columns[cat.sum() > norm["cutoff"]])
    assert len(set(norm["scaled"]) & {"t0", "t1", "t2", "t3", "t4"}) >= 3
    assert "Normalisation: " in res.summary() and "the gmm cutoff" in res.summary()
    # exposures are mutations of the raw catalog: they add up to each tumour's total
    np.testing.assert_allclose(res.exposures.sum(axis=1), cat.sum(), rtol=0.02)
    raw = sg.extract(cat, ranks=[3], restarts=6, seed=0, normalize="none")
    assert raw.params["normalization"]["scaled"] == []
    assert "no sample normalisation" in raw.summary()
