"""Hostile input against the command line, by class (issue 16): for the readers, truncated
and corrupt compressed files and duplicate names; for the writers, output = input, inside an
input, an existing folder, a temporary left by a killed writer; for CLI numbers, reversed,
zero, negative, NaN and too large; and the ten holes of the second hostile corpus. Every
case: exit 2, one located paragraph, no traceback, no partial output, inputs untouched."""

from __future__ import annotations

import gzip
import os
import re
import time

import anndata
import numpy as np
import pandas as pd
import pytest

from nmfbio.cli import main


def _error(capsys, *fragments):
    """The one-paragraph error on stderr, with every fragment in it."""
    err = capsys.readouterr().err
    assert "Traceback" not in err and "probably a bug" not in err, err
    line = [x for x in err.splitlines() if x.startswith("nmfbio: error: ") or "error:" in x]
    assert line, err
    for text in fragments:
        assert text in err, (text, err)
    return err


@pytest.fixture
def counts():
    rng = np.random.default_rng(1)
    X = rng.poisson(rng.gamma(1.0, 4.0, (15, 2)) @ rng.gamma(1.0, 1.0, (2, 24)) + 0.5)
    return pd.DataFrame(X.astype(float), index=[f"g{i}" for i in range(15)],
                        columns=[f"s{j}" for j in range(24)])


@pytest.fixture
def csv(tmp_path, counts):
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index_label="gene")
    return path


# ------------------------------------------------------------------------ readers
@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_gzip_matrix_is_a_located_format_error(tmp_path, counts, capsys, cut):
    big = pd.concat([counts] * 40, ignore_index=False)
    big.index = [f"g{i}" for i in range(len(big))]
    data = gzip.compress(big.to_csv(index_label="gene").encode())
    path = tmp_path / "counts.csv.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    assert main(["fit", str(path), "-k", "2", "-o", str(tmp_path / "out")]) == 2
    _error(capsys, "counts.csv.gz: the compressed file is truncated or corrupt")
    assert not (tmp_path / "out").exists()


def test_corrupt_gzip_body_is_a_located_format_error(tmp_path, counts, capsys):
    data = bytearray(gzip.compress(counts.to_csv(index_label="gene").encode()))
    data[30:60] = bytes(30)  # zeroed deflate data
    path = tmp_path / "counts.tsv.gz"
    path.write_bytes(bytes(data))
    assert main(["fit", str(path), "-k", "2", "-o", str(tmp_path / "out")]) == 2
    _error(capsys, "counts.tsv.gz")


@pytest.mark.parametrize("text, where", [
    ("gene,s1,s1,s2\ng1,1,2,3\ng2,4,5,6\n", "the column name 's1' appears twice (columns 2 "
                                             "and 3 of the header)"),
    ("gene,s1,s2\ng1,1,2\ng2,4,5\ng1,1,1\n", "the row name 'g1' appears twice (rows 1 and 3 "
                                             "of the data)"),
])
def test_duplicate_names_in_a_plain_matrix_are_refused(tmp_path, capsys, text, where):
    path = tmp_path / "dup.csv"
    path.write_text(text)
    assert main(["fit", str(path), "-k", "1", "-o", str(tmp_path / "out")]) == 2
    _error(capsys, "dup.csv: ", where)
    assert not (tmp_path / "out").exists()


def test_wrong_encoding_is_a_located_error(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("gene,s\xe91,s2\ng1,1,2\ng2,3,4\n".encode("latin-1"))
    assert main(["fit", str(path), "-k", "1", "-o", str(tmp_path / "out")]) == 2
    _error(capsys, "latin1.csv")


def test_kl_on_log_normalised_h5ad_warns(tmp_path, counts, capsys):
    ad = anndata.AnnData(np.log1p(counts.T.to_numpy()))
    ad.obs_names, ad.var_names = list(counts.columns), list(counts.index)
    ad.write_h5ad(tmp_path / "lognorm.h5ad")
    assert main(["fit", str(tmp_path / "lognorm.h5ad"), "-k", "2", "--loss", "kl", "-q",
                 "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"--loss kl models counts, but \S*lognorm.h5ad holds \d+ non-integer "
                     r"value\(s\), e.g. [0-9.]+ for sample 's0', feature 'g0'", err), err
    assert "--layer counts" in err and "--loss frobenius" in err
    ad.X = counts.T.to_numpy()  # raw counts: no warning
    ad.write_h5ad(tmp_path / "raw.h5ad")
    assert main(["fit", str(tmp_path / "raw.h5ad"), "-k", "2", "--loss", "kl", "-q",
                 "-o", str(tmp_path / "out2")]) == 0
    assert "non-integer" not in capsys.readouterr().err


# ------------------------------------------------------------------------ writers
def test_report_never_replaces_a_file_of_its_input_folder(tmp_path, csv, capsys):
    fit = tmp_path / "fitdir"
    assert main(["fit", str(csv), "-k", "2", "-q", "-o", str(fit)]) == 0
    before = (fit / "W.tsv").read_bytes()
    assert main(["report", str(fit), "-o", str(fit / "W.tsv")]) == 2
    _error(capsys, "refusing to write", "W.tsv: it is a file of the input", "fitdir")
    assert (fit / "W.tsv").read_bytes() == before
    # a new file inside the folder is fine, and so is replacing an earlier report there
    for _ in range(2):
        assert main(["report", str(fit), "-o", str(fit / "report.html"), "-q"]) == 0
    assert (fit / "report.html").read_text().lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize("argv", [
    ["convert", "{csv}", "-o", "{folder}"],
    ["signatures", "catalog", "{csv}", "-o", "{folder}"],
    ["report", "{fit}", "-o", "{folder}"],
])
def test_output_file_that_is_an_existing_folder_fails_before_any_work(tmp_path, csv, capsys,
                                                                      argv):
    fit = tmp_path / "fitdir"
    assert main(["fit", str(csv), "-k", "2", "-q", "-o", str(fit)]) == 0
    folder = tmp_path / "exists.h5ad"
    folder.mkdir()
    args = [a.format(csv=csv, folder=folder, fit=fit) for a in argv]
    assert main(args) == 2
    _error(capsys, "exists.h5ad")
    assert list(folder.iterdir()) == []


def test_temporary_left_by_a_killed_writer_is_removed_by_the_next_write(tmp_path, csv,
                                                                        capsys):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".W.tsv.k1ll3d.tsv"
    stale.write_text("half a table")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = out / ".H.tsv.wr1t1ng.tsv"  # a writer of H.tsv running right now
    fresh.write_text("being written")
    assert main(["fit", str(csv), "-k", "2", "-q", "-o", str(out)]) == 0
    assert not stale.exists() and fresh.exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "H.tsv", "W.tsv", "result.h5"]


def test_input_is_never_an_output(tmp_path, counts, capsys):
    path = tmp_path / "data.h5ad"
    anndata.AnnData(counts.T).write_h5ad(path)
    before = path.read_bytes()
    assert main(["convert", str(path), "-o", str(path)]) == 2
    _error(capsys, "refusing to write", "it is one of the inputs")
    assert path.read_bytes() == before


# ------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("ranks, message", [
    ("4-2,1", "--ranks: the range '4-2' runs backwards; write '2-4'"),
    ("5-2", "--ranks: the range '5-2' runs backwards; write '2-5'"),
    ("0-3", "--ranks: ranks start at 1, got 0 in '0-3'"),
    ("-2", "--ranks must look like '1-10' or '2,3,5', got '-2'"),
    ("1,,3", "--ranks must look like '1-10' or '2,3,5', got '1,,3' (the part '' is not"),
    ("nan", "--ranks must look like '1-10' or '2,3,5', got 'nan'"),
])
@pytest.mark.parametrize("command", [["rank"], ["signatures", "extract"]])
def test_rank_lists_are_parsed_by_one_parser(tmp_path, csv, capsys, ranks, message,
                                             command):
    from nmfbio.datasets import DATA_DIR

    data = csv if command == ["rank"] else DATA_DIR / "breast21_sbs96.tsv"
    assert main([*command, str(data), "--ranks", ranks, "-o", str(tmp_path / "out")]) == 2
    _error(capsys, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value, message", [
    ("--rank", "0", "expected an integer >= 1, got 0"),
    ("--rank", "-3", "expected an integer >= 1, got -3"),
    ("--rank", "nan", "expected an integer >= 1, got 'nan'"),
    ("--restarts", "0", "expected an integer >= 1, got 0"),
    ("--l1-h", "-1", "expected a finite number >= 0, got '-1'"),
    ("--l1-h", "nan", "expected a finite number >= 0, got 'nan'"),
    ("--tol", "inf", "expected a finite number >= 0, got 'inf'"),
    ("--seed", "-1", "expected an integer >= 0, got -1"),
    ("--max-iter", "1e3", "expected an integer >= 1, got '1e3'"),
])
def test_cli_numbers_refused_with_the_option_named(tmp_path, csv, capsys, option, value,
                                                   message):
    assert main(["fit", str(csv), "-k", "2", option, value, "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "error: argument " in err and option in err and message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("value, message", [
    ("0", "expected a cosine in (0, 1], got '0'"),
    ("1.5", "expected a cosine in (0, 1], got '1.5'"),
    ("nan", "expected a cosine in (0, 1], got 'nan'"),
    ("-0.9", "expected a cosine in (0, 1], got '-0.9'"),
])
def test_merge_cosine_refused_before_reading(tmp_path, capsys, value, message):
    missing = tmp_path / "no_such_catalog.tsv"  # never read: the option fails first
    assert main(["signatures", "extract", str(missing), "--merge", value,
                 "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "error: argument " in err and "--merge" in err and message in err, err
    assert "no_such_catalog" not in err and not (tmp_path / "o").exists()


def test_rank_too_large_names_the_limit(tmp_path, csv, capsys):
    assert main(["fit", str(csv), "-k", "500", "-o", str(tmp_path / "o")]) == 2
    _error(capsys, "rank must be between 1 and min(n_features, n_samples) = 15", "got 500")


# ------------------------------------------------------------------------ the corpus's holes
def _spikes(tmp_path, duration=60.0):
    rng = np.random.default_rng(0)
    rows = [(u, float(t)) for u in range(6)
            for t in np.sort(rng.uniform(0, duration, size=200))]
    path = tmp_path / "spikes.csv"
    pd.DataFrame(rows, columns=["unit", "time"]).to_csv(path, index=False)
    return path


def test_bin_width_longer_than_the_recording(tmp_path, capsys):
    path = _spikes(tmp_path)
    out = tmp_path / "asm"
    assert main(["assemblies", "detect", str(path), "--bin-width", "1000", "-o", str(out)]) == 2
    err = _error(capsys, "--bin-width 1000 s is longer than the spikes' span (the last spike "
                         "is at 59.")
    assert "1000 s long" not in err and "bin_width=" not in err
    assert not out.exists()


def test_empty_spike_table_is_recognised_without_format(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("unit,time\n")
    assert main(["assemblies", "detect", str(path), "--bin-width", "0.05",
                 "-o", str(tmp_path / "asm")]) == 2
    err = _error(capsys, "empty.csv")
    assert "--bins-in" not in err


def test_cli_advice_uses_cli_options_not_python_arguments(tmp_path, capsys):
    path = _spikes(tmp_path, duration=30.0)  # 30 s: too short for 5 blocks of 10 s
    assert main(["assemblies", "detect", str(path), "--bin-width", "0.05", "--window", "0",
                 "30", "-o", str(tmp_path / "asm")]) == 2
    err = _error(capsys, "pass a smaller --block")
    assert "block=" not in err
    assert main(["assemblies", "detect", str(path), "--bin-width", "0.05", "--window", "0",
                 "30", "--block", "5", "-q", "-o", str(tmp_path / "asm")]) == 0
    nan = tmp_path / "nan.csv"
    nan.write_text("gene,s1,s2\ng1,1,NA\ng2,3,4\n")
    assert main(["fit", str(nan), "-k", "1", "-o", str(tmp_path / "o")]) == 2
    err = _error(capsys, "NaN value(s)")
    assert "mask=False" not in err


def test_anchors_at_full_rank_reports_an_exact_fit(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.poisson(5, (6, 10)).astype(float),
                     index=[f"g{i}" for i in range(6)], columns=[f"s{j}" for j in range(10)])
    X.to_csv(tmp_path / "x.csv", index_label="gene")
    assert main(["anchors", str(tmp_path / "x.csv"), "-k", "6", "--seed", "0",
                 "-o", str(tmp_path / "anch")]) == 0
    out = capsys.readouterr().out
    assert "NMF fits the data exactly at this rank" in out
    assert not re.search(r"\d{15,}", out)  # no 300-digit percentage


def test_vcf_record_past_the_contig_end_warns_on_stderr(tmp_path, capsys):
    fasta = tmp_path / "g.fa"
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 300))
    fasta.write_text(">chr1\n" + "\n".join(seq[i:i + 60] for i in range(0, 300, 60)) + "\n")
    records = [(p, seq[p - 1], "A" if seq[p - 1] != "A" else "C") for p in range(20, 260, 3)]
    records.append((5000, "A", "G"))
    body = "".join(f"chr1\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t0/1\n" for p, r, a in records)
    (tmp_path / "t.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=300>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1\n" + body)
    assert main(["signatures", "catalog", str(tmp_path / "t.vcf"), "--fasta", str(fasta),
                 "--max-ref-mismatch", "0.05", "-q", "-o", str(tmp_path / "cat.tsv")]) == 0
    err = capsys.readouterr().err
    assert ("1 record(s) lie past the end of their chromosome in the FASTA" in err
            and "chr1:5000 on line" in err and "(chr1 has 300 bases)" in err), err


def test_zero_feature_warning_once_and_by_name(tmp_path, capsys):
    (tmp_path / "z.csv").write_text("gene,s1,s2,s3\ng1,1,0,2\ng2,0,0,0\ng3,3,4,1\n")
    assert main(["consensus", str(tmp_path / "z.csv"), "-k", "1", "--restarts", "3", "-q",
                 "-o", str(tmp_path / "con")]) == 0
    err = capsys.readouterr().err
    assert err.count("all zero") == 1 and "e.g. 'g2'" in err, err


def test_interrupted_result_set_is_never_taken_for_a_finished_one(tmp_path, csv, capsys,
                                                                   monkeypatch):
    """Killed between W.tsv and consensus.h5: the folder's manifest still says 'writing', so
    the report refuses it, naming the command to rerun; a finished rerun is accepted, and a
    file changed afterwards is refused."""
    import json

    from nmfbio._atomic import MANIFEST
    from nmfbio.model_selection import ConsensusResult

    out = tmp_path / "con"

    def killed(self, path):
        raise KeyboardInterrupt  # what a SIGINT between two files does

    monkeypatch.setattr(ConsensusResult, "save", killed)
    assert main(["consensus", str(csv), "-k", "2", "--restarts", "3", "-q",
                 "-o", str(out)]) == 130
    assert (out / "W.tsv").is_file() and not (out / "consensus.h5").exists()
    state = json.loads((out / MANIFEST).read_text())["files"]
    assert state["W.tsv"]["state"] == "writing" == state["consensus.h5"]["state"]
    capsys.readouterr()
    monkeypatch.undo()
    (out / "consensus.h5").write_bytes(b"")  # even a placeholder does not make it complete
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 2
    _error(capsys, "never finished: nmfbio consensus was interrupted", "run it again")
    assert main(["consensus", str(csv), "-k", "2", "--restarts", "3", "-q",
                 "-o", str(out)]) == 0
    assert main(["report", str(out), "-o", str(tmp_path / "r.html"), "-q"]) == 0
    with open(out / "stability.tsv", "a") as f:
        f.write("# edited\n")
    assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 2
    _error(capsys, "stability.tsv: this file changed after nmfbio consensus wrote it")


@pytest.mark.parametrize("spec", ["3/2", "0/2", "x", "nan/2", "-1/2"])
def test_extract_shard_spec_refused_before_reading(tmp_path, capsys, spec):
    missing = tmp_path / "no_such_catalog.tsv"  # never read: the option fails first
    assert main(["signatures", "extract", str(missing), "--seed", "0", f"--shard={spec}",
                 "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "argument --shard: a shard must be I/N with 1 <= I <= N" in err and spec in err
    assert "no_such_catalog" not in err and not (tmp_path / "o").exists()


def test_extract_rank_shards_truncated_or_wrong_kind(tmp_path, capsys):
    """A truncated shard file, a file that is not a shard, and consensus runs given as rank
    shards: each named, exit 2, nothing written."""
    from cohorts import cohort

    from nmfbio.model_selection._shards import consensus_runs
    from nmfbio.signatures.extract import extract_rank_shard

    cat, _, _ = cohort(2, 30, 1)
    cat_path = tmp_path / "catalog.tsv"
    cat.to_csv(cat_path, sep="\t", index_label="MutationType")
    good = tmp_path / "rank-1-of-1.h5"
    extract_rank_shard(cat, range(1, 3), repeats=2, seed=0).save(good)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[:200])  # killed while copying
    runs = tmp_path / "runs.h5"
    consensus_runs(cat.to_numpy(float), 2, restarts=2, seed=0).save(runs)
    cases = [(cut, "not an HDF5 file"), (cat_path, "not an HDF5 file"),
             (runs, "cannot combine rank-selection shards with consensus runs")]
    for path, message in cases:
        assert main(["signatures", "extract", str(cat_path), "--ranks", "1-2", "--seed", "0",
                     "--rank-shards", str(path), "-o", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and path.name in err, err
        assert not (tmp_path / "o").exists()
