"""Tests of the mutation-type registry and of reading catalogs of every registered type.

The channel counts and label spellings are the ones SigProfilerMatrixGenerator writes (its
``*.SBS288.all``, ``*.DBS78.all``, ``*.ID83.all`` … rows); files are generated per test.
"""

from __future__ import annotations

import numpy as np
import pytest

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io import read_catalog
from nmfbio.io.mutation_types import (
    MUTATION_TYPES,
    canonical_label,
    detect_mutation_type,
    mutation_type,
    type_names,
)
from nmfbio.io.sbs96 import CHANNELS

SIZES = {"SBS6": 6, "SBS24": 24, "SBS96": 96, "SBS288": 288, "SBS384": 384,
         "SBS1536": 1536, "DBS78": 78, "ID83": 83}


@pytest.mark.parametrize("name", list(SIZES))
def test_each_type_has_its_channel_count_unique_labels_and_a_plot_order(name):
    t = mutation_type(name)
    assert len(t) == SIZES[name] == len(set(t.labels))
    assert sorted(t.plot_order) == list(range(len(t)))
    assert all(g in t.colours for g in t.groups)
    assert detect_mutation_type(t.labels) == (t, [])


def test_type_names_and_aliases():
    assert type_names() == tuple(SIZES)
    assert mutation_type("dinuc") is MUTATION_TYPES["DBS78"]
    assert mutation_type("ID") is MUTATION_TYPES["ID83"]
    assert mutation_type("288").name == "SBS288"
    with pytest.raises(NMFInputError, match="unknown mutation type 'SBS97'.*SBS96, SBS288"):
        mutation_type("SBS97")


def test_sbs96_is_the_io_channel_order():
    assert mutation_type("SBS96").labels == CHANNELS


def test_dbs78_channels_are_the_cosmic_ones():
    t = mutation_type("DBS78")
    groups = {g: t.groups.count(g) for g in t.group_names}
    # 9 alternatives for the six non-palindromic references, 6 for AT, CG, GC, TA
    assert groups == {"AC": 9, "AT": 6, "CC": 9, "CG": 6, "CT": 9, "GC": 6, "TA": 6,
                      "TC": 9, "TG": 9, "TT": 9}
    assert t.labels[:3] == ("AC>CA", "AC>CG", "AC>CT")
    assert "TT>AA" in t and "AA>TT" not in t  # purine references are not channels
    assert "CG>AT" in t and "CG>AT" == canonical_label("cg>at", t)


def test_id83_channels_in_pcawg_order():
    t = mutation_type("ID83")
    assert t.labels[:7] == ("1:Del:C:0", "1:Del:C:1", "1:Del:C:2", "1:Del:C:3",
                            "1:Del:C:4", "1:Del:C:5", "1:Del:T:0")
    assert t.labels[-6:] == ("4:Del:M:3", "5:Del:M:1", "5:Del:M:2", "5:Del:M:3",
                             "5:Del:M:4", "5:Del:M:5")
    assert [g for g in t.group_names][:4] == ["1:Del:C", "1:Del:T", "1:Ins:C", "1:Ins:T"]
    # microhomology of a 2-bp deletion is 1 bp only; of a 5+-bp deletion up to 5+
    assert "2:Del:M:1" in t and "2:Del:M:2" not in t and "5:Del:M:5" in t


def test_sbs288_is_three_strands_of_sbs96():
    t = mutation_type("SBS288")
    assert {lab[0] for lab in t.labels} == {"T", "U", "N"}
    assert {lab[2:] for lab in t.labels} == set(CHANNELS)
    # bars: strands side by side within each context
    first = [t.labels[i] for i in t.plot_order[:3]]
    assert [lab[2:] for lab in first] == ["A[C>A]A"] * 3


def test_detection_prefers_the_type_that_knows_most_labels():
    t, unknown = detect_mutation_type(["T:A[C>A]A", "U:A[C>A]A", "N:A[C>A]A", "oops"])
    assert t.name == "SBS288" and unknown == ["OOPS"]
    t, _ = detect_mutation_type(["B:A[C>A]A", "T:A[C>A]A"])
    assert t.name == "SBS384"  # B is a strand of SBS384 only
    with pytest.raises(NMFInputError, match="none of the labels"):
        detect_mutation_type(["sample1", "sample2"])


# --------------------------------------------------------------------------- reading files
def _write(path, labels, X, corner="MutationType"):
    with open(path, "w") as f:
        f.write(corner + "\t" + "\t".join(f"S{j}" for j in range(X.shape[1])) + "\n")
        for lab, row in zip(labels, X, strict=True):
            f.write(lab + "\t" + "\t".join(str(int(v)) for v in row) + "\n")
    return path


@pytest.mark.parametrize("name", ["DBS78", "ID83", "SBS288", "SBS6", "SBS1536"])
def test_read_catalog_of_each_type_by_label_in_any_order(tmp_path, name):
    t = mutation_type(name)
    rng = np.random.default_rng(1)
    X = rng.integers(0, 20, size=(len(t), 3))
    perm = rng.permutation(len(t))
    path = _write(tmp_path / f"c.{name}.all", [t.labels[i] for i in perm], X[perm])
    ad = read_catalog(path)
    assert ad.uns["catalog"]["mutation_type"] == name
    assert ad.uns["catalog"]["channel_order"] == "other"
    assert list(ad.var_names) == list(t.labels)
    np.testing.assert_array_equal(ad.X, X.T)
    assert list(ad.var[t.group_title]) == list(t.groups)
    in_order = read_catalog(_write(tmp_path / "o.all", t.labels, X))
    assert in_order.uns["catalog"]["channel_order"] == ("alphabetical" if name == "SBS96"
                                                        else "canonical")


def test_missing_dbs_channel_is_named_with_the_type(tmp_path):
    t = mutation_type("DBS78")
    path = _write(tmp_path / "d.txt", t.labels[1:], np.ones((77, 2)))
    with pytest.raises(FormatError, match=r"not the 78 DBS78 channels: 1 of the 78 channels "
                                          r"missing: 'AC>CA'.*e\.g\. 'CC>TT'"):
        read_catalog(path)


def test_unknown_id_label_is_located(tmp_path):
    t = mutation_type("ID83")
    labels = list(t.labels)
    labels[5] = "1:Del:C:6"
    path = _write(tmp_path / "i.txt", labels, np.ones((83, 2)))
    with pytest.raises(FormatError, match=r"unknown label\(s\): '1:Del:C:6' \(line 7\)"):
        read_catalog(path)


def test_asking_for_another_type_is_an_error(tmp_path):
    t = mutation_type("DBS78")
    path = _write(tmp_path / "d.txt", t.labels, np.ones((78, 2)))
    with pytest.raises(FormatError, match=r"not the 83 ID83 channels \(asked for with "
                                          r"mutation_type\)"):
        read_catalog(path, mutation_type="ID83")
    assert read_catalog(path, mutation_type="dinuc").shape == (2, 78)
