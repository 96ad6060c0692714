"""The Snakemake workflow in workflows/: `snakemake --lint` is clean, and the tiny test config
runs end to end (in a temporary working directory) with the right content: domain signatures
gives the in-process unsharded `signatures.extract`, with matching and refitting; the generic
sharded rank selection and consensus (domain none) equal the unsharded ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("snakemake", reason="snakemake is not installed (pip install "
                                        "'nmfbio[workflow]')")

import nmfbio  # noqa: E402
from nmfbio.io import read_catalog  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflows" / "Snakefile"
TEST_CONFIG = REPO / "workflows" / "config" / "test.yaml"
BIN = Path(sys.executable).parent


def _snakemake(*args, cwd):
    """Run the snakemake of this Python with this environment's `nmfbio` first on PATH."""
    exe = BIN / "snakemake"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               NMFBIO_QUIET="1")
    return subprocess.run([*cmd, "-s", str(SNAKEFILE), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _repo_files():
    return {p for p in (REPO / "workflows").rglob("*") if ".snakemake" not in p.parts}


@pytest.mark.parametrize("config", ["test.yaml", "config.yaml"])
def test_lint_is_clean(tmp_path, config):
    done = _snakemake("--lint", "--configfile", str(REPO / "workflows" / "config" / config),
                      "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Congratulations, your workflow is in a good condition!" in done.stderr


def test_invalid_config_is_refused(tmp_path):
    done = _snakemake("-n", "--configfile", str(TEST_CONFIG), "--directory", str(tmp_path),
                      "--config", "domain=genes", cwd=tmp_path)
    text = done.stdout + done.stderr  # snakemake prints errors on stdout
    assert done.returncode != 0 and "'genes' is not one of" in text
    (tmp_path / "more.yaml").write_text("consensus: {restarts: 3, shards: 4}\n")
    done = _snakemake("-n", "--configfile", str(TEST_CONFIG), str(tmp_path / "more.yaml"),
                      "--config", "domain=none", "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert "consensus.shards = 4 exceeds consensus.restarts = 3" in done.stdout + done.stderr
    # domain signatures: its own shards are checked, the generic ones are not used
    done = _snakemake("-n", "--configfile", str(TEST_CONFIG), str(tmp_path / "more.yaml"),
                      "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "sig.yaml").write_text("signatures: {ranks: '1-2', shards: 3}\n")
    done = _snakemake("-n", "--configfile", str(TEST_CONFIG), str(tmp_path / "sig.yaml"),
                      "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert "signatures.shards = 3 but only 2 ranks" in done.stdout + done.stderr


HOSTILE = "X $(touch INJ1) || touch INJ2 #"
# keys whose value is a path: any string is a legal file name, so the schema accepts it and
# the rules quote it; the end-to-end tests below run real files named with shell syntax
PATH_KEYS = {"input", "signatures.reference", "signatures.fasta", "signatures.annotation",
             "assemblies.input"}


def _leaf_keys(schema, prefix=""):
    """Every key of the config schema that holds a value, dotted ('consensus.restarts'),
    with one sample rule name for the per-rule resources."""
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        if sub.get("type") == "object" or "properties" in sub:
            yield from _leaf_keys(sub, f"{key}.")
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict):
                yield from _leaf_keys(extra, f"{key}.consensus_shard.")
        else:
            yield key


def _nested(key, value):
    out = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def test_every_config_key_refuses_shell_syntax_by_name(tmp_path):
    """A value that reaches a shell is validated by the schema: shell metacharacters in any
    key but a path are refused with the key named (paths are quoted: tests below)."""
    import yaml
    from snakemake.utils import validate

    schema = yaml.safe_load((REPO / "workflows" / "schemas" / "config.schema.yaml").read_text())
    keys = sorted(_leaf_keys(schema))
    assert {"layer", "rank_selection.ranks", "programs.ranks", "assemblies.window",
            "resources.default.mem_mb", "resources.consensus_shard.runtime"} <= set(keys)
    assert len(keys) >= 35
    for key in keys:
        config = {"input": "data.tsv"} | _nested(key, HOSTILE)
        if key in PATH_KEYS:
            validate(config, str(REPO / "workflows" / "schemas" / "config.schema.yaml"))
            continue
        with pytest.raises(Exception, match="Error validating config file") as info:
            validate(config, str(REPO / "workflows" / "schemas" / "config.schema.yaml"))
        where = "".join(f"[{part!r}]" for part in key.split("."))
        assert f"On instance{where}" in str(info.value), key
    # a key that also takes a list: shell syntax as an item is refused too
    with pytest.raises(Exception, match="Error validating config file") as info:
        validate({"input": "data.tsv", "signatures": {"context": ["SBS96", HOSTILE]}},
                 str(REPO / "workflows" / "schemas" / "config.schema.yaml"))
    assert "On instance['signatures']['context']" in str(info.value)
    # the exploit through snakemake itself: refused, named, nothing run
    (tmp_path / "bad.yaml").write_text(f"layer: {HOSTILE!r}\n")
    done = _snakemake("--cores", "1", "--configfile", str(TEST_CONFIG),
                      str(tmp_path / "bad.yaml"), "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode != 0
    assert "On instance['layer']" in done.stdout + done.stderr
    assert not (tmp_path / "INJ1").exists() and not (tmp_path / "INJ2").exists()
    assert not (tmp_path / "results").exists()


def test_end_to_end_on_the_test_config(tmp_path):
    """Domain signatures: `nmfbio signatures extract` with its rank selection in two shard
    jobs gives the in-process unsharded extraction; matching and refitting see it."""
    import nmfbio.signatures as sg

    before = _repo_files()
    catalog = read_catalog(REPO / "nmfbio" / "datasets" / "data" / "breast21_sbs96.tsv")
    ex = sg.extract(catalog, range(1, 5), restarts=8, seed=0)  # the test config's options
    k = ex.rank
    ref = ex.signatures.copy()
    ref.columns = [f"REF{j + 1}" for j in range(k)]
    ref_name = f"reference {HOSTILE}.tsv"  # a legal file name full of shell syntax
    ref.to_csv(tmp_path / ref_name, sep="\t")  # COSMIC layout

    (tmp_path / "more.yaml").write_text(f"signatures: {{reference: {ref_name!r}}}\n")
    done = _snakemake("--cores", "2", "--configfile", str(TEST_CONFIG),
                      str(tmp_path / "more.yaml"), "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    res = tmp_path / "results"

    # the rank selection ran in the configured shards; the generic steps did not run
    shards = sorted(p.name for p in (res / "signatures" / "shards").iterdir())
    assert shards == ["rank-1-of-2.h5", "rank-2-of-2.h5"]
    assert not (res / "rank").exists() and not (res / "consensus").exists()
    first = (res / "signatures" / "rank_selection.tsv").read_text().splitlines()[0]
    assert first.startswith(f"# best={k};")

    # sharded == the unsharded extraction, exposures of the raw counts
    sigs = pd.read_csv(res / "signatures" / "signatures.tsv", sep="\t", index_col=0)
    pd.testing.assert_frame_equal(sigs, ex.signatures, check_names=False, rtol=0,
                                  atol=1e-12)
    expo = pd.read_csv(res / "signatures" / "exposures.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(expo.to_numpy(), ex.exposures.to_numpy(), rtol=1e-12)
    assert list(expo.index) == list(catalog.obs_names)

    # domain steps: one-to-one matches to the reference, refitted exposures, the report
    assert (res / "signatures" / "signatures.png").read_bytes()[:4] == b"\x89PNG"
    matches = pd.read_csv(res / "signatures" / "matches.tsv", sep="\t", index_col=0)
    assert list(matches["reference"]) == list(ref.columns)
    assert (matches["cosine"] > 0.999999).all()
    expo = pd.read_csv(res / "signatures" / "assign" / "exposures.tsv", sep="\t", index_col=0)
    assert list(expo.index) == list(catalog.obs_names)
    html = (res / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert f"Mutational signatures: {sigs.shape[1]} de novo SBS96 signatures" in html

    # every job logged; nothing written into the repository
    logs = {p.relative_to(tmp_path / "logs").as_posix() for p in (tmp_path / "logs").rglob("*.log")}
    assert {"convert.log", "signatures/shard-1-of-2.log", "signatures/shard-2-of-2.log",
            "signatures/extract.log", "signatures/assign.log", "report.log"} <= logs
    assert not (tmp_path / "INJ1").exists() and not (tmp_path / "INJ2").exists()
    assert _repo_files() == before


def test_generic_model_selection_in_shards(tmp_path):
    """Domain none: the generic rank selection and consensus, each in two shard jobs, equal
    the in-process unsharded ones at the rank that rank selection chose."""
    before = _repo_files()
    catalog = read_catalog(REPO / "nmfbio" / "datasets" / "data" / "breast21_sbs96.tsv")
    sel = nmfbio.select_rank(catalog, range(1, 5), repeats=2, restarts=2, seed=0, max_iter=300)
    k = sel.best
    con = nmfbio.consensus(catalog, k, restarts=8, seed=0, max_iter=300)
    done = _snakemake("--cores", "2", "--configfile", str(TEST_CONFIG), "--config",
                      "domain=none", "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    res = tmp_path / "results"
    first = (res / "rank" / "rank_selection.tsv").read_text().splitlines()[0]
    assert first.startswith(f"# best={k};")
    assert sorted(p.name for p in (res / "consensus").iterdir()) == [f"k{k}"]
    shards = sorted(p.name for p in (res / "consensus" / f"k{k}" / "shards").iterdir())
    assert shards == ["runs-1-of-2.h5", "runs-2-of-2.h5"]
    W = pd.read_csv(res / "consensus" / f"k{k}" / "W.tsv", sep="\t", index_col=0)
    assert list(W.index) == list(catalog.var_names)
    np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(W.to_numpy(), con.W, rtol=0, atol=1e-12)
    H = pd.read_csv(res / "consensus" / f"k{k}" / "H.tsv", sep="\t", index_col=0)
    assert list(H.columns) == list(catalog.obs_names)
    assert (res / "report.html").is_file() and not (res / "signatures").exists()
    logs = {p.relative_to(tmp_path / "logs").as_posix() for p in (tmp_path / "logs").rglob("*.log")}
    assert {"convert.log", "rank/combine.log", f"consensus/k{k}/combine.log",
            "rank/shard-1-of-2.log"} <= logs
    assert _repo_files() == before


def test_assemblies_domain_on_a_spike_table(tmp_path):
    """domain: assemblies without model selection: a generated spike table (times in ms)
    → `nmfbio assemblies detect` with the config's options → the report's section."""
    from nmfbio.assemblies import AssemblyResult
    from nmfbio.datasets.assemblies import planted_assemblies

    before = _repo_files()
    rec = planted_assemblies(n_units=16, n_assemblies=1, duration=80, size_range=(6, 6),
                             active_range=(0.05, 0.05), seed=5)
    rows = [(u, 1000 * t) for u in rec.unit_ids for t in rec.trains[u]]
    spikes = f"spikes {HOSTILE}.csv"  # a legal file name full of shell syntax
    pd.DataFrame(rows, columns=["unit", "time"]).to_csv(tmp_path / spikes, index=False)
    (tmp_path / "assemblies.yaml").write_text(
        f"input: {spikes!r}\ndomain: assemblies\nmodel_selection: false\nseed: 3\n"
        "assemblies: {bin_width: 0.025, window: [0, 80], time_unit: ms}\nreport: true\n")
    done = _snakemake("--cores", "2", "--configfile", str(tmp_path / "assemblies.yaml"),
                      "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    out = tmp_path / "results" / "assemblies"
    res = AssemblyResult.load(out / "assemblies.h5")
    rows = [rec.unit_ids.index(u) for u in res.weights.index]  # ids sorted as strings
    np.testing.assert_array_equal(res.counts, rec.counts[rows])  # window, time unit passed on
    assert res.params["seed"] == 3 and res.params["method"] == "gated-nmf"
    for name in ("members.tsv", "summary.tsv", "activations.tsv", "events.tsv", "raster.png",
                 "membership.png", "activations.png", "null.png"):
        assert (out / name).is_file(), name
    log = (tmp_path / "logs" / "assemblies" / "detect.log").read_text()
    assert res.summary() in log
    html = (tmp_path / "results" / "report.html").read_text(encoding="utf-8")
    k = res.n_assemblies
    assert f"Neural assemblies: {k} assembl{'y' if k == 1 else 'ies'}" in html
    assert not (tmp_path / "results" / "data").exists()  # no conversion, no model selection
    assert not (tmp_path / "INJ1").exists() and not (tmp_path / "INJ2").exists()
    assert _repo_files() == before


def test_variants_reader_counts_the_configured_type(tmp_path):
    """reader: variants with signatures.context ID83: a folder of VCFs and a FASTA (both
    named with shell syntax) → `nmfbio signatures catalog --context ID83` → model selection
    → ID83 profiles and the report; the catalog equals SigProfilerMatrixGenerator's."""
    import shutil

    before = _repo_files()
    spmg = REPO / "tests" / "data" / "spmg"
    vcfs = tmp_path / f"calls {HOSTILE}"
    vcfs.mkdir()
    for vcf in (spmg / "vcf").glob("T*.vcf"):
        shutil.copy(vcf, vcfs / vcf.name)
    genome = f"genome {HOSTILE}.fa"
    shutil.copy(spmg / "genome.fa", tmp_path / genome)
    (tmp_path / "variants.yaml").write_text(
        f"input: {vcfs.name!r}\nreader: variants\ndomain: signatures\nseed: 0\n"
        f"signatures: {{fasta: {genome!r}, context: ID83, ranks: '1-2', restarts: 4, "
        "shards: 2}\n"
        "report: true\n")
    done = _snakemake("--cores", "2", "--configfile", str(tmp_path / "variants.yaml"),
                      "--directory", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    ours = pd.read_csv(tmp_path / "results" / "data" / "catalog.tsv", sep="\t", index_col=0)
    theirs = pd.read_csv(spmg / "fixt.ID83.all", sep="\t", index_col=0)
    pd.testing.assert_frame_equal(ours.loc[theirs.index, theirs.columns], theirs,
                                  check_dtype=False)
    sigs = tmp_path / "results" / "signatures"
    W = pd.read_csv(sigs / "signatures.tsv", sep="\t", index_col=0)
    k = int((sigs / "rank_selection.tsv").read_text().split(";")[0].removeprefix("# best="))
    assert W.shape[0] == 83 and W.index[0] == "1:Del:C:0" and W.columns[0] == "ID83A"
    assert 1 <= W.shape[1] <= k  # merged components leave fewer than the chosen rank
    assert (sigs / "signatures.png").is_file() and (tmp_path / "results" / "report.html").is_file()
    assert not (tmp_path / "INJ1").exists() and not (tmp_path / "INJ2").exists()
    assert _repo_files() == before


def test_variants_reader_with_several_types_runs_a_joint_extraction(tmp_path):
    """signatures.context [SBS96, ID83]: both catalogs counted from the same VCFs (equal to
    SigProfilerMatrixGenerator's), one joint extraction of them (one profile per type,
    shared exposures), the report shows it; a reference or a catalog reader is refused."""
    import shutil

    spmg = REPO / "tests" / "data" / "spmg"
    vcfs = tmp_path / "calls"
    vcfs.mkdir()
    for vcf in (spmg / "vcf").glob("T*.vcf"):
        shutil.copy(vcf, vcfs / vcf.name)
    shutil.copy(spmg / "genome.fa", tmp_path / "genome.fa")
    config = tmp_path / "joint.yaml"
    config.write_text(
        "input: calls\nreader: variants\ndomain: signatures\nseed: 0\nreport: true\n"
        "signatures: {fasta: genome.fa, context: [SBS96, ID83], ranks: '1-2', restarts: 4,\n"
        "             normalize: 1000, weights: equal}\n")
    for extra, said in (("signatures: {reference: ref.tsv}", "leave the reference out"),
                        ("reader: catalog", "set reader: variants (or give one type)"),
                        ("domain: none", "domain none models one matrix: give one type")):
        (tmp_path / "bad.yaml").write_text(extra + "\n")
        done = _snakemake("-n", "--configfile", str(config), str(tmp_path / "bad.yaml"),
                          "--directory", str(tmp_path), cwd=tmp_path)
        assert done.returncode != 0 and said in done.stdout + done.stderr
    done = _snakemake("--cores", "2", "--configfile", str(config), "--directory",
                      str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    data = tmp_path / "results" / "data"
    for t in ("SBS96", "ID83"):
        ours = pd.read_csv(data / f"catalog.{t}.tsv", sep="\t", index_col=0)
        theirs = pd.read_csv(spmg / f"fixt.{t}.all", sep="\t", index_col=0)
        pd.testing.assert_frame_equal(ours.loc[theirs.index, theirs.columns], theirs,
                                      check_dtype=False)
    sigs = tmp_path / "results" / "signatures"
    shares = pd.read_csv(sigs / "shares.tsv", sep="\t", index_col=0)
    assert list(shares.columns) == ["SBS96", "ID83"]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    for t, n in (("SBS96", 96), ("ID83", 83)):
        W = pd.read_csv(sigs / f"signatures.{t}.tsv", sep="\t", index_col=0)
        assert W.shape == (n, len(shares)) and list(W.columns) == list(shares.index)
        np.testing.assert_allclose(W.sum(axis=0), 1.0)
    res = nmfbio.signatures.JointExtractionResult.load(sigs / "joint.h5")
    assert res.types == ["SBS96", "ID83"] and res.params["seed"] == 0
    # the config's options reached the extraction
    assert res.params["normalization"]["method"] == 1000 and res.params["weights"] == "equal"
    assert res.params["restarts"] == 4 and res.params["ranks"] == [1, 2]
    page = (tmp_path / "results" / "report.html").read_text(encoding="utf-8")
    assert "joint signatures over SBS96, ID83" in page
    assert not (sigs / "shards").exists() and not (data / "catalog.tsv").exists()
