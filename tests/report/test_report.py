"""``nmfbio report`` and :func:`nmfbio.report.write_report`: a section per result kind, HTML
escaping, self-containment, atomic writing, bad input, the CLI, and (when a ``chromium``
binary is on PATH) rendering in a headless browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest
from cohorts import cohort, realistic_signatures, typed_signatures
from expression_data import programs_counts

import nmfbio
from nmfbio.cli import main
from nmfbio.errors import FormatError
from nmfbio.report import ResultKind, Section, find_sections, has_files, register, write_report
from nmfbio.report.registry import KINDS

EVIL = '<script>alert("x")</script>&co'


def _run(*argv):
    assert main([*map(str, argv), "-q"]) == 0, argv


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One tiny output folder per nmfbio command (about 8 s in all)."""
    d = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(0)
    X = rng.poisson(rng.gamma(1.0, 1.0, (12, 2)) @ rng.gamma(1.0, 3.0, (2, 20)) + 0.5)
    features = [f"g{i}" for i in range(11)] + [EVIL]
    pd.DataFrame(X, index=features, columns=[f"s{j}" for j in range(20)]).to_csv(d / "x.csv")
    _run("fit", d / "x.csv", "-k", 2, "--seed", 0, "--restarts", 2, "-o", d / "fit")
    _run("rank", d / "x.csv", "--ranks", "1-3", "--repeats", 2, "--restarts", 2, "--seed", 0,
         "-o", d / "rank")
    _run("consensus", d / "x.csv", "-k", 2, "--restarts", 4, "--seed", 0, "-o", d / "consensus")
    _run("anchors", d / "x.csv", "-k", 2, "--restarts", 2, "--seed", 0, "-o", d / "anchors")

    cat, S, _ = cohort(3, 30, 11)
    cat.to_csv(d / "catalog.tsv", sep="\t", index_label="MutationType")
    ref = pd.concat([S, realistic_signatures(5, 12).iloc[:, 2:].add_prefix("D")], axis=1)
    ref.to_csv(d / "ref.txt", sep="\t", index_label="Type")
    _run("signatures", "extract", d / "catalog.tsv", "--ranks", "2-3", "--restarts", 4,
         "--seed", 0, "--reference", d / "ref.txt", "-o", d / "extract")
    _run("signatures", "match", d / "extract" / "signatures.tsv", "--reference", d / "ref.txt",
         "-o", d / "match")
    _run("signatures", "assign", d / "catalog.tsv", "--reference", d / "ref.txt", "-o",
         d / "assign")

    E = rng.gamma(1.0, 1.0, (2, 30))
    joint = []
    for kind, scale in (("SBS96", 1500), ("DBS78", 200)):
        S2 = typed_signatures(kind, 2, seed=len(joint) + 4)
        joint.append(d / f"cohort.{kind}.tsv")
        pd.DataFrame(rng.poisson(S2.to_numpy() @ E * scale), index=S2.index,
                     columns=[f"t{j}" for j in range(30)]).to_csv(
            joint[-1], sep="\t", index_label="MutationType")
    _run("signatures", "extract", *joint, "--ranks", "1-3", "--restarts", 4, "--seed", 0,
         "-o", d / "joint")

    ad, _, _ = programs_counts(n_cells=150, n_genes=200, n_types=2, seed=3)
    ad = ad[:, np.ravel(ad.X.sum(axis=0)) > 0].copy()  # no all-zero genes (a DataWarning)
    ad.write_h5ad(d / "cells.h5ad")
    _run("programs", "find", d / "cells.h5ad", "--ranks", "2-3", "--n-top-genes", 120,
         "--restarts", 4, "--seed", 0, "-o", d / "programs")
    return d


#: kind -> (folder, figures in its section, a fragment of its title)
EXPECTED = {
    "fit": ("fit", 2, "NMF fit at rank 2"),
    "rank": ("rank", 1, "Rank selection: recommended rank"),
    "consensus": ("consensus", 3, "Consensus at rank 2"),
    "anchors": ("anchors", 1, "Anchors and separability"),
    "signatures extract": ("extract", 4, "Mutational signatures: 3 de novo SBS96 signatures"),
    "signatures match": ("match", 1, "Signatures matched to a reference: 3 of 3 matched"),
    "signatures assign": ("assign", 1, "Signature assignment: 3 reference signatures used"),
    "programs find": ("programs", 3, "Gene-expression programs: 3 programs"),
    "signatures extract (joint)": ("joint", 5, "Mutational signatures: 2 joint signatures "
                                               "over SBS96, DBS78"),
}


@pytest.fixture(scope="module")
def report(results):
    out = results / "report.html"
    folders = [results / folder for folder, _, _ in EXPECTED.values()]
    write_report(folders, out, title=f"Cohort {EVIL}")
    return out


def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _sections(page: str) -> list[str]:
    return re.findall(r'<section id="s\d+" class="result">.*?</section>', page, flags=re.S)


def test_one_section_per_result_kind(results, report):
    page = report.read_text(encoding="utf-8")
    sections = _sections(page)
    assert len(sections) == len(EXPECTED)
    for html_sec, (kind, (_, n_fig, title)) in zip(sections, EXPECTED.items(), strict=True):
        assert title in html_sec, kind
        assert f"{kind} result:" in html_sec
        images = re.findall(r'src="data:image/png;base64,([^"]+)"', html_sec)
        assert len(images) == n_fig, kind
        for data in images:  # real PNGs, not empty
            width, height = _png_size(base64.b64decode(data))
            assert width > 100 and height > 100
    # the numbers shown are the results' own
    best = int((results / "rank" / "rank_selection.tsv").read_text().split(";")[0][7:])
    assert f"Rank selection: recommended rank {best}" in page
    con = nmfbio.ConsensusResult.load(results / "consensus" / "consensus.h5")
    assert f"{con.stability[0]:.4g}</td>" in sections[2]
    pairs = pd.read_csv(results / "extract" / "matches.tsv", sep="\t", index_col=0)
    assert sorted(pairs["reference"]) == ["T1", "T2", "T3"]
    for denovo, ref in pairs["reference"].items():  # the matches, in the extract and match
        row = f'<th class="t">{denovo}</th><td class="t">{ref}</td>'
        assert row in sections[4] and row in sections[5]
    assert "Sample normalisation: " in sections[4] and "(the gmm cutoff)" in sections[4]
    assert "joint signatures" in sections[8] and "Sample normalisation: " in sections[8]
    # software versions, inputs and parameters
    for name in ("nmfbio", "numpy", "scipy", "numba", "anndata", "python", "platform"):
        assert f'<th class="t">{name}</th>' in page
    assert str((results / "fit").resolve()) in page
    assert '<th class="t">restarts</th><td class="t">2</td>' in sections[0]


def test_names_and_title_are_escaped(report):
    page = report.read_text(encoding="utf-8")
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co"
    assert f"<title>Cohort {escaped}</title>" in page
    assert escaped in _sections(page)[0]  # the feature name in the fit's tables
    assert "<script" not in page and 'alert("x")' not in page


def test_page_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    srcs = re.findall(r'\bsrc="([^"]*)"', page)
    hrefs = re.findall(r'\bhref="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page and "<iframe" not in page


def test_result_files_given_directly(results, tmp_path):
    secs = find_sections([results / "fit" / "result.h5", results / "rank" / "rank_selection.tsv",
                          results / "consensus" / "consensus.h5"])
    assert [s.kind for s in secs] == ["fit", "rank", "consensus"]
    renamed = tmp_path / "my_fit.h5"  # recognised by its format attribute, not its name
    shutil.copy(results / "fit" / "result.h5", renamed)
    assert [s.kind for s in find_sections([renamed])] == ["fit"]
    # the rank table inside an extraction folder is shown once, in the extraction section
    assert [s.kind for s in find_sections([results / "extract"])] == ["signatures extract"]
    # the same result twice gives one section
    assert len(find_sections([results / "fit", results / "fit" / "result.h5"])) == 1
    # a folder of output folders is searched one level down, in name order
    runs = tmp_path / "runs"
    shutil.copytree(results / "fit", runs / "b_fit")
    shutil.copytree(results / "rank", runs / "a_rank")
    (runs / "c_notes").mkdir()
    assert [s.kind for s in find_sections([runs])] == ["rank", "fit"]


def test_a_new_kind_is_one_registry_entry(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.tsv").write_bytes(b"stand-in")

    def build(path):
        sec = Section("Demo: 4 found", "demo", path)
        sec.read(path / "demo.tsv")
        sec.table(pd.DataFrame({"size": [3, 5]}, index=["A1", "A2"]), "members")
        return sec

    kind = register(ResultKind("demo", "demo.tsv (nmfbio demo)", has_files("demo.tsv"), build))
    try:
        out = write_report([folder], tmp_path / "r.html")
        assert "Demo: 4 found" in out.read_text()
        assert [s.kind for s in find_sections([folder / "demo.tsv"])] == ["demo"]
    finally:
        KINDS.remove(kind)
    with pytest.raises(FormatError, match=r"demo.*no nmfbio result recognised"):
        find_sections([folder])


def test_bad_results(results, tmp_path):
    with pytest.raises(FileNotFoundError, match="result not found: .*nope"):
        write_report([tmp_path / "nope"], tmp_path / "r.html")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(FormatError, match=r"empty: no nmfbio result recognised in this folder;"
                                          r" expected .*result\.h5 \(nmfbio fit\)"):
        write_report([empty], tmp_path / "r.html")
    with pytest.raises(FormatError, match="notes.txt: no nmfbio result recognised in this "
                                          "file.*pass the folder"):
        write_report([empty / "notes.txt"], tmp_path / "r.html")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "result.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(FormatError, match=r"broken/result\.h5: not an HDF5 file"):
        write_report([broken], tmp_path / "r.html")
    bad_rank = tmp_path / "badrank"
    bad_rank.mkdir()
    (bad_rank / "rank_selection.tsv").write_text("# best=x; rule: r; params: {}\nrank\n1\n")
    with pytest.raises(FormatError, match="rank_selection.tsv: cannot read the rank"):
        write_report([bad_rank], tmp_path / "r.html")
    short = tmp_path / "short"
    shutil.copytree(results / "assign", short)
    (short / "cosine.tsv").write_text("Samples\tother\nt1\t0.5\n")
    with pytest.raises(FormatError, match=r"cosine\.tsv: this file changed after nmfbio "
                                          r"signatures assign wrote it"):
        write_report([short], tmp_path / "r.html")
    (short / ".nmfbio-outputs.json").unlink()  # a folder edited by hand, without a manifest
    with pytest.raises(FormatError, match=r"cosine\.tsv, line 1: missing column\(s\) \['cosine'\]"):
        write_report([short], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_atomic_and_never_over_an_input(results, tmp_path, monkeypatch):
    h5 = results / "fit" / "result.h5"
    before = h5.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to write .*result.h5: it is a file of "
                                              "the input .*fit and would be replaced"):
        write_report([results / "fit"], h5)  # a file read, though not named as RESULT
    assert h5.read_bytes() == before
    with pytest.raises(FileExistsError, match="is a folder"):
        write_report([results / "fit"], tmp_path)
    # a failure while writing leaves the previous report and no temporary file
    out = tmp_path / "report.html"
    out.write_text("previous")
    import nmfbio.report.html as page_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(page_module, "render_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report([results / "fit"], out)
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_cli_end_to_end(results, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(results / "fit"), str(results / "rank"), "-o", str(out),
                 "--title", "Two <results>"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"wrote {out} (") and "from 2 result(s)" in stdout
    page = out.read_text()
    assert "<h1>Two &lt;results&gt;</h1>" in page and len(_sections(page)) == 2
    assert main(["-q", "report", str(results / "fit"), "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["report", str(tmp_path / "missing"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nmfbio: error: result not found:") and err.count("\n") == 1
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "no nmfbio result recognised in this folder" in err and "Traceback" not in err
    assert main(["report", "-o", str(out)]) == 2  # no RESULT: a usage error
    assert "usage: nmfbio report" in capsys.readouterr().err


def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


_CHECK = """<script>window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre"); out.id = "nmfbio-check";
  out.textContent = JSON.stringify({images: imgs.length,
    decoded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    sections: document.querySelectorAll("section.result").length,
    tables: document.querySelectorAll("table").length, title: document.title,
    requests: performance.getEntriesByType("resource").map(function (r) { return r.name; })
      .filter(function (u) { return u.indexOf("data:") !== 0; })});
  document.body.appendChild(out);
});</script></body>"""


def test_renders_in_headless_chromium(report, tmp_path):
    """The report in real headless Chromium: every figure decoded, every section there, a
    screenshot that is not blank, and no network request. Skipped without a browser outside
    CI; in CI (CI=true, where .ci/run installs Debian's chromium) a missing one fails."""
    if _chromium() is None:
        message = ("no chromium binary on PATH (Debian: apt-get install chromium); the "
                   "headless rendering check needs one")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser check: {message}")
        pytest.skip(message)
    page = report.read_text(encoding="utf-8")
    n_img = page.count("<img ")
    probe = tmp_path / "probe.html"  # a test copy with a script; the report itself has none
    probe.write_text(page.replace("</body>", _CHECK), encoding="utf-8")
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-quic",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*base, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    found = re.search(r'<pre id="nmfbio-check">(.*?)</pre>', dom)
    assert found, "the page did not load in chromium"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                       .replace("&lt;", "<").replace("&gt;", ">"))
    assert check["images"] == n_img == sum(n_fig for _, n_fig, _ in EXPECTED.values())
    assert check["decoded"] == n_img  # every embedded figure decoded
    assert check["sections"] == len(EXPECTED) and check["tables"] > 20
    assert check["title"] == f"Cohort {EVIL}"
    assert check["requests"] == []  # the page loads nothing: no network request, no file

    shot = tmp_path / "shot.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1200,2000",
                    report.as_uri()], capture_output=True, timeout=120)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2000, 1200)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # not a blank page



def test_fit_section_says_where_a_kl_objective_was_evaluated(tmp_path):
    # a dense KL fit evaluates its objective only now and then: the figure's caption says at
    # how many iterations (a Frobenius fit, every iteration, keeps the plain caption)
    rng = np.random.default_rng(1)
    X = rng.poisson(5.0, (30, 40)).astype(float)
    for loss in ("kl", "frobenius"):
        res = nmfbio.fit(X, 3, loss=loss, seed=0)
        res.save(tmp_path / f"{loss}.h5")
        (sec,) = find_sections([tmp_path / f"{loss}.h5"])
        caption = sec.blocks[[type(b).__name__ for b in sec.blocks].index("FigureBlock")]
        seen = int(np.isfinite(res.history).sum())
        if loss == "kl":
            assert seen < res.n_iter
            assert f"at the {seen} of {res.n_iter} iterations where it was evaluated" in \
                caption.caption
        else:
            assert seen == res.n_iter and caption.caption.startswith("Objective per iteration")
