"""The tutorials in ``tutorials/`` are executed here, each as a script in a fresh process.

Every ``tutorials/*.py`` (files starting with ``_`` excepted) is collected, so a new
tutorial is tested as soon as it is added. A tutorial passes when it exits with status 0
under ``python -W error`` (its own inline ``assert`` statements check its scientific claims,
and any unexpected warning fails it), writes its figures as non-empty PNG files into
``$NMFBIO_TUTORIAL_OUT/<tutorial name>/`` and nowhere else, and tells the reader where they
are. The Jupytext percent format is checked too: a header naming the format, Markdown cells
that are pure comments, and code cells that each compile on their own (as a notebook runs
them one by one).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL_DIR = Path(__file__).resolve().parent.parent / "tutorials"
TUTORIALS = sorted(p for p in TUTORIAL_DIR.glob("*.py") if not p.name.startswith("_"))

#: figures each tutorial must write (a tutorial not listed must write at least one PNG)
EXPECTED_FIGURES = {
    "01_nmf_principles": [
        "parts_vs_pca.png", "ambiguity_scale_permutation.png", "consensus_stability.png",
        "consensus_run_cosines.png", "anchors.png", "rank_selection.png", "sparsity.png",
    ],
    "02_mutational_signatures": [
        "breast21_signatures.png", "breast21_exposures.png", "cohort_match_cosine.png",
        "cohort_signatures.png", "cohort_assignment.png", "vcf_catalogs.png",
    ],
    "03_neural_assemblies": [
        "raster.png", "membership.png", "activations.png", "null_distribution.png",
        "truth_vs_oracle.png", "ica_membership.png",
    ],
    "04_expression_programs": [
        "planted_rank_selection.png", "planted_usage.png", "planted_programs_vs_truth.png",
        "tenx_rank_selection.png", "tenx_usage.png", "tenx_top_genes.png",
    ],
    "05_mutation_types": ["dbs78_signatures.png", "id83_signatures.png", "joint_id83.png"],
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CELL = re.compile(r"^# %%(?P<rest>.*)$")


def cells(path: Path):
    """(kind, first line number, source lines) of each cell of a percent-format script."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = CELL.match(line)
        if match:
            kind = "markdown" if match["rest"].strip() == "[markdown]" else "code"
            found.append((kind, number, []))
        elif found:
            found[-1][2].append(line)
    return found


def test_tutorials_are_collected():
    names = [p.stem for p in TUTORIALS]
    for name in EXPECTED_FIGURES:
        assert name in names, f"tutorial {name}.py is missing from {TUTORIAL_DIR}"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_percent_format(path):
    text = path.read_text(encoding="utf-8")
    header = text.split("\n# ---\n", 1)[0]
    assert text.startswith("# ---\n") and "format_name: percent" in header, (
        f"{path.name} must start with a jupytext header declaring format_name: percent")
    found = cells(path)
    kinds = [kind for kind, _, _ in found]
    assert kinds[0] == "markdown" and "code" in kinds, f"{path.name}: title cell, then code"
    title = next(line for line in found[0][2] if line.strip())
    assert title.startswith("# # "), f"{path.name}: the first cell must hold a '# # Title'"
    for kind, line, source in found:
        if kind == "markdown":
            bad = [s for s in source if s.strip() and not s.startswith("#")]
            assert not bad, f"{path.name}, cell at line {line}: Markdown must be comments"
        else:
            compile("\n".join(source) + "\n", f"{path.name}:{line}", "exec")


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_and_writes_its_figures(path, tmp_path):
    out_root = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg", NMFBIO_TUTORIAL_OUT=str(out_root))
    proc = subprocess.run([sys.executable, "-W", "error", str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        f"{path.name} failed (exit {proc.returncode})\n--- stdout (end)\n"
        f"{proc.stdout[-3000:]}\n--- stderr (end)\n{proc.stderr[-5000:]}")
    assert proc.stderr == "", f"{path.name} wrote to stderr:\n{proc.stderr[-3000:]}"
    out = out_root / path.stem
    assert str(out.resolve()) in proc.stdout, f"{path.name} must tell where its figures go"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], (
        f"{path.name} wrote outside NMFBIO_TUTORIAL_OUT: {sorted(tmp_path.iterdir())}")
    pngs = sorted(out.rglob("*.png"))
    assert pngs, f"{path.name} wrote no figures into {out}"
    for png in pngs:
        with open(png, "rb") as f:
            assert f.read(8) == PNG_MAGIC, f"{png} is not a PNG file"
        assert png.stat().st_size > 10_000, f"{png} is suspiciously small"
    written = {p.relative_to(out).as_posix() for p in pngs}
    missing = sorted(set(EXPECTED_FIGURES.get(path.stem, [])) - written)
    assert not missing, f"{path.name} did not write {missing}; it wrote {sorted(written)}"
