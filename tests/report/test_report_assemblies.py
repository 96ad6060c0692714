"""The report's assemblies section: an ``nmfbio assemblies detect`` folder (or its
``assemblies.h5`` under any name) gives one section with the result's own numbers, four
figures, the summary and members tables; the ICA baseline and an empty result get their
notes; a damaged file is a FormatError naming it."""

from __future__ import annotations

import base64
import re
import shutil
import struct

import numpy as np
import pandas as pd
import pytest

from nmfbio.assemblies import AssemblyResult
from nmfbio.cli import main
from nmfbio.datasets.assemblies import planted_assemblies
from nmfbio.errors import FormatError
from nmfbio.report import find_sections, write_report
from nmfbio.report.model import FigureBlock, TableBlock, TextBlock


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A gated-NMF folder, an ICA folder and an empty result (about 4 s)."""
    d = tmp_path_factory.mktemp("assemblies")
    rec = planted_assemblies(n_units=20, n_assemblies=2, duration=120, size_range=(7, 7),
                             overlap=(0, 0), active_range=(0.05, 0.05), seed=4)
    rows = [(u, t) for u in rec.unit_ids for t in rec.trains[u]]
    pd.DataFrame(rows, columns=["unit", "time"]).to_csv(d / "spikes.csv", index=False)
    for name, method in (("nmf", "gated-nmf"), ("ica", "ica")):
        assert main(["assemblies", "detect", str(d / "spikes.csv"), "--bin-width", "0.025",
                     "--window", "0", "120", "--method", method, "-o", str(d / name),
                     "-q"]) == 0
    res = AssemblyResult.load(d / "nmf" / "assemblies.h5")
    none = pd.Index([], name="assembly")
    empty = AssemblyResult(
        members=[], weights=res.weights.iloc[:, :0].set_axis(none, axis=1),
        gain=res.gain.iloc[:, :0], z=res.z.iloc[:, :0], activations=res.activations.iloc[:, :0],
        pvalues=res.pvalues.iloc[:0], events=res.events.iloc[:0],
        background_rate=res.background_rate, counts=res.counts, bin_times=res.bin_times,
        heldout_gains=np.zeros(0), null_gains=np.zeros((0, 0)), params=res.params)
    (d / "empty").mkdir()
    empty.save(d / "empty" / "assemblies.h5")
    return d


def _blocks(sec, kind):
    return [b for b in sec.blocks if isinstance(b, kind)]


def test_section_shows_the_results_own_numbers(results):
    (sec,) = find_sections([results / "nmf"])
    res = AssemblyResult.load(results / "nmf" / "assemblies.h5")
    k = res.n_assemblies
    assert k >= 1  # two strong planted assemblies
    assert sec.kind == "assemblies"
    assert sec.title == f"Neural assemblies: {k} assemblies (gated Poisson NMF)"
    assert sec.summary.startswith(res.summary())
    assert "20 units × 4800 bins of 0.025 s (120 s from 0 s)" in sec.summary
    assert sec.params["bin_width"] == 0.025 and sec.params["method"] == "gated-nmf"
    assert sec.files == [results / "nmf" / "assemblies.h5"]
    figures = _blocks(sec, FigureBlock)
    assert len(figures) == 4
    assert [f.caption.split(":")[0].split(" ")[0] for f in figures] == [
        "Spike", "Membership", "Activation", "Held-out"]
    for fig in figures:
        width, height = struct.unpack(">II", fig.png[16:24])
        assert fig.png[:8] == b"\x89PNG\r\n\x1a\n" and width > 300 and height > 200
    summary, members = _blocks(sec, TableBlock)
    np.testing.assert_allclose(summary.frame["p_adj"], res.pvalues)
    assert list(summary.frame["n_members"]) == [len(m) for m in res.members]
    assert list(members.frame["unit"]) == [u for m in res.members for u in m]
    np.testing.assert_allclose(members.frame["z"],
                               [res.z.at[u, a] for a, m in zip(res.weights.columns,
                                                               res.members, strict=True)
                                for u in m])


def test_ica_and_empty_results_say_what_is_missing(results):
    (ica,) = find_sections([results / "ica"])
    assert ica.title.endswith("(PCA/ICA baseline)")
    assert "no significance test" in _blocks(ica, TextBlock)[0].text
    assert len(_blocks(ica, FigureBlock)) == 3  # no null distribution
    assert list(_blocks(ica, TableBlock)[1].frame.columns) == ["assembly", "unit", "weight",
                                                               "gain", "z"]
    (empty,) = find_sections([results / "empty"])
    assert empty.title == "Neural assemblies: 0 assemblies (gated Poisson NMF)"
    assert "No assembly passed the held-out test" in _blocks(empty, TextBlock)[0].text
    assert len(_blocks(empty, FigureBlock)) == 1 and not _blocks(empty, TableBlock)


def test_found_by_name_format_and_one_level_down(results, tmp_path):
    renamed = tmp_path / "session1.h5"
    shutil.copy(results / "nmf" / "assemblies.h5", renamed)
    assert [s.kind for s in find_sections([renamed])] == ["assemblies"]
    runs = tmp_path / "results"  # a workflow's results/ folder
    shutil.copytree(results / "nmf", runs / "assemblies")
    (sec,) = find_sections([runs])
    assert sec.source == runs / "assemblies" / "assemblies.h5"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "assemblies.h5").write_bytes(b"not hdf5")
    with pytest.raises(FormatError, match=r"broken/assemblies\.h5: not an HDF5 file"):
        find_sections([broken])


def test_page_embeds_every_figure(results, tmp_path):
    out = write_report([results / "nmf", results / "ica", results / "empty"],
                       tmp_path / "report.html")
    page = out.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="s\d+" class="result">.*?</section>', page, flags=re.S)
    assert len(sections) == 3
    counts = [len(re.findall(r'src="data:image/png;base64,([^"]+)"', s)) for s in sections]
    assert counts == [4, 3, 1]
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "assemblies result:" in sections[0] and "Neural assemblies" in sections[0]
