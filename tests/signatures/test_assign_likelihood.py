"""Likelihood-based refitting: the bidirectional selection on the Poisson likelihood, next to
the cosine rule, on the same planted cohort with decoy reference signatures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cohorts import cohort, realistic_signatures

import nmfbio.signatures as sg
from nmfbio.errors import NMFInputError


@pytest.fixture(scope="module")
def planted():
    cat, S, E = cohort(5, 60, 7)
    decoys = realistic_signatures(25, 54).iloc[:, 2:]
    decoys.columns = [f"D{i}" for i in range(decoys.shape[1])]
    return cat, pd.concat([S, decoys], axis=1), S, E


def _errors(res, S, E):
    rel = res.relative()
    true_rel = E.div(E.sum(axis=1), axis=0).reindex(columns=rel.columns, fill_value=0.0)
    tv = 0.5 * (rel - true_rel).abs().sum(axis=1)
    big = true_rel > 0.05
    found = res.exposures > 0
    recall = found[big].sum().sum() / big.sum().sum()
    spurious = (found & (true_rel == 0)).sum().sum() / found.sum().sum()
    return float(tv.median()), float(recall), float(spurious)


def test_likelihood_refit_finds_the_planted_signatures_and_their_exposures(planted):
    cat, ref, S, E = planted
    lik = sg.assign(cat, ref, method="likelihood", bootstrap=8, seed=0)
    tv, recall, spurious = _errors(lik, S, E)
    assert tv < 0.05 and recall > 0.95 and spurious < 0.1
    assert lik.params["method"] == "likelihood" and lik.params["add_llr"] == 20.0
    # exposures are a Poisson fit: they add up to each tumour's mutations
    np.testing.assert_allclose(lik.exposures.sum(axis=1), cat.sum(), rtol=0.02)
    on = lik.exposures.to_numpy() > 0
    inside = ((lik.lower.to_numpy() <= lik.exposures.to_numpy() + 1e-6)
              & (lik.exposures.to_numpy() <= lik.upper.to_numpy() + 1e-6))
    assert inside[on].mean() > 0.9
    # at least as accurate as the cosine rule on the same cohort
    cos_tv, cos_recall, _ = _errors(sg.assign(cat, ref), S, E)
    assert tv <= cos_tv + 1e-9 and recall >= cos_recall - 1e-9


def test_thresholds_trade_signatures_for_fit(planted):
    cat, ref, _, _ = planted
    strict = sg.assign(cat.iloc[:, :10], ref, method="likelihood", add_llr=1e6)
    loose = sg.assign(cat.iloc[:, :10], ref, method="likelihood", add_llr=1.0, remove_llr=0.5)
    n_strict = (strict.exposures > 0).sum(axis=1)
    n_loose = (loose.exposures > 0).sum(axis=1)
    assert (n_strict <= n_loose).all() and n_loose.sum() > n_strict.sum()
    with pytest.raises(NMFInputError, match="method must be one of"):
        sg.assign(cat, ref, method="poisson")
