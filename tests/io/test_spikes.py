"""Tests of the spike adapters (``nmfbio.io.spikes``, ``.phy``, ``.nwb``): exact counts on
hand-made trains, the window rules and their warnings, every source format written in the
test, and one test per bad input with the message pinned."""

from __future__ import annotations

import gzip
import sys
from datetime import datetime, timezone

import anndata
import numpy as np
import pandas as pd
import pytest

from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io import (
    bin_spikes,
    from_traces,
    read_binned,
    read_nwb,
    read_phy,
    read_spike_table,
)
from nmfbio.io.phy import read_params


def counts(ad):
    """Units × bins, as lists, for readable comparisons."""
    return ad.X.T.tolist()


# --------------------------------------------------------------------------- bin_spikes
def test_exact_counts_edges_and_closed_end():
    # 0.1 sits on an edge (second bin); 0.3 is the window's end (counted in the last bin)
    ad = bin_spikes({"a": [0.0, 0.05, 0.1, 0.25, 0.3], "b": [0.3, 0.15]}, 0.1,
                    window=(0.0, 0.3))
    assert counts(ad) == [[2, 1, 2], [0, 1, 1]]
    assert ad.X.dtype == np.float64
    assert list(ad.obs_names) == ["bin0", "bin1", "bin2"]
    assert ad.obs["t_start"].tolist() == [0.0, 0.1, 0.2]
    assert ad.obs["t_end"].tolist() == [0.1, 0.2, 0.3]
    assert list(ad.var_names) == ["a", "b"]
    assert ad.var["n_spikes"].tolist() == [5, 2]
    np.testing.assert_allclose(ad.var["rate_hz"], [5 / 0.3, 2 / 0.3])
    assert ad.uns["spikes"] == {"bin_width": 0.1, "window": [0.0, 0.3], "source": "memory",
                                "units": "counts", "window_inferred": False}


def test_decimal_times_land_in_the_bin_they_name():
    # 0.3 / 0.1 < 3 in floating point; the spike still belongs to [0.3, 0.4)
    ad = bin_spikes([[0.3, 0.7, 0.5999]], 0.1, window=(0.0, 1.0))
    assert counts(ad) == [[0, 0, 0, 1, 0, 1, 0, 1, 0, 0]]
    assert list(ad.var_names) == ["0"]


def test_window_is_the_recording_not_first_to_last_spike():
    ad = bin_spikes({"u": [2.2, 2.9], "v": [2.5]}, 1.0, window=(0.0, 5.0))
    assert ad.shape == (5, 2)
    assert counts(ad) == [[0, 0, 2, 0, 0], [0, 0, 1, 0, 0]]
    assert ad.uns["spikes"]["window"] == [0.0, 5.0]
    np.testing.assert_allclose(ad.var["rate_hz"], [2 / 5, 1 / 5])


def test_window_may_start_before_zero():
    ad = bin_spikes([[-0.15, 0.05, 0.2]], 0.1, window=(-0.2, 0.2))
    assert counts(ad) == [[1, 0, 1, 1]]
    assert ad.obs["t_start"].tolist() == [-0.2, -0.1, 0.0, 0.1]


def test_inferred_window_starts_at_zero_and_warns():
    with pytest.warns(DataWarning, match=r"window was inferred.*last spike at 2\.35 s.*2\.4 s"):
        ad = bin_spikes({"a": [2.35, 1.0], "b": [2.0]}, 0.2)
    assert ad.shape == (12, 2)  # 0 to 2.4 s, not 1.0 to 2.35 s
    assert ad.X.sum() == 3
    assert ad.uns["spikes"]["window"] == [0.0, 2.4]
    assert ad.uns["spikes"]["window_inferred"] is True
    with pytest.warns(DataWarning, match="window was inferred"):
        ad = bin_spikes([[0.1, 0.2]], 0.1)  # the last spike, on the end, is counted
    assert counts(ad) == [[0, 2]]


def test_spikes_outside_the_window_are_dropped_with_a_count():
    with pytest.warns(DataWarning, match=r"3 of 6 spikes fall outside the window \[0, 2\] s "
                                         r"and were dropped \(1 before, 2 after; units 'x', 'y'\)"):
        ad = bin_spikes({"x": [-0.5, 0.5, 1.5, 2.5], "y": [3.0, 2.0]}, 1.0, window=(0.0, 2.0))
    assert counts(ad) == [[1, 1], [0, 1]]
    assert ad.var["n_spikes"].tolist() == [2, 1]


def test_partial_last_bin_is_dropped():
    # no spike in the partial bin [1.0, 1.05]: dropped silently (warnings are errors here)
    ad = bin_spikes([[0.05, 0.95]], 0.1, window=(0.0, 1.05))
    assert ad.shape == (10, 1)
    assert ad.uns["spikes"]["window"] == [0.0, 1.0]
    assert ad.uns["spikes"]["requested_window"] == [0.0, 1.05]
    assert ad.obs["t_end"].iloc[-1] == 1.0
    with pytest.warns(DataWarning, match=r"not a whole number of bins.*\[1, 1\.05\] s was "
                                         r"dropped with its 2 spike"):
        ad = bin_spikes([[0.05, 1.02, 1.05]], 0.1, window=(0.0, 1.05))
    assert ad.X.sum() == 1


def test_unsorted_trains_equal_sorted():
    rng = np.random.default_rng(3)
    train = rng.uniform(0, 10, size=200)
    a = bin_spikes([train], 0.25, window=(0, 10))
    b = bin_spikes([np.sort(train)], 0.25, window=(0, 10))
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.sum() == 200
    # the reference: numpy's histogram with the same edges (its last bin is closed too)
    np.testing.assert_array_equal(a.X[:, 0], np.histogram(train, bins=40, range=(0, 10))[0])


def test_list_with_unit_ids_and_silent_unit_kept():
    with pytest.warns(DataWarning, match=r"1 of 3 units have no spikes in the window and are "
                                         r"kept.*'n3'"):
        ad = bin_spikes([[0.1], [0.3, 0.35], []], 0.2, window=(0, 0.4), unit_ids=[1, 2, "n3"])
    assert list(ad.var_names) == ["1", "2", "n3"]
    assert counts(ad) == [[1, 0], [0, 2], [0, 0]]


def test_smoothing_keeps_mass_and_non_negativity():
    train = [1.0, 1.0, 1.0, 3.0]
    ad = bin_spikes([train], 0.1, window=(0, 4), smooth=0.2)
    raw = bin_spikes([train], 0.1, window=(0, 4))
    np.testing.assert_array_equal(ad.layers["counts"], raw.X)
    assert ad.X.min() >= 0
    np.testing.assert_allclose(ad.X.sum(), 4.0)
    peak = ad.X[:, 0].argmax()
    assert peak == 10 and ad.X[peak, 0] < 3  # spread over neighbouring bins, not centred
    assert ad.X[12, 0] > 0 and ad.X[8, 0] > 0
    assert ad.uns["spikes"]["units"] == "smoothed counts"
    assert ad.uns["spikes"]["smooth_sd"] == 0.2
    assert ad.var["n_spikes"].tolist() == [4]


@pytest.mark.parametrize("kwargs, match", [
    ({"bin_width": -0.1}, r"bin_width must be a positive number of seconds, got -0\.1"),
    ({"bin_width": 0}, "bin_width must be a positive"),
    ({"bin_width": float("nan")}, "bin_width must be finite"),
    ({"bin_width": 5.0}, r"bin_width=5 s is longer than the window \[0, 1\]"),
    ({"window": (1.0, 1.0)}, r"window must end after it starts, got \(1, 1\)"),
    ({"window": (2.0, 1.0)}, "window must end after it starts"),
    ({"window": 3.0}, "window must be a pair"),
    ({"smooth": -1.0}, "smooth is the Gaussian kernel's sd in seconds and must be positive"),
])
def test_bad_binning_arguments(kwargs, match):
    args = {"bin_width": 0.1, "window": (0.0, 1.0)} | kwargs
    with pytest.raises(NMFInputError, match=match):
        bin_spikes({"a": [0.5]}, args.pop("bin_width"), **args)


def test_nan_spike_times_rejected():
    with pytest.raises(NMFInputError, match=r"2 spike time\(s\) are NaN or infinite \(first: "
                                            r"unit 'b', spike 1\)"):
        bin_spikes({"a": [0.1], "b": [0.2, np.nan, np.inf]}, 0.1, window=(0, 1))


@pytest.mark.parametrize("trains, kwargs, match", [
    ({1: [0.1], "1": [0.2]}, {}, r"unit ids must be unique \(as strings\), but '1'"),
    ([[0.1], [0.2]], {"unit_ids": ["a", "a"]}, "unit ids must be unique"),
    ([[0.1], [0.2]], {"unit_ids": ["a"]}, "unit_ids has 1 ids for 2 trains"),
    ({"a": [0.1]}, {"unit_ids": ["x"]}, "keys of a dict are already the unit ids"),
    (np.ones((2, 3)), {}, "trains must be a dict"),
    ({"a": [[0.1, 0.2]]}, {}, r"unit 'a': expected a 1-D array of spike times, got shape"),
    ({"a": ["0.1"]}, {}, "unit 'a': spike times must be numbers"),
    ({}, {}, "trains holds no units"),
])
def test_bad_trains(trains, kwargs, match):
    with pytest.raises(NMFInputError, match=match):
        bin_spikes(trains, 0.1, window=(0, 1), **kwargs)


def test_no_spikes_and_no_window():
    with pytest.raises(NMFInputError, match="no spikes to infer the recording window"):
        bin_spikes({"a": []}, 0.1)


# --------------------------------------------------------------------------- spike tables
def test_spike_table_csv_in_ms(tmp_path):
    p = tmp_path / "spikes.csv"
    p.write_text("unit,time\n10,100\n2,50\n10,300\n2,299.9\n10,0\n")
    ad = read_spike_table(p, 0.1, window=(0, 0.3), time_unit="ms")
    assert list(ad.var_names) == ["2", "10"]  # numeric order, not "10" < "2"
    assert counts(ad) == [[1, 0, 1], [1, 1, 1]]
    assert ad.uns["spikes"]["source"] == "table"
    assert ad.uns["spikes"]["time_unit"] == "ms"


@pytest.mark.parametrize("name, text", [
    ("s.tsv", "u1\t0.05\nu2\t0.15\nu1\t0.12\n"),
    ("s.txt", "u1 0.05\nu2   0.15\n\nu1 0.12\n"),
    ("s.txt", "neuron;x,t\nu1,0.05\nu2,0.15\nu1,0.12\n"),
])
def test_spike_table_layouts(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    ad = read_spike_table(p, 0.1, window=(0, 0.2))  # an unknown unit header: (unit, time)
    assert list(ad.var_names) == ["u1", "u2"]
    assert counts(ad) == [[1, 1], [0, 1]]


def test_spike_table_gzip_columns_by_name_and_samples(tmp_path):
    p = tmp_path / "spikes.tsv.gz"
    with gzip.open(p, "wt") as f:
        f.write("amplitude\tspike_sample\tcluster_id\n3.1\t300\t5\n2.0\t30000\t5\n"
                "1.0\t15000\t7\n")
    ad = read_spike_table(p, 0.5, window=(0, 1.0), time_unit="samples", sample_rate=30000)
    assert list(ad.var_names) == ["5", "7"]
    assert counts(ad) == [[1, 1], [0, 1]]
    q = tmp_path / "positions.csv"
    q.write_text("3.1,0.3,a\n2.0,0.7,b\n")
    ad = read_spike_table(q, 0.5, window=(0, 1), unit_column=2, time_column=1)
    assert counts(ad) == [[1, 0], [0, 1]]


def test_spike_table_header_unit_hint(tmp_path):
    p = tmp_path / "spikes.csv"
    p.write_text("unit,time_ms\na,10\n")
    with pytest.warns(DataWarning, match=r"'time_ms' looks like ms, but time_unit='s'"):
        ad = read_spike_table(p, 1.0, window=(0, 20))
    assert counts(ad) == [[0] * 10 + [1] + [0] * 9]


@pytest.mark.parametrize("text, line, column, match", [
    ("unit,time\na,0.1\nb,0.2\nc,abc\n", 4, "time", r"'abc' is not a number"),
    ("unit,time\na,0.1\nb,0.2,7\n", 3, None, "expected 2 fields separated by commas like "
                                             "line 1, found 3"),
    ("unit,time\na,0.1\nb\n", 3, None, "expected 2 fields"),
    ("a,0.1\nb,nan\n", 2, 2, r"spike time 'nan' is not a finite number"),
    ("unit,time\n,0.1\n", 2, "unit", "empty unit id"),
])
def test_spike_table_bad_lines(tmp_path, text, line, column, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    where = rf"bad\.csv, line {line}" + (f", column {column}" if column is not None else "")
    with pytest.raises(FormatError, match=where + ": " + match) as info:
        read_spike_table(p, 0.1, window=(0, 1))
    assert info.value.line == line


@pytest.mark.parametrize("kwargs, match", [
    ({"time_unit": "minutes"}, r"time_unit must be one of \['s', 'ms', 'us', 'samples'\], "
                               "got 'minutes'"),
    ({"time_unit": "samples"}, r"time_unit='samples' needs sample_rate="),
    ({"sample_rate": 1000}, "sample_rate applies only to time_unit='samples'"),
    ({"unit_column": "neuron"}, r"unit_column='neuron' is not in the header.*'unit', 'time'"),
    ({"time_column": 5}, "time_column=5 is out of range"),
])
def test_spike_table_bad_arguments(tmp_path, kwargs, match):
    p = tmp_path / "s.csv"
    p.write_text("unit,time\na,0.1\n")
    with pytest.raises(NMFInputError, match=match):
        read_spike_table(p, 0.1, window=(0, 1), **kwargs)


def test_spike_table_missing_file_and_unknown_columns(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_spike_table(tmp_path / "none.csv", 0.1)
    p = tmp_path / "s.csv"
    p.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(FormatError, match=r"cannot tell which column holds the units.*"
                                          r"pass unit_column="):
        read_spike_table(p, 0.1)


# --------------------------------------------------------------------------- binned, traces
def test_read_binned_both_orientations(tmp_path):
    M = pd.DataFrame([[0, 2, 1], [3, 0, 0]], index=["u1", "u2"], columns=["b0", "b1", "b2"])
    M.to_csv(tmp_path / "units_by_bins.csv")
    M.T.to_csv(tmp_path / "bins_by_units.tsv", sep="\t")
    np.save(tmp_path / "bins_by_units.npy", M.T.to_numpy())
    a = read_binned(tmp_path / "units_by_bins.csv", bin_width=0.025, samples_in="columns")
    b = read_binned(tmp_path / "bins_by_units.tsv", bin_width=0.025, samples_in="rows")
    c = read_binned(tmp_path / "bins_by_units.npy", bin_width=0.025, samples_in="rows", t0=1.0)
    for ad in (a, b):
        assert counts(ad) == [[0, 2, 1], [3, 0, 0]]
        assert list(ad.var_names) == ["u1", "u2"]
        assert ad.obs["name"].tolist() == ["b0", "b1", "b2"]
        assert ad.var["n_spikes"].tolist() == [3, 3]
        assert ad.uns["spikes"]["units"] == "counts"
    assert counts(c) == counts(a) and list(c.var_names) == ["feature0", "feature1"]
    assert c.obs["t_start"].tolist() == [1.0, 1.025, 1.05]
    assert c.uns["spikes"]["window"] == [1.0, 1.075]


def test_read_binned_rejects_negative_and_needs_orientation(tmp_path):
    p = tmp_path / "c.csv"
    pd.DataFrame([[0, 2], [3, -1]], index=["b0", "b1"], columns=["u1", "u2"]).to_csv(p)
    with pytest.raises(NMFInputError, match=r"1 negative value\(s\), the first at bin 'b1', "
                                            r"unit 'u2' \(-1\.0\)"):
        read_binned(p, bin_width=0.1, samples_in="rows")
    with pytest.raises(NMFInputError, match=r"samples_in must be one of \['columns', 'rows'\]"):
        read_binned(p, bin_width=0.1, samples_in="bins")


def test_from_traces():
    tr = pd.DataFrame([[0.0, 1.5], [2.0, 0.0], [0.5, 0.5], [0.0, 0.0]], columns=["c1", "c2"])
    ad = from_traces(tr, 20.0, t0=10.0)
    assert list(ad.var_names) == ["c1", "c2"]
    np.testing.assert_array_equal(ad.X, tr.to_numpy())
    assert ad.obs["t_start"].tolist() == [10.0, 10.05, 10.1, 10.15]
    assert ad.uns["spikes"]["units"] == "traces"
    assert ad.uns["spikes"]["bin_width"] == 0.05
    assert ad.uns["spikes"]["window"] == [10.0, 10.2]
    np.testing.assert_allclose(ad.var["mean"], [0.625, 0.5])


@pytest.mark.parametrize("traces, kwargs, match", [
    ([[0.0, 1.0], [0.5, -0.2], [-1.0, 0.0]], {},
     r"2 negative value\(s\), the first at frame 1, unit '1' \(-0\.2\); pass deconvolved"),
    ([[0.0, np.nan]], {}, r"1 NaN or infinite value\(s\), the first at frame 0, unit '1'"),
    ([0.0, 1.0], {}, r"traces must be 2-D \(frames × cells\)"),
    ([[0.0, 1.0]], {"unit_ids": ["a"]}, "unit_ids has 1 ids for 2 cells"),
])
def test_bad_traces(traces, kwargs, match):
    with pytest.raises(NMFInputError, match=match):
        from_traces(np.array(traces), 10.0, **kwargs)
    with pytest.raises(NMFInputError, match="frame_rate must be positive"):
        from_traces([[1.0]], 0)


# --------------------------------------------------------------------------- Phy folders
def make_phy(folder, *, labels=True, params="sample_rate = 1000.0\n", clusters=True):
    """Clusters 0-3, spikes (in samples at 1 kHz) in a 3 s recording."""
    folder.mkdir(exist_ok=True)
    (folder / "params.py").write_text(params)
    samples = np.array([100, 1500, 2999, 200, 1200, 2100, 50, 700, 2500, 3000], dtype=np.uint64)
    ids = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 3], dtype=np.int32)
    np.save(folder / "spike_times.npy", samples[:, None])  # Kilosort's (n, 1) shape
    if clusters:
        np.save(folder / "spike_clusters.npy", ids)
    if labels:
        (folder / "cluster_KSLabel.tsv").write_text(
            "cluster_id\tKSLabel\n0\tgood\n1\tgood\n2\tmua\n3\tgood\n")
        # curated: 1 → noise, 2 → good, 3 left blank (KSLabel applies), 9 merged away
        (folder / "cluster_group.tsv").write_text(
            "cluster_id\tgroup\n1\tnoise\n2\tgood\n3\t\n9\tgood\n")
        (folder / "cluster_ContamPct.tsv").write_text(
            "cluster_id\tContamPct\n0\t1.5\n1\t80.0\n2\t3.0\n3\t0.0\n")
    return folder


RAW = "dat_path = 'rec.bin'\nn_channels_dat = 2\ndtype = 'int16'\noffset = 0\n"


def test_phy_good_units_group_overrides_kslabel(tmp_path):
    folder = make_phy(tmp_path / "phy", params="sample_rate = 1000.0\n" + RAW)
    np.zeros((3000, 2), dtype=np.int16).tofile(folder / "rec.bin")  # 3 s at 1 kHz
    ad = read_phy(folder, 1.0)  # window from the raw file: no warning
    assert list(ad.var_names) == ["0", "2", "3"]
    assert ad.var["label"].tolist() == ["good", "good", "good"]
    assert ad.var["KSLabel"].tolist() == ["good", "mua", "good"]
    assert ad.var["ContamPct"].tolist() == [1.5, 3.0, 0.0]
    assert counts(ad) == [[1, 1, 1], [1, 0, 1], [1, 0, 2]]  # 3000 samples = 3 s: counted
    assert ad.uns["spikes"]["window"] == [0.0, 3.0]
    assert ad.uns["spikes"]["window_from"] == "raw data file"
    assert ad.uns["spikes"]["clusters"] == "spike_clusters.npy"
    assert ad.uns["spikes"]["sample_rate"] == 1000.0


def test_phy_include_all_and_label_lists(tmp_path):
    folder = make_phy(tmp_path / "phy")
    ad = read_phy(folder, 1.0, window=(0, 3), include="all")
    assert list(ad.var_names) == ["0", "1", "2", "3"]
    assert ad.var["label"].tolist() == ["good", "noise", "good", "good"]
    assert pd.isna(ad.var["group"].iloc[0]) and ad.var["group"].iloc[1] == "noise"
    assert ad.var["n_spikes"].tolist() == [3, 2, 2, 3]
    ad = read_phy(folder, 1.0, window=(0, 3), include=["Noise", "mua"])
    assert list(ad.var_names) == ["1"]
    ad.write_h5ad(tmp_path / "phy.h5ad")  # labels with missing values are writable
    back = anndata.read_h5ad(tmp_path / "phy.h5ad")
    assert back.uns["spikes"]["include"].tolist() == ["Noise", "mua"]
    with pytest.raises(NMFInputError, match=r"no cluster .* is labelled \['unsorted'\]"):
        read_phy(folder, 1.0, window=(0, 3), include="unsorted")


def test_phy_cluster_info_metadata(tmp_path):
    folder = make_phy(tmp_path / "phy")
    # Phy's cluster_info.tsv: metrics carried into var; its stale group loses to
    # cluster_group.tsv, and its n_spikes (whole recording) to the count in the window
    (folder / "cluster_info.tsv").write_text(
        "cluster_id\tch\tdepth\tgroup\tn_spikes\n0\t4\t120.0\tmua\t99\n"
        "1\t7\t80.5\t\t99\n2\t7\t60.0\t\t99\n3\t1\t20.0\t\t99\n")
    ad = read_phy(folder, 1.0, window=(0, 3), include="ALL")
    assert ad.var["ch"].tolist() == [4, 7, 7, 1]
    assert ad.var["depth"].tolist() == [120.0, 80.5, 60.0, 20.0]
    assert ad.var["group"].tolist()[:3] == ["mua", "noise", "good"]  # 0 only curated in info
    assert ad.var["n_spikes"].tolist() == [3, 2, 2, 3]
    with pytest.raises(NMFInputError, match="include must be 'good', 'all' or a non-empty"):
        read_phy(folder, 1.0, window=(0, 3), include=[])


def test_phy_inferred_window_and_templates(tmp_path):
    folder = make_phy(tmp_path / "phy", labels=False, clusters=False)
    np.save(folder / "spike_templates.npy", np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 3]))
    with pytest.warns(DataWarning, match="window was inferred"):
        ad = read_phy(folder, 0.5, include="all")
    assert ad.shape == (6, 4) and ad.X.sum() == 10
    assert ad.uns["spikes"]["clusters"] == "spike_templates.npy"
    with pytest.raises(NMFInputError, match="neither cluster_group.tsv nor cluster_KSLabel.tsv;"
                                            " pass include='all'"):
        read_phy(folder, 0.5, window=(0, 3))


def test_params_parsed_without_executing(tmp_path):
    p = tmp_path / "params.py"
    p.write_text("import os\n# comment\ndat_path = r'C:\\data\\rec.bin'\nn_channels_dat = 385\n"
                 "sample_rate = 3e4\nhp_filtered = False\nside = open('EXECUTED', 'w')\n"
                 "open('EXECUTED2', 'w')\noffset: int = 16\na, b = 1, 2\n")
    assert read_params(p) == {"dat_path": "C:\\data\\rec.bin", "n_channels_dat": 385,
                              "sample_rate": 30000.0, "hp_filtered": False, "offset": 16}
    assert not (tmp_path / "EXECUTED").exists() and not (tmp_path / "EXECUTED2").exists()
    p.write_text("sample_rate = (\n")
    with pytest.raises(FormatError, match=r"params\.py, line 1: not valid Python"):
        read_params(p)


@pytest.mark.parametrize("change, error, match", [
    (lambda d: (d / "params.py").unlink(), FileNotFoundError,
     r"no params\.py in .*phy \(Phy's parameter file; it gives sample_rate"),
    (lambda d: (d / "params.py").write_text("dat_path = 'x.bin'\n"), FormatError,
     r"params\.py: expected 'sample_rate = <positive number>'.*found None"),
    (lambda d: (d / "spike_times.npy").unlink(), FileNotFoundError,
     r"no spike_times\.npy in .*each spike's time in samples"),
    (lambda d: (d / "spike_clusters.npy").unlink(), FileNotFoundError,
     r"no spike_clusters\.npy \(nor spike_templates\.npy\)"),
    (lambda d: np.save(d / "spike_clusters.npy", np.zeros(4, dtype=np.int32)), FormatError,
     r"spike_times\.npy has 10 spikes but spike_clusters\.npy has 4 entries"),
    (lambda d: (d / "cluster_group.tsv").write_text("cluster_id\tgroup\n1\tgood\nx\tmua\n"),
     FormatError, r"cluster_group\.tsv, line 3, column cluster_id: 'x' is not an integer"),
    (lambda d: (d / "cluster_group.tsv").write_text("cluster\tgroup\n1\tgood\n"),
     FormatError, r"cluster_group\.tsv, line 1: expected a 'cluster_id' \(or 'id'\) column"),
])
def test_phy_bad_folders(tmp_path, change, error, match):
    folder = make_phy(tmp_path / "phy")
    change(folder)
    with pytest.raises(error, match=match):
        read_phy(folder, 1.0, window=(0, 3))


def test_phy_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such Phy folder"):
        read_phy(tmp_path / "nope", 1.0)


# --------------------------------------------------------------------------- NWB
def write_nwb(path, *, obs_intervals=True, epochs=False):
    pynwb = pytest.importorskip("pynwb")
    f = pynwb.NWBFile(session_description="test", identifier="t1",
                      session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    f.add_unit_column(name="quality", description="curation label")
    f.add_unit_column(name="depth", description="depth in µm")
    extra = {"obs_intervals": [[0.0, 2.0]]} if obs_intervals else {}
    f.add_unit(spike_times=[1.9, 0.1, 0.5], quality="good", depth=10.0, id=7, **extra)
    f.add_unit(spike_times=[1.0, 2.0], quality="mua", depth=25.0, id=9, **extra)
    if epochs:
        f.add_epoch(start_time=0.0, stop_time=4.0)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    return path


def test_nwb_round_trip_with_obs_intervals(tmp_path):
    path = write_nwb(tmp_path / "s.nwb")
    ad = read_nwb(path, 0.5)
    assert list(ad.var_names) == ["7", "9"]
    assert counts(ad) == [[1, 1, 0, 1], [0, 0, 1, 1]]  # 2.0 = window end: counted
    assert ad.var["quality"].tolist() == ["good", "mua"]
    assert ad.var["depth"].tolist() == [10.0, 25.0]
    assert "obs_intervals" not in ad.var and "spike_times" not in ad.var
    assert ad.uns["spikes"]["window"] == [0.0, 2.0]
    assert ad.uns["spikes"]["window_from"] == "obs_intervals"
    ad = read_nwb(path, 0.5, units=[9])
    assert list(ad.var_names) == ["9"] and counts(ad) == [[0, 0, 1, 1]]
    with pytest.raises(NMFInputError, match=r"units '8' are not in the Units table.*'7', '9'"):
        read_nwb(path, 0.5, units=["8"])


def test_nwb_window_from_epochs_or_inferred(tmp_path):
    ad = read_nwb(write_nwb(tmp_path / "e.nwb", obs_intervals=False, epochs=True), 1.0)
    assert ad.uns["spikes"]["window"] == [0.0, 4.0]
    assert ad.uns["spikes"]["window_from"] == "intervals: epochs"
    assert ad.shape == (4, 2)
    path = write_nwb(tmp_path / "n.nwb", obs_intervals=False)
    with pytest.warns(DataWarning, match="window was inferred"):
        ad = read_nwb(path, 1.0)
    assert ad.uns["spikes"]["window"] == [0.0, 2.0] and ad.X.sum() == 5


def test_nwb_without_pynwb_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)  # import pynwb now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'nmfbio\[nwb\]'"):
        read_nwb(tmp_path / "s.nwb", 0.5)


def test_nwb_not_an_nwb_file(tmp_path):
    pytest.importorskip("pynwb")
    p = tmp_path / "x.nwb"
    p.write_text("not hdf5")
    with pytest.raises(FormatError, match=r"x\.nwb: not a readable NWB file"):
        read_nwb(p, 0.5)
