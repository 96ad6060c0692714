"""The realistic cohort generator: hypermutators, over-dispersion, prevalences, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from cohorts import typed_signatures

from nmfbio.datasets.signature_cohorts import realistic_catalog
from nmfbio.errors import NMFInputError


@pytest.fixture(scope="module")
def signatures():
    S = typed_signatures("SBS96", 4, seed=3)
    S.columns = ["SBS1", "SBS2", "SBS5", "SBS13"]
    return S


def test_hypermutators_and_prevalence(signatures):
    cat, E, hyper = realistic_catalog(signatures, 400, seed=0, hyper_fraction=0.1)
    totals = cat.sum()
    assert len(hyper) == 40
    assert (totals[hyper] > 2 * totals.median()).mean() > 0.8
    # the extra mutations are APOBEC's (SBS2, SBS13)
    share = E.loc[hyper, ["SBS2", "SBS13"]].sum(axis=1) / E.loc[hyper].sum(axis=1)
    assert share.median() > 0.6
    active = (E.drop(index=hyper) > 0).mean()
    assert active["SBS5"] == pytest.approx(0.95, abs=0.05)
    assert active["SBS2"] == pytest.approx(0.5, abs=0.08)
    again, _, _ = realistic_catalog(signatures, 400, seed=0, hyper_fraction=0.1)
    assert again.equals(cat)


def test_counts_are_over_dispersed_unless_poisson(signatures):
    def dispersion_index(dispersion):
        cat, E, _ = realistic_catalog(signatures, 300, seed=1, dispersion=dispersion,
                                      hyper_fraction=0.0)
        mean = (signatures / signatures.sum()).to_numpy() @ E.T.to_numpy()
        ok = mean > 5
        return float(((cat.to_numpy() - mean) ** 2 / mean)[ok].mean()), mean[ok].mean()
    poisson, _ = dispersion_index(None)
    nb, mu = dispersion_index(5.0)
    assert poisson == pytest.approx(1.0, abs=0.05)
    assert nb > 1 + 0.5 * mu / 5  # variance mu + mu^2/5


def test_bad_signatures_are_refused(signatures):
    with pytest.raises(NMFInputError, match="must be a DataFrame"):
        realistic_catalog(signatures.to_numpy())
    with pytest.raises(NMFInputError, match="finite, >= 0"):
        realistic_catalog(signatures * -1)
    with pytest.raises(NMFInputError, match="none of hyper_signatures"):
        realistic_catalog(signatures, hyper_signatures=("SBS3",))
    assert isinstance(realistic_catalog(signatures, 10, hyper_fraction=0, seed=0)[0],
                      pd.DataFrame)
