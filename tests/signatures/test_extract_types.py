"""Extraction, matching and assignment for every mutation type, not only SBS96.

Generated DBS78 and ID83 cohorts (signatures concentrated on one or two of the type's
channel groups) must be recovered, named after their type, and a reference of another type
must be refused with a message that says which types met.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from cohorts import cohort, typed_cohort, typed_signatures
from scipy.optimize import linear_sum_assignment

import nmfbio
import nmfbio.signatures as sg
from nmfbio.io.mutation_types import mutation_type
from nmfbio.model_selection.matching import cosine_matrix
from nmfbio.signatures._catalog import catalog_frame


def _recall(true, found):
    C = cosine_matrix(true.to_numpy(), found.to_numpy())
    r, c = linear_sum_assignment(-C)
    return int((C[r, c] >= 0.9).sum()) / true.shape[1]


@pytest.mark.parametrize("name", ["DBS78", "ID83"])
def test_extraction_of_a_dbs_and_an_id_cohort(name, tmp_path):
    cat, S, _ = typed_cohort(name, k=3, n=80, seed=1)
    shuffled = cat.sample(frac=1.0, random_state=0)  # rows in any order: aligned by label
    res = sg.extract(shuffled, ranks=range(1, 6), restarts=10, seed=0)
    assert res.rank == 3 and _recall(S, res.signatures) == 1.0
    assert list(res.signatures.index) == list(mutation_type(name).labels)
    assert list(res.signatures.columns) == [f"{name}A", f"{name}B", f"{name}C"]
    assert res.mutation_type == name == res.params["mutation_type"]
    res.save(tmp_path / "r.h5")
    back = type(res).load(tmp_path / "r.h5")
    assert back.mutation_type == name
    pd.testing.assert_frame_equal(back.signatures, res.signatures)


def test_assignment_of_id83_finds_the_active_signatures():
    ref = typed_signatures("ID83", 6, seed=3)
    counts = ref.to_numpy() @ np.array([[900.0], [0], [0], [400.0], [0], [0]])
    cat = pd.DataFrame(np.random.default_rng(0).poisson(counts), index=ref.index,
                       columns=["t1"])
    res = sg.assign(cat, ref)
    assert sorted(res.exposures.columns[res.exposures.loc["t1"] > 0]) == ["T1", "T4"]


def test_a_reference_of_another_type_is_refused():
    dbs, _, _ = typed_cohort("DBS78", k=2, n=10, seed=0)
    _, sbs, _ = cohort(3, 20, 9)
    with pytest.raises(nmfbio.NMFInputError, match=r"mutation types differ: the catalog "
                                                   r"DBS78 \(78 channels\), the reference "
                                                   r"signatures SBS96.*COSMIC_v3.4_DBS_GRCh37"):
        sg.assign(dbs, sbs)
    denovo = typed_signatures("ID83", 2, seed=0)
    with pytest.raises(nmfbio.NMFInputError, match=r"de novo signatures ID83.*SBS96"):
        sg.match(denovo, sbs)


def test_unlabelled_arrays_take_their_type_from_the_row_count():
    assert catalog_frame(np.ones((83, 2))).attrs["mutation_type"] == "ID83"
    assert catalog_frame(np.ones((288, 1))).index[0] == mutation_type("SBS288").labels[0]
    frame = catalog_frame(pd.DataFrame(np.ones((78, 1)),
                                       index=[x.lower() for x in mutation_type("DBS78").labels]))
    assert frame.index[0] == "AC>CA"  # labels are matched case-insensitively


def test_a_catalog_mixing_types_is_an_error():
    labels = list(mutation_type("DBS78").labels[:-1]) + ["A[C>A]A"]
    with pytest.raises(nmfbio.NMFInputError, match=r"78 DBS78 labels.*unknown: \['A\[C>A\]A'\]"
                                                   r".*missing: \['TT>GG'\]"):
        catalog_frame(pd.DataFrame(np.ones((78, 1)), index=labels))


def test_the_registry_names_a_reference_of_each_family():
    reg = sg.registry()
    for name, mtype in [("COSMIC_v3.4_DBS_GRCh37", "DBS78"), ("COSMIC_v3.4_ID_GRCh37", "ID83"),
                        ("COSMIC_v3.2_SBS288_GRCh37", "SBS288"),
                        ("COSMIC_v3.4_SBS_GRCh37", "SBS96")]:
        assert reg.loc[name, "mutation_type"] == mtype
        assert len(reg.loc[name, "sha256"]) == 64


@pytest.mark.skipif(importlib.util.find_spec("SigProfilerAssignment") is None,
                    reason="needs an installed SigProfilerAssignment (its COSMIC copies)")
@pytest.mark.parametrize("name, mtype, n", [("COSMIC_v3.4_DBS_GRCh37", "DBS78", 20),
                                            ("COSMIC_v3.4_ID_GRCh37", "ID83", 23),
                                            ("COSMIC_v3.2_SBS288_GRCh37", "SBS288", 32)])
def test_installed_cosmic_references_of_each_type_load(name, mtype, n):
    ref = sg.reference(name)
    assert ref.attrs["mutation_type"] == mtype and ref.shape == (len(mutation_type(mtype)), n)
    assert list(ref.index) == list(mutation_type(mtype).labels)
    np.testing.assert_allclose(ref.sum(axis=0), 1.0)
