"""``nmfbio assemblies detect`` end to end on a generated Phy folder and spike table (outputs
agree with the saved result), on binned inputs (.h5ad, matrix, NWB) with the fast ICA
baseline, the format detection, the help text and bad inputs (exit 2, one message)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from nmfbio.assemblies import AssemblyResult
from nmfbio.cli import main
from nmfbio.cli.assemblies import FIGURES, OUTPUTS
from nmfbio.datasets.assemblies import planted_assemblies
from nmfbio.errors import FormatError
from nmfbio.io.spike_input import spike_format as input_format

RATE = 30000.0
DURATION = 160.0


@pytest.fixture(scope="module")
def rec():
    return planted_assemblies(n_units=24, n_assemblies=2, duration=DURATION, gain=3.0,
                              size_range=(8, 8), overlap=(0, 0), active_range=(0.05, 0.05),
                              seed=2)


def _spikes(rec):
    times = np.concatenate([rec.trains[u] for u in rec.unit_ids])
    units = np.concatenate([np.full(rec.trains[u].size, i) for i, u in enumerate(rec.unit_ids)])
    order = np.argsort(times, kind="stable")
    return times[order], units[order]


def write_phy(folder, rec, *, params=True):
    """A Phy folder with the recording's units labelled good, plus one noise cluster."""
    folder.mkdir()
    times, units = _spikes(rec)
    noise = np.sort(np.random.default_rng(0).uniform(0, DURATION, 500))
    times = np.concatenate([times, noise])
    units = np.concatenate([units, np.full(noise.size, 99)])
    order = np.argsort(times, kind="stable")
    if params:
        (folder / "params.py").write_text(f"dat_path = 'none.bin'\nsample_rate = {RATE}\n")
    np.save(folder / "spike_times.npy", np.round(times[order] * RATE).astype(np.uint64))
    np.save(folder / "spike_clusters.npy", units[order].astype(np.int32))
    labels = ["good"] * len(rec.unit_ids) + ["noise"]
    pd.DataFrame({"cluster_id": [*range(len(rec.unit_ids)), 99], "group": labels}).to_csv(
        folder / "cluster_group.tsv", sep="\t", index=False)
    return folder


def _check_outputs(out, capsys):
    """Every output is there and agrees with assemblies.h5; returns the loaded result."""
    for name in (*OUTPUTS, *FIGURES):
        assert (out / name).is_file(), name
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = AssemblyResult.load(out / "assemblies.h5")
    members = pd.read_csv(out / "members.tsv", sep="\t", dtype={"unit": str})
    assert list(members.columns) == ["assembly", "unit", "weight_hz", "gain", "z"]
    listed = [list(members.loc[members["assembly"] == n, "unit"])
              for n in res.weights.columns]
    assert listed == res.members
    for _, row in members.iterrows():
        assert row["weight_hz"] == pytest.approx(res.weights.at[row["unit"], row["assembly"]])
        assert row["z"] == pytest.approx(res.z.at[row["unit"], row["assembly"]])
    summary = pd.read_csv(out / "summary.tsv", sep="\t", index_col=0)
    assert list(summary.columns) == ["n_members", "p_adj", "n_events", "heldout_gain",
                                     "members"]
    np.testing.assert_allclose(summary["p_adj"], res.pvalues, rtol=1e-12)
    assert list(summary["n_members"]) == [len(m) for m in res.members]
    assert list(summary["n_events"]) == [int((res.events["assembly"] == n).sum())
                                         for n in res.weights.columns]
    weights = pd.read_csv(out / "weights.tsv", sep="\t", index_col=0, dtype={"unit": str})
    np.testing.assert_allclose(weights.to_numpy(), res.weights.to_numpy())
    act = pd.read_csv(out / "activations.tsv", sep="\t", index_col=0)
    assert list(act.columns) == ["t_start", *res.weights.columns]
    np.testing.assert_allclose(act["t_start"], res.bin_times, atol=1e-9)
    events = pd.read_csv(out / "events.tsv", sep="\t")
    assert len(events) == len(res.events)
    printed = capsys.readouterr().out
    assert printed.startswith(f"{res.summary()};") and printed.count("\n") == 1
    return res


def _planted_found(res, rec):
    """Best Jaccard of each planted assembly with a detected one."""
    found = [set(m) for m in res.members]
    return [max((len(set(t) & f) / len(set(t) | f) for f in found), default=0.0)
            for t in ([str(i) for i in m] for m in rec.members)]


def test_detect_on_a_phy_folder(tmp_path, rec, capsys):
    folder = write_phy(tmp_path / "phy", rec)
    out = tmp_path / "out"
    assert main(["assemblies", "detect", str(folder), "--bin-width", "0.025", "--window", "0",
                 str(DURATION), "--seed", "0", "-o", str(out)]) == 0
    res = _check_outputs(out, capsys)
    assert list(res.weights.index) == [str(i) for i in range(24)]  # the noise cluster left out
    assert res.counts.shape == (24, 6400) and res.params["method"] == "gated-nmf"
    assert np.all(np.isfinite(res.pvalues)) and res.null_gains.shape[1] == res.n_assemblies
    assert max(_planted_found(res, rec)) >= 0.5
    # --include all keeps the noise cluster (the fast baseline is enough to see it)
    assert main(["assemblies", "detect", str(folder), "--bin-width", "0.025", "--window", "0",
                 str(DURATION), "--include", "all", "--method", "ica", "-o",
                 str(tmp_path / "all"), "-q"]) == 0
    units = AssemblyResult.load(tmp_path / "all" / "assemblies.h5").weights.index
    assert list(units) == [*(str(i) for i in range(24)), "99"]


def test_detect_on_a_spike_table_in_ms(tmp_path, rec, capsys):
    times, units = _spikes(rec)
    path = tmp_path / "spikes.csv"
    pd.DataFrame({"unit": units, "time_ms": times * 1000}).to_csv(path, index=False)
    assert input_format(path) == "spikes-table"
    out = tmp_path / "out"
    assert main(["assemblies", "detect", str(path), "--bin-width", "0.025", "--window", "0",
                 str(DURATION), "--time-unit", "ms", "-o", str(out)]) == 0
    res = _check_outputs(out, capsys)
    np.testing.assert_array_equal(res.counts, rec.counts)  # window and orientation kept
    assert max(_planted_found(res, rec)) >= 0.5


def test_binned_inputs_with_the_ica_baseline(tmp_path, rec, capsys):
    X = pd.DataFrame(rec.counts.T, index=[f"b{i}" for i in range(rec.counts.shape[1])],
                     columns=rec.unit_ids)
    X.to_csv(tmp_path / "counts.tsv", sep="\t")
    assert input_format(tmp_path / "counts.tsv") == "binned"
    out = tmp_path / "matrix"
    assert main(["assemblies", "detect", str(tmp_path / "counts.tsv"), "--bins-in", "rows",
                 "--bin-width", "0.025", "--method", "ica", "-o", str(out), "-q"]) == 0
    res = AssemblyResult.load(out / "assemblies.h5")
    np.testing.assert_array_equal(res.counts, rec.counts)
    assert res.params["method"] == "ica" and res.pvalues.isna().all() and len(res.events) == 0
    members = pd.read_csv(out / "members.tsv", sep="\t")
    assert list(members.columns) == ["assembly", "unit", "weight", "gain", "z"]
    assert capsys.readouterr().out == ""

    # an .h5ad records its bin width; --window keeps the bins inside it
    res.to_anndata().write_h5ad(tmp_path / "binned.h5ad")
    out = tmp_path / "h5ad"
    assert main(["assemblies", "detect", str(tmp_path / "binned.h5ad"), "--window", "10",
                 "50", "--method", "ica", "-o", str(out), "-q"]) == 0
    back = AssemblyResult.load(out / "assemblies.h5")
    assert back.counts.shape == (24, 1600) and back.bin_times[0] == pytest.approx(10.0)
    np.testing.assert_array_equal(back.counts, rec.counts[:, 400:2000])
    assert main(["assemblies", "detect", str(tmp_path / "binned.h5ad"), "--bin-width", "0.05",
                 "-o", str(out), "--method", "ica"]) == 2
    assert "differs from the AnnData's 0.025" in capsys.readouterr().err


def test_nwb_input_is_detected_and_read(tmp_path, capsys):
    pynwb = pytest.importorskip("pynwb")
    small = planted_assemblies(n_units=6, n_assemblies=1, duration=40, size_range=(3, 3),
                               seed=1)
    f = pynwb.NWBFile(session_description="test", identifier="a1",
                      session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    for i, u in enumerate(small.unit_ids):
        f.add_unit(spike_times=small.trains[u], id=i, obs_intervals=[[0.0, 40.0]])
    path = tmp_path / "s.nwb"
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(f)
    assert input_format(path) == "nwb"
    out = tmp_path / "out"
    assert main(["assemblies", "detect", str(path), "--bin-width", "0.025", "--method", "ica",
                 "-o", str(out), "-q"]) == 0
    res = AssemblyResult.load(out / "assemblies.h5")
    np.testing.assert_array_equal(res.counts, small.counts)  # window from obs_intervals


def test_format_detection(tmp_path):
    (tmp_path / "kilosort").mkdir()
    np.save(tmp_path / "kilosort" / "spike_times.npy", np.zeros(1, np.uint64))
    (tmp_path / "t.tsv").write_text("7\t0.5\n")
    (tmp_path / "named.csv").write_text("cluster,amplitude,spike_time\n1,30,0.5\n")
    (tmp_path / "x.npy").write_bytes(b"")
    (tmp_path / "x.h5ad").write_bytes(b"")
    assert input_format(tmp_path / "kilosort") == "phy"
    assert input_format(tmp_path / "t.tsv") == "spikes-table"
    assert input_format(tmp_path / "named.csv") == "spikes-table"
    assert input_format(tmp_path / "x.npy") == "binned"
    assert input_format(tmp_path / "x.h5ad") == "h5ad"
    (tmp_path / "other").mkdir()
    with pytest.raises(FormatError, match="neither spike_times.npy nor params.py.*phy: "):
        input_format(tmp_path / "other")
    (tmp_path / "x.dat").write_text("1\n")
    with pytest.raises(FormatError, match=r"cannot tell the input format from the file "
                       r"name; pass --format\. Accepted inputs: phy: .*; nwb: .*; "
                       r"spikes-table: .*; binned: .*; h5ad: "):
        input_format(tmp_path / "x.dat")


def test_help_explains_orientation_window_and_outputs(capsys):
    assert main(["assemblies", "--help"]) == 0
    assert "time bins × units" in capsys.readouterr().out
    assert main(["assemblies", "detect", "--help"]) == 0
    text = capsys.readouterr().out
    assert "LAST BIN IS CLOSED" in text and "bins × units" in text
    for name in (*OUTPUTS, *FIGURES, "phy", "nwb", "spikes-table", "binned", "h5ad"):
        assert name in text


@pytest.mark.parametrize(("extra", "message"), [
    (["--bin-width", "0"], r"--bin-width must be a positive number of seconds \(e\.g\. "
                           r"0\.025\), got 0"),
    (["--bin-width", "-0.1"], "--bin-width must be a positive number of seconds"),
    (["--bin-width", "0.5", "--window", "0", "0.2"],
     r"--bin-width 0\.5 s is longer than the window --window 0 0\.2 \(0\.2 s\)"),
    (["--bin-width", "0.025", "--window", "5", "1"], "END after START, got 5 1"),
    ([], "--bin-width is required for spikes-table input"),
    (["--bin-width", "0.025", "--window", "0", "20"], "too short for the held-out test"),
])
def test_bad_values_exit_2_with_one_paragraph(tmp_path, capsys, extra, message):
    path = tmp_path / "spikes.csv"
    path.write_text("unit,time\n1,0.5\n2,0.7\n1,3.2\n")
    code = main(["assemblies", "detect", str(path), *extra, "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("nmfbio: error: ") and err.count("\n") == 1
    assert re.search(message, err), err


def test_bad_files_exit_2(tmp_path, rec, capsys):
    folder = write_phy(tmp_path / "phy", rec, params=False)
    args = ["--bin-width", "0.025", "-o", str(tmp_path / "o")]
    assert main(["assemblies", "detect", str(folder), *args]) == 2
    assert f"no params.py in {folder}" in capsys.readouterr().err

    bad = pd.DataFrame([[1, 0], [0, -2], [3, 1]], index=["b0", "b1", "b2"],
                       columns=["u1", "u2"])
    bad.to_csv(tmp_path / "neg.csv")
    assert main(["assemblies", "detect", str(tmp_path / "neg.csv"), "--bins-in", "rows",
                 *args]) == 2
    err = capsys.readouterr().err
    assert "1 negative value(s), the first at bin 'b1', unit 'u2' (-2.0)" in err
    assert main(["assemblies", "detect", str(tmp_path / "neg.csv"), *args]) == 2
    assert "a binned matrix needs --bins-in" in capsys.readouterr().err

    assert main(["assemblies", "detect", str(tmp_path / "nope.csv"), *args]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "x.dat").write_text("1\n")
    assert main(["assemblies", "detect", str(tmp_path / "x.dat"), *args]) == 2
    assert "cannot tell the input format" in capsys.readouterr().err
    # an output never replaces the input
    (tmp_path / "o2").mkdir()
    (tmp_path / "o2" / "summary.tsv").write_text("unit,time\n1,0.5\n")
    assert main(["assemblies", "detect", str(tmp_path / "o2" / "summary.tsv"), "--bin-width",
                 "0.025", "-o", str(tmp_path / "o2")]) == 2
    assert "refusing to write" in capsys.readouterr().err
