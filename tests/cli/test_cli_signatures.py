"""``nmfbio signatures catalog | extract | match | assign | plot`` end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from cohorts import cohort, realistic_signatures, typed_cohort, typed_signatures

from nmfbio.cli import main
from nmfbio.datasets import DATA_DIR


@pytest.fixture
def files(tmp_path):
    cat, S, _ = cohort(3, 60, 11)
    cat_path = tmp_path / "catalog.tsv"
    cat.to_csv(cat_path, sep="\t", index_label="MutationType")
    ref = pd.concat([S, realistic_signatures(6, 12).iloc[:, 2:].add_prefix("D")], axis=1)
    ref_path = tmp_path / "reference.txt"
    ref.to_csv(ref_path, sep="\t", index_label="Type")
    return cat_path, ref_path


def test_extract_match_assign_plot(tmp_path, files, capsys):
    cat_path, ref_path = files
    out = tmp_path / "extract"
    assert main(["signatures", "extract", str(cat_path), "--ranks", "2-4", "--restarts", "8",
                 "--seed", "0", "--reference", str(ref_path), "-o", str(out)]) == 0
    assert "3 de novo signatures" in capsys.readouterr().out
    sigs = pd.read_csv(out / "signatures.tsv", sep="\t", index_col=0)
    assert sigs.index.name == "Type" and sigs.shape == (96, 3)
    assert sigs.index[0] == "A[C>A]A" and sigs.index[4] == "A[C>G]A"  # COSMIC order
    expo = pd.read_csv(out / "exposures.tsv", sep="\t", index_col=0)
    assert expo.shape == (60, 3)
    matches = pd.read_csv(out / "matches.tsv", sep="\t", index_col=0)
    assert matches["match"].all() and set(matches["reference"]) == {"T1", "T2", "T3"}
    for name in ("signatures.png", "exposures.png", "rank_selection.png", "stability.png"):
        assert (out / name).stat().st_size > 1000
    norm = pd.read_csv(out / "normalization.tsv", sep="\t", index_col=0, skiprows=1)
    cat = pd.read_csv(cat_path, sep="\t", index_col=0)
    cut = norm["fitted_as"].max()
    assert list(norm.index[norm["scaled"]]) == list(cat.columns[cat.sum() > cut])
    assert (out / "normalization.tsv").read_text().startswith("# ")
    assert main(["signatures", "extract", str(cat_path), "--ranks", "3", "--restarts", "4",
                 "--seed", "0", "--normalize", "5000", "-o", str(tmp_path / "e5000")]) == 0
    assert "more than 5,000 mutations (the cutoff)" in capsys.readouterr().out
    assert main(["signatures", "extract", str(cat_path), "--normalize", "zscore", "-o",
                 str(tmp_path / "bad")]) == 2
    assert "normalize must be one of" in capsys.readouterr().err

    out2 = tmp_path / "match"
    assert main(["signatures", "match", str(out / "signatures.tsv"), "--reference",
                 str(ref_path), "-o", str(out2)]) == 0
    assert (out2 / "cosine.png").is_file() and (out2 / "decomposition.tsv").is_file()

    out3 = tmp_path / "assign"
    assert main(["signatures", "assign", str(cat_path), "--reference", str(ref_path),
                 "--bootstrap", "5", "--seed", "0", "-o", str(out3)]) == 0
    assigned = pd.read_csv(out3 / "exposures.tsv", sep="\t", index_col=0)
    assert set(assigned.columns[(assigned > 0).any()]) <= {"T1", "T2", "T3"}
    assert (out3 / "exposures_lower.tsv").is_file()
    out4 = tmp_path / "assign_lik"
    assert main(["signatures", "assign", str(cat_path), "--reference", str(ref_path),
                 "--method", "likelihood", "-o", str(out4)]) == 0
    lik = pd.read_csv(out4 / "exposures.tsv", sep="\t", index_col=0)
    assert set(lik.columns[(lik > 0).any()]) <= {"T1", "T2", "T3"}
    cat = pd.read_csv(cat_path, sep="\t", index_col=0)
    assert ((lik.sum(axis=1) - cat.sum()).abs() / cat.sum()).max() < 0.05  # Poisson fit

    fig = tmp_path / "sigs.pdf"
    assert main(["signatures", "plot", str(out / "signatures.tsv"), "-o", str(fig)]) == 0
    assert fig.read_bytes()[:4] == b"%PDF"


def test_catalog_from_bundled_matrix_and_errors(tmp_path, capsys):
    out = tmp_path / "cat.tsv"
    assert main(["signatures", "catalog", str(DATA_DIR / "breast21_sbs96.tsv"), "-o",
                 str(out)]) == 0
    back = pd.read_csv(out, sep="\t", index_col=0)
    assert back.shape == (96, 21) and int(back.to_numpy().sum()) == 183916
    capsys.readouterr()
    vcf = tmp_path / "x.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert main(["signatures", "catalog", str(vcf), "-o", str(tmp_path / "c.tsv")]) == 2
    assert "--fasta is needed" in capsys.readouterr().err
    assert main(["signatures", "extract", str(tmp_path / "missing.tsv"), "-o",
                 str(tmp_path / "o")]) == 2


def test_catalog_of_several_types_from_vcfs(tmp_path, capsys):
    spmg = Path(__file__).parents[1] / "data" / "spmg"
    vcfs = sorted(str(p) for p in (spmg / "vcf").glob("T*.vcf"))
    out = tmp_path / "cohort.tsv"
    assert main(["signatures", "catalog", *vcfs, "--fasta", str(spmg / "genome.fa"),
                 "--context", "SBS96,DBS78,ID83,SBS288", "--annotation",
                 str(spmg / "genes.gtf"), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "DBS78 catalog of 4 samples, 53 mutations" in said
    assert "skipped: {'mnv': 1, 'complex': 1}" in said
    for kind in ("SBS96", "DBS78", "ID83", "SBS288"):
        ours = pd.read_csv(tmp_path / f"cohort.{kind}.tsv", sep="\t", index_col=0)
        theirs = pd.read_csv(spmg / (f"fixt_noseqinfo.{kind}.all" if kind == "DBS78"
                                     else f"fixt.{kind}.all"), sep="\t", index_col=0)
        pd.testing.assert_frame_equal(ours.loc[theirs.index, theirs.columns], theirs,
                                      check_dtype=False)
    assert not out.exists()
    assert main(["signatures", "catalog", *vcfs, "--fasta", str(spmg / "genome.fa"),
                 "--context", "SBS288", "-o", str(out)]) == 2
    assert "SBS288 need the transcriptional strand" in capsys.readouterr().err


def test_extract_and_plot_a_dbs78_catalog(tmp_path, capsys):
    cat, S, _ = typed_cohort("DBS78", k=2, n=40, seed=3)
    path = tmp_path / "cohort.DBS78.tsv"
    cat.to_csv(path, sep="\t", index_label="MutationType")
    out = tmp_path / "dbs"
    assert main(["signatures", "extract", str(path), "--ranks", "1-3", "--restarts", "6",
                 "--seed", "0", "-o", str(out)]) == 0
    sigs = pd.read_csv(out / "signatures.tsv", sep="\t", index_col=0)
    assert list(sigs.columns) == ["DBS78A", "DBS78B"] and sigs.shape[0] == 78
    assert (out / "signatures.png").stat().st_size > 10_000
    assert main(["signatures", "plot", str(out / "signatures.tsv"), "-o",
                 str(tmp_path / "p.svg")]) == 0
    assert "band CC" in (tmp_path / "p.svg").read_text()  # the DBS78 layout, not SBS96


def test_attribute_writes_probabilities_beside_the_exposures(tmp_path, capsys):
    spmg = Path(__file__).parents[1] / "data" / "spmg"
    vcfs = sorted(str(p) for p in (spmg / "vcf").glob("T*.vcf"))
    sigs = typed_signatures("ID83", 2, seed=1)
    sigs.to_csv(tmp_path / "signatures.tsv", sep="\t", index_label="Type")
    expo = pd.DataFrame({"T1": [10.0, 20.0], "T2": [5.0, 0.0], "T3": [1.0, 1.0],
                         "T4": [0.0, 9.0]}, index=sigs.columns).T
    expo.to_csv(tmp_path / "exposures.tsv", sep="\t", index_label="Samples")
    assert main(["signatures", "attribute", *vcfs, "--fasta", str(spmg / "genome.fa"),
                 "--signatures", str(tmp_path / "signatures.tsv"), "--exposures",
                 str(tmp_path / "exposures.tsv")]) == 0
    assert "135 ID83 mutations of 4 samples" in capsys.readouterr().out
    prob = pd.read_csv(tmp_path / "probabilities.tsv", sep="\t")
    assert list(prob.columns[:7]) == ["sample", "mutation_type", "chrom", "pos", "ref", "alt",
                                      "channel"]
    assert (prob.loc[prob["sample"] == "T2", "T1"] == 1.0).all()  # T2 has only T1
    assert (prob.loc[prob["sample"] == "T4", "most_likely"] == "T2").all()


def test_opportunities_and_convert(tmp_path, capsys):
    import numpy as np

    spmg = Path(__file__).parents[1] / "data" / "spmg"
    bed = tmp_path / "kit.bed"
    bed.write_text("1\t1000\t3000\n2\t0\t500\n")
    genome, exome = tmp_path / "genome.tsv", tmp_path / "exome.tsv"
    assert main(["signatures", "opportunities", str(spmg / "genome.fa"), "-o",
                 str(genome)]) == 0
    assert main(["signatures", "opportunities", str(spmg / "genome.fa"), "--regions",
                 str(bed), "-o", str(exome)]) == 0
    said = capsys.readouterr().out
    assert f"32 contexts, {2000 - 2 + 500 - 2} in the regions of {bed}" in said
    opp = pd.read_csv(exome, sep="\t", index_col=0)
    assert list(opp.columns) == ["Count"] and opp.index[0] == "ACA"
    sigs = realistic_signatures(3, seed=2)
    sigs.to_csv(tmp_path / "sigs.tsv", sep="\t", index_label="Type")
    out = tmp_path / "sigs_exome.tsv"
    assert main(["signatures", "convert", str(tmp_path / "sigs.tsv"), "--source", str(genome),
                 "--target", str(exome), "-o", str(out)]) == 0
    got = pd.read_csv(out, sep="\t", index_col=0)
    from nmfbio.signatures import convert_opportunities
    want = convert_opportunities(sigs, pd.read_csv(genome, sep="\t", index_col=0)["Count"],
                                 opp["Count"])
    np.testing.assert_allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-9)
    (tmp_path / "bad.tsv").write_text("Context\tCount\nACA\tmany\n")
    assert main(["signatures", "convert", str(tmp_path / "sigs.tsv"), "--source",
                 str(tmp_path / "bad.tsv"), "--target", str(exome), "-o", str(out)]) == 2
    assert "bad.tsv, line 2, column 2: count 'many' is not a number" in capsys.readouterr().err


def test_extract_in_rank_shards_equals_one_run(tmp_path, files, capsys):
    cat_path, _ = files
    opts = ["--ranks", "1-4", "--restarts", "8", "--seed", "3"]
    for i in (1, 2):
        assert main(["signatures", "extract", str(cat_path), *opts, "--shard", f"{i}/2",
                     "-o", str(tmp_path / "shards")]) == 0
    assert "rank-selection shard 2/2 of the extraction: scored ranks 2, 4" in \
        capsys.readouterr().out
    shards = sorted(map(str, (tmp_path / "shards").glob("rank-*-of-2.h5")))
    assert len(shards) == 2
    assert main(["signatures", "extract", str(cat_path), *opts, "--rank-shards", *shards,
                 "-o", str(tmp_path / "a")]) == 0
    assert main(["signatures", "extract", str(cat_path), *opts, "-o", str(tmp_path / "b")]) == 0
    for name in ("signatures.tsv", "exposures.tsv", "rank_selection.tsv", "stability.tsv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    capsys.readouterr()
    # shards of another seed, a missing shard, a shard without a seed, both flags: refused
    bad = [([*opts[:-1], "4", "--rank-shards", *shards], "run with other options"),
           ([*opts, "--rank-shards", shards[0]], r"shard\(s\) 2/2 missing"),
           (["--shard", "1/2"], "--shard needs --seed"),
           ([*opts, "--shard", "1/2", "--rank-shards", *shards], "give one or the other")]
    for args, message in bad:
        assert main(["signatures", "extract", str(cat_path), *args, "-o",
                     str(tmp_path / "c")]) == 2
        assert re.search(message, capsys.readouterr().err), message
    assert not (tmp_path / "c").exists()


def test_joint_extraction_from_several_catalogs(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    E = rng.gamma(1.0, 1.0, (2, 40))
    paths = []
    for kind, scale in (("SBS96", 2000), ("ID83", 300)):
        S = typed_signatures(kind, 2, seed=len(paths) + 1)
        cat = pd.DataFrame(rng.poisson(S.to_numpy() @ E * scale), index=S.index,
                           columns=[f"t{j}" for j in range(40)])
        paths.append(tmp_path / f"cohort.{kind}.tsv")
        cat.to_csv(paths[-1], sep="\t", index_label="MutationType")
    out = tmp_path / "joint"
    assert main(["signatures", "extract", *map(str, paths), "--ranks", "1-3", "--restarts",
                 "6", "--seed", "0", "-o", str(out)]) == 0
    assert "2 joint signatures over SBS96, ID83 from 40 samples" in capsys.readouterr().out
    shares = pd.read_csv(out / "shares.tsv", sep="\t", index_col=0)
    assert list(shares.columns) == ["SBS96", "ID83"]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    ids = pd.read_csv(out / "signatures.ID83.tsv", sep="\t", index_col=0)
    assert ids.shape == (83, 2)
    np.testing.assert_allclose(ids.sum(axis=0), 1.0)
    assert (out / "signatures.ID83.png").stat().st_size > 10_000
    assert (out / "joint.h5").is_file() and not (out / "signatures.tsv").exists()
    with open(out / "normalization.tsv", encoding="utf-8") as f:
        assert f.readline().startswith("# 0 of 40 samples with more than 17,900 mutations")
    # --normalize reaches the joint extraction (it was once accepted and ignored)
    assert main(["signatures", "extract", *map(str, paths), "--ranks", "2", "--restarts", "4",
                 "--seed", "0", "--normalize", "3000", "-o", str(tmp_path / "j5")]) == 0
    table = pd.read_csv(tmp_path / "j5" / "normalization.tsv", sep="\t", index_col=0,
                        skiprows=1)
    assert table["scaled"].any() and table["fitted_as"].max() == pytest.approx(3000)
    assert main(["signatures", "extract", str(paths[0]), "--weights", "equal", "-o",
                 str(tmp_path / "j6")]) == 2
    assert "one catalog has one type: leave --weights out" in capsys.readouterr().err
    assert main(["signatures", "extract", *map(str, paths), "--volume", "1", "-o",
                 str(tmp_path / "j4")]) == 2
    assert "a joint extraction of several catalogs has no minimum-volume" in (
        capsys.readouterr().err)
    assert not (tmp_path / "j4").exists()
    assert main(["signatures", "extract", *map(str, paths), "--reference", "x.tsv", "-o",
                 str(tmp_path / "j2")]) == 2
    assert "after a joint extraction run 'nmfbio signatures match" in capsys.readouterr().err
    assert main(["signatures", "extract", *map(str, paths), "--seed", "0", "--shard", "1/2",
                 "-o", str(tmp_path / "j3")]) == 2
    assert "a joint extraction of several catalogs is not sharded" in capsys.readouterr().err
    assert not (tmp_path / "j3").exists()


def test_opportunities_and_convert_refuse_hostile_files(tmp_path, capsys):
    spmg = Path(__file__).parents[1] / "data" / "spmg"
    fasta = tmp_path / "genome.fa"
    fasta.write_bytes((spmg / "genome.fa").read_bytes())
    before = fasta.read_bytes()
    assert main(["signatures", "opportunities", str(fasta), "-o", str(fasta)]) == 2
    assert fasta.read_bytes() == before  # the output may never be an input
    sigs = realistic_signatures(2, seed=1)
    sigs.to_csv(tmp_path / "sigs.tsv", sep="\t", index_label="Type")
    good = tmp_path / "genome.tsv"
    assert main(["signatures", "opportunities", str(fasta), "-o", str(good)]) == 0
    capsys.readouterr()
    for name, text, match in [
        ("three.tsv", "Context\tCount\tExtra\nACA\t1\t2\n", "3 columns; an opportunities"),
        ("nan.tsv", "Context\tCount\nACA\tnan\n", "line 2, column 2: count 'nan'"),
        ("cut.tsv", "Context\tCount\nACA", "line 2, column 2: count is missing"),
    ]:
        (tmp_path / name).write_text(text)
        assert main(["signatures", "convert", str(tmp_path / "sigs.tsv"), "--source",
                     str(tmp_path / name), "--target", str(good), "-o",
                     str(tmp_path / "out.tsv")]) == 2
        assert match in capsys.readouterr().err, name
    assert not (tmp_path / "out.tsv").exists()
    assert main(["signatures", "convert", str(tmp_path / "sigs.tsv"), "--source", str(good),
                 "--target", str(good), "-o", str(good)]) == 2
    assert good.read_text().startswith("Context\tCount")
