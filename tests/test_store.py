"""One result contract (nmfbio/_store.py): every result class round-trips save/load through
one HDF5 store with a format name and version, refuses a file of another kind or a newer
version with the documented error, reads the files earlier nmfbio versions wrote, and prints
a short repr."""

from __future__ import annotations

import dataclasses
import warnings

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import planted

import nmfbio
from nmfbio.errors import FormatError


def _results():
    """One small instance of every result class, by name."""
    from expression_data import programs_counts

    from nmfbio.datasets import breast21
    from nmfbio.datasets.assemblies import planted_assemblies

    X, _, _ = planted(m=30, n=40, r=3, seed=1)
    out = {"NMFResult": nmfbio.fit(X, 3, loss="kl", seed=0, max_iter=100)}
    out["ConsensusResult"] = nmfbio.consensus(X, 3, restarts=4, seed=0, max_iter=100)
    out["RankSelection"] = nmfbio.select_rank(X, [1, 2, 3], repeats=1, restarts=2, seed=0,
                                              max_iter=100)
    out["SeparabilityReport"] = nmfbio.anchors.separability(X, 3, restarts=2, seed=0)
    cat = breast21()
    ext = nmfbio.signatures.extract(cat, ranks=[2, 3], restarts=4, repeats=1, cv_restarts=2,
                                    seed=0, max_iter=200)
    out["ExtractionResult"] = ext
    ref = ext.signatures.rename(columns=lambda c: f"REF_{c}")
    out["MatchResult"] = nmfbio.signatures.match(ext, ref)
    out["AssignmentResult"] = nmfbio.signatures.assign(cat, ref, bootstrap=3, seed=0)
    adata, _, _ = programs_counts(n_cells=200, n_genes=200, n_types=2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nmfbio.DataWarning)
        out["ProgramsResult"] = nmfbio.programs.find(adata, ranks=[3], n_top_genes=100,
                                                     restarts=4, seed=0, max_iter=100)
    rec = planted_assemblies(n_units=12, n_assemblies=1, duration=60, size_range=(5, 5),
                             active_range=(0.05, 0.05), seed=2)
    out["AssemblyResult"] = nmfbio.assemblies.detect(rec.trains, bin_width=0.025,
                                                     window=(0, 60), seed=0)
    return out


@pytest.fixture(scope="module")
def results():
    return _results()


def _assert_same(a, b, where):
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for fld in dataclasses.fields(a):
            if fld.name in getattr(a, "_not_stored", ()):
                assert getattr(b, fld.name) == fld.default, where
                continue
            _assert_same(getattr(a, fld.name), getattr(b, fld.name), f"{where}.{fld.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_index_type=False,
                                      check_column_type=False, obj=where)
        assert list(a.index) == list(b.index) and list(a.columns) == list(b.columns), where
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_dtype=False, check_index_type=False,
                                       obj=where)
    elif isinstance(a, np.ndarray):
        assert a.shape == np.asarray(b).shape, where
        np.testing.assert_array_equal(a, np.asarray(b), err_msg=where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b or (a is None and b is None), f"{where}: {a!r} != {b!r}"


EVERY = ["NMFResult", "ConsensusResult", "RankSelection", "SeparabilityReport",
         "ExtractionResult", "MatchResult", "AssignmentResult", "ProgramsResult",
         "AssemblyResult"]


@pytest.mark.parametrize("name", EVERY)
def test_every_result_round_trips(results, tmp_path, name):
    res = results[name]
    assert type(res).__name__ == name
    path = tmp_path / f"{name}.h5"
    res.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == f"nmfbio.{name}"
        assert int(f.attrs["format_version"]) == type(res)._format_version
    back = type(res).load(path)
    _assert_same(res, back, name)
    assert back.summary() == res.summary()


@pytest.mark.parametrize("name", EVERY)
def test_repr_is_short_and_says_what_it_is(results, name):
    text = repr(results[name])
    assert text.startswith(f"{name}:"), text
    assert len(text.splitlines()) <= 8 and len(text) < 900, text
    assert "array(" not in text and "...," not in text


def test_wrong_kind_and_newer_version_are_refused(results, tmp_path):
    path = tmp_path / "fit.h5"
    results["NMFResult"].save(path)
    with pytest.raises(FormatError, match=r"fit\.h5: holds an nmfbio NMFResult, not a "
                                          r"ConsensusResult: load it with NMFResult\.load"):
        nmfbio.ConsensusResult.load(path)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(FormatError, match=r"written by a newer nmfbio \(nmfbio\.NMFResult "
                                          r"format version 99; this nmfbio reads up to "
                                          r"version 2\): upgrade nmfbio"):
        nmfbio.NMFResult.load(path)
    other = tmp_path / "plain.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(FormatError, match=r"plain\.h5: not an nmfbio result file"):
        nmfbio.RankSelection.load(other)
    text = tmp_path / "W.tsv"
    text.write_text("a\tb\n1\t2\n")
    with pytest.raises(FormatError, match=r"W\.tsv: not an HDF5 file"):
        nmfbio.NMFResult.load(text)
    with pytest.raises(FileNotFoundError, match="no such file"):
        nmfbio.NMFResult.load(tmp_path / "missing.h5")


def test_save_is_atomic_and_never_leaves_a_partial_file(results, tmp_path, monkeypatch):
    """A write that fails half-way leaves the previous file as it was and no temporary."""
    from nmfbio import _store

    path = tmp_path / "con.h5"
    results["ConsensusResult"].save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_store, "_write_frame", broken)
    with pytest.raises(OSError, match="disk full"):
        results["ExtractionResult"].save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["con.h5"]


def test_files_of_format_version_1_still_load():
    """tests/data/v1 holds files the first layouts wrote (NMFResult, ConsensusResult,
    AssemblyResult at main 60fa4e2), with what those versions read back from them."""
    from pathlib import Path

    from nmfbio.assemblies import AssemblyResult

    here = Path(__file__).resolve().parent / "data" / "v1"
    want = np.load(here / "expected.npz")
    fit = nmfbio.NMFResult.load(here / "result.h5")
    np.testing.assert_array_equal(fit.W, want["fit_W"])
    np.testing.assert_array_equal(fit.H, want["fit_H"])
    assert fit.loss == float(want["fit_loss"]) and fit.seed == int(want["fit_seed"])
    con = nmfbio.ConsensusResult.load(here / "consensus.h5")
    for key in ("W", "H", "stability", "run_W"):
        np.testing.assert_array_equal(getattr(con, key), want[f"con_{key}"])
    asm = AssemblyResult.load(here / "assemblies.h5")
    np.testing.assert_array_equal(asm.weights.to_numpy(), want["asm_weights"])
    np.testing.assert_array_equal(asm.activations.to_numpy(), want["asm_activations"])
    np.testing.assert_array_equal(asm.counts, want["asm_counts"])
    np.testing.assert_array_equal(asm.pvalues.to_numpy(), want["asm_pvalues"])
    assert asm.members == [list(want["asm_members"])]
    assert list(asm.weights.index) == list(want["asm_units"])
    # the report still recognises the old AssemblyResult file by its format attribute
    from nmfbio.report.model import h5_format

    assert h5_format(here / "assemblies.h5") == "nmfbio.AssemblyResult"


def test_truncated_and_damaged_files_give_a_located_error(results, tmp_path):
    path = tmp_path / "con.h5"
    results["ConsensusResult"].save(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"cut\.h5: (not an HDF5 file|a damaged or "
                                          r"incomplete ConsensusResult file)"):
        nmfbio.ConsensusResult.load(cut)
    with h5py.File(path, "r+") as f:
        del f["W"]
    with pytest.raises(FormatError, match=r"con\.h5: a damaged or incomplete ConsensusResult "
                                          r"file \(TypeError: .*\); write it again with "
                                          r"ConsensusResult\.save"):
        nmfbio.ConsensusResult.load(path)
