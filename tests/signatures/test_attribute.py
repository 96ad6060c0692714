"""Per-mutation attribution: mutation tables add up to their catalogs, probabilities sum to
the exposures at a Poisson fit, and bad inputs are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cohorts import typed_signatures

import nmfbio
import nmfbio.signatures as sg
from nmfbio.io import mutation_table

SPMG = Path(__file__).parents[1] / "data" / "spmg"
VCFS = sorted((SPMG / "vcf").glob("T*.vcf"))


@pytest.fixture(scope="module")
def table():
    return mutation_table(VCFS, SPMG / "genome.fa", context=["SBS96", "DBS78", "ID83"])


def test_the_table_adds_up_to_each_catalog(table):
    assert set(table["mutation_type"]) == {"SBS96", "DBS78", "ID83"}
    for name, ad in table.attrs["catalogs"].items():
        rows = table[table["mutation_type"] == name]
        counts = rows.groupby(["sample", "channel"]).size().unstack(fill_value=0)
        counts = counts.reindex(index=list(ad.obs_names), columns=list(ad.var_names),
                                fill_value=0)
        np.testing.assert_array_equal(counts.to_numpy(), ad.X)
    snv = table[(table["mutation_type"] == "SBS96") & (table["channel"] == "A[C>A]A")]
    assert (snv["ref"].isin(["C", "G"])).all()  # REF on the genome's + strand


def _kl_exposures(W, X, iterations=3000):
    """Exposures at the Poisson (KL) optimum with W fixed, by multiplicative updates."""
    H = np.ones((W.shape[1], X.shape[1]))
    for _ in range(iterations):
        H *= (W.T @ (X / np.maximum(W @ H, 1e-300))) / W.sum(axis=0)[:, None]
    return H


def test_probabilities_sum_to_poisson_exposures(table):
    W = typed_signatures("ID83", 3, seed=4)
    ad = table.attrs["catalogs"]["ID83"]
    X = ad.X.T
    E = pd.DataFrame(_kl_exposures(W.to_numpy(), X).T, index=list(ad.obs_names),
                     columns=W.columns)
    prob = sg.attribute(table, W, E)
    assert len(prob) == X.sum() and set(prob["mutation_type"]) == {"ID83"}
    np.testing.assert_allclose(prob[list(W.columns)].sum(axis=1), 1.0)
    sums = prob.groupby("sample")[list(W.columns)].sum().loc[E.index]
    np.testing.assert_allclose(sums.to_numpy(), E.to_numpy(), rtol=1e-6, atol=1e-6)
    top = prob[list(W.columns)].idxmax(axis=1)
    assert (top == prob["most_likely"]).all()


def test_attribution_from_an_extraction_result(table, tmp_path):
    ad = table.attrs["catalogs"]["SBS96"]
    with pytest.warns(nmfbio.DataWarning, match="all zero"):  # 4 tumours: an empty channel
        res = sg.extract(ad, ranks=[2], restarts=4, seed=0, normalize="none")
    prob = sg.attribute(table, res)
    assert len(prob) == ad.X.sum() and list(prob.columns[-4:]) == [
        "SBS96A", "SBS96B", "most_likely", "max_probability"]
    assert prob["max_probability"].between(0.5, 1.0).all()


def test_bad_inputs_are_named(table):
    W = typed_signatures("ID83", 2, seed=0)
    E = pd.DataFrame(1.0, index=["T1", "T2"], columns=W.columns)
    with pytest.raises(nmfbio.NMFInputError, match=r"2 sample\(s\) of the mutations have no "
                                                   r"exposures, e.g. \['T3', 'T4'\]"):
        sg.attribute(table, W, E)
    with pytest.raises(nmfbio.NMFInputError, match="no DBS78 mutation to attribute"):
        sg.attribute(table[table["mutation_type"] != "DBS78"], typed_signatures("DBS78", 2, 0),
                     E)
    with pytest.raises(nmfbio.NMFInputError, match="missing \\['channel'\\]"):
        sg.attribute(table.drop(columns="channel"), W, E)
    with pytest.raises(nmfbio.NMFInputError, match="are not the signatures'"):
        sg.attribute(table, W, E.rename(columns={"T1": "X"}))
    with pytest.raises(nmfbio.NMFInputError, match="pass the exposures"):
        sg.attribute(table, W)
