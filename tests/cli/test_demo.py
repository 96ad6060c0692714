"""Tests of ``make demo`` (:mod:`nmfbio.cli.demo`): the quick settings end to end into a temporary
folder (both reports, their sections, the printed summary and paths), the COSMIC branch of
the signatures job on a generated reference file, the output-folder rule and the errors.
``make demo`` itself runs :data:`nmfbio.cli.demo.FULL`; its time is in the ROADMAP."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from nmfbio.cli import demo
from nmfbio.datasets.assemblies import planted_assemblies
from nmfbio.io import read_spike_table
from nmfbio.io.sbs96 import CHANNELS

PNG = "data:image/png;base64,"


def _headings(html: str) -> list[str]:
    return re.findall(r'<section id="s\d+" class="result"><h2>\d+\. ([^<]+)</h2>', html)


def test_quick_demo_writes_both_reports(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "find_cosmic", lambda: None)  # as on a machine without COSMIC
    out = tmp_path / "demo"
    assert demo.main(["--quick", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out

    sig_html = (out / "signatures_report.html").read_text(encoding="utf-8")
    heads = _headings(sig_html)
    assert len(heads) == 2
    assert re.fullmatch(r"Mutational signatures: [1-4] de novo SBS96 signatures", heads[0])
    assert heads[1].startswith("Signature assignment: ")
    assert "<title>nmfbio demo: mutational signatures of 21 breast cancers</title>" in sig_html
    assert sig_html.count(PNG) >= 4 and "96" in sig_html
    assert not (out / "signatures_match").exists()
    # the de novo signatures were assigned back (no COSMIC): same signature names
    names = pd.read_csv(out / "signatures" / "signatures.tsv", sep="\t", index_col=0).columns
    assigned = pd.read_csv(out / "signatures_assign" / "exposures.tsv", sep="\t", index_col=0)
    assert list(assigned.columns) == list(names) and assigned.shape[0] == 21

    asm_html = (out / "assemblies_report.html").read_text(encoding="utf-8")
    heads = _headings(asm_html)
    assert len(heads) == 1
    assert re.fullmatch(r"Neural assemblies: \d+ assembl(y|ies) \(gated Poisson NMF\)", heads[0])
    assert "Spike raster in a window" in asm_html and PNG in asm_html
    assert "50 units × 4800 bins of 0.025 s (120 s from 0 s)" in asm_html

    # the recording written is the generator's, with its planted members beside it
    rec = planted_assemblies(duration=120.0, seed=demo.RECORDING_SEED)
    spikes = pd.read_csv(out / "recording" / "spikes.tsv", sep="\t")
    assert len(spikes) == sum(len(t) for t in rec.trains.values())
    binned = read_spike_table(out / "recording" / "spikes.tsv", 0.025, window=(0.0, 120.0))
    np.testing.assert_array_equal(np.asarray(binned[:, rec.unit_ids].X).T, rec.counts)
    planted = pd.read_csv(out / "recording" / "planted.tsv", sep="\t")
    assert [list(g["unit"]) for _, g in planted.groupby("assembly")] == [
        [f"u{u}" for u in m] for m in rec.members]

    for fragment in ("$ nmfbio signatures extract", "--ranks 1-4 --restarts 10",
                     "no COSMIC copy found", "$ nmfbio signatures assign",
                     f"planted_assemblies, seed {demo.RECORDING_SEED}",
                     "$ nmfbio assemblies detect", "(quick settings)",
                     str((out / "signatures_report.html").resolve()),
                     str((out / "assemblies_report.html").resolve())):
        assert fragment in stdout, fragment
    assert re.search(r"signatures \(\d+ s\): [1-4] de novo signatures in 21 breast cancers",
                     stdout)
    assert re.search(r"assemblies \(\d+ s\): \d+ assembl(y|ies) \(gated-nmf\)", stdout)


def test_signatures_job_matches_and_assigns_cosmic_when_given(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(rng.dirichlet(np.full(96, 0.5), size=5).T, index=list(CHANNELS),
                       columns=[f"SBS{i}" for i in (1, 2, 3, 5, 13)])
    ref_path = tmp_path / "my_cosmic.txt"
    ref.to_csv(ref_path, sep="\t", index_label="Type")
    monkeypatch.setenv(demo.COSMIC_ENV, str(ref_path))
    assert demo.find_cosmic() == str(ref_path)

    log = io.StringIO()
    folders = demo.signatures_job(tmp_path / "out", demo.QUICK, cosmic=demo.find_cosmic(),
                                  stream=log)
    assert folders == [tmp_path / "out" / n for n in ("signatures", "signatures_match",
                                                      "signatures_assign")]
    matches = pd.read_csv(folders[1] / "matches.tsv", sep="\t", index_col=0)
    assert set(matches["reference"]) <= set(ref.columns)
    assigned = pd.read_csv(folders[2] / "exposures.tsv", sep="\t", index_col=0)
    assert list(assigned.columns) == list(ref.columns)
    assert f"--reference {ref_path}" in log.getvalue()
    assert "no COSMIC copy found" not in log.getvalue()


def test_missing_cosmic_file_is_an_error_not_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(demo.COSMIC_ENV, str(tmp_path / "nowhere.txt"))
    assert demo.main(["--quick", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nmfbio demo: error: ") and "nowhere.txt" in err
    assert not (tmp_path / "o" / "signatures").exists()


def test_failing_command_raises_with_its_status(tmp_path):
    with pytest.raises(RuntimeError, match=r"'nmfbio signatures extract .*missing\.tsv.*' "
                                           r"failed with exit status [12]"):
        demo._nmfbio(["signatures", "extract", tmp_path / "missing.tsv", "-o",
                      tmp_path / "x"], io.StringIO())


def test_output_folder_rule(monkeypatch):
    monkeypatch.delenv(demo.OUT_ENV, raising=False)
    assert demo.output_folder() == demo.Path("demo_output")
    monkeypatch.setenv(demo.OUT_ENV, "/tmp/elsewhere")
    assert demo.output_folder() == demo.Path("/tmp/elsewhere")
    assert demo.output_folder("given") == demo.Path("given")


def test_full_settings_are_the_real_demo():
    assert demo.FULL == demo.Settings(ranks="1-10", restarts=100, bootstrap=100,
                                      duration=600.0, bin_width=0.025)
    assert demo.QUICK.duration < demo.FULL.duration


def test_docstring_examples():
    import doctest

    assert doctest.testmod(demo).failed == 0
