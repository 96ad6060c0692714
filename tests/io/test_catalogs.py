"""Tests of the SBS96 catalog adapters: tables (``read_catalog``), VCF and MAF files with a
reference FASTA (``catalog_from_vcf``, ``catalog_from_maf``) and the FASTA reader.

Tiny genomes are written per test with bases planted at known positions, so every expected
channel is spelled out by hand; bad input must raise errors that name file, line and field.
"""

from __future__ import annotations

import gzip
import logging
import re

import numpy as np
import pandas as pd
import pytest

from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io import FastaReader, catalog_from_maf, catalog_from_vcf, read_catalog
from nmfbio.io.sbs96 import ALPHABETICAL, CHANNELS, SUBSTITUTION_MAJOR

# ----------------------------------------------------------------------------- genome
# 1-based position of the middle base -> the planted trinucleotide
PLANTED = {
    "chr1": {51: "AGC", 101: "TCA", 151: "GTC", 201: "CAT", 61: "GCT"},
    "chr2": {61: "NCA", 101: "ACG"},
}
LENGTHS = {"chr1": 300, "chr2": 200}


def _sequences():
    rng = np.random.default_rng(0)
    seqs = {}
    for name, length in LENGTHS.items():
        seq = list(rng.choice(list("ACGT"), size=length))
        for pos, tri in PLANTED[name].items():
            seq[pos - 2:pos + 1] = tri
        seqs[name] = "".join(seq)
    return seqs


SEQS = _sequences()


def write_fasta(path, seqs=SEQS, width=60, newline="\n", lower=False):
    text = ""
    for name, seq in seqs.items():
        seq = seq.lower() if lower else seq
        text += f">{name} test sequence{newline}"
        text += "".join(seq[i:i + width] + newline for i in range(0, len(seq), width))
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt", newline="") as f:
            f.write(text)
    else:
        with open(path, "w", newline="") as f:
            f.write(text)
    return path


@pytest.fixture
def fasta(tmp_path):
    return write_fasta(tmp_path / "genome.fa")


# ----------------------------------------------------------------------------- VCF / MAF
VCF_META = "##fileformat=VCFv4.2\n##source=test\n"
FIRST_RECORD_LINE = 4  # two meta lines, the #CHROM line, then records


def write_vcf(path, records, samples=("T1",), fmt="GT"):
    """records: (chrom, pos, ref, alt[, filter[, per-sample values]])."""
    cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if samples is not None:
        cols += ["FORMAT", *samples]
    lines = [VCF_META + "\t".join(cols)]
    for chrom, pos, ref, alt, *rest in records:
        filt = rest[0] if rest else "PASS"
        fields = [chrom, str(pos), ".", ref, alt, "50", filt, "DP=10"]
        if samples is not None:
            values = rest[1] if len(rest) > 1 else ["0/1"] * len(samples)
            fields += [fmt, *values]
        lines.append("\t".join(fields))
    text = "\n".join(lines) + "\n"
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def nonzero(adata, sample):
    """{channel: count} of one sample's non-zero channels."""
    row = adata[sample].X[0]
    return {CHANNELS[j]: row[j] for j in np.flatnonzero(row)}


def test_pyrimidine_ref_takes_flanks_from_fasta(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "t.vcf", [("chr1", 101, "C", "T"), ("chr1", 151, "T", "G")])
    ad = catalog_from_vcf(vcf, fasta)
    assert ad.shape == (1, 96) and list(ad.obs_names) == ["T1"]
    assert list(ad.var_names) == list(CHANNELS)
    assert ad.X.dtype == np.float64 and isinstance(ad.X, np.ndarray)
    assert nonzero(ad, "T1") == {"T[C>T]A": 1.0, "G[T>G]C": 1.0}
    assert ad.var.loc["T[C>T]A", "substitution"] == "C>T"


def test_purine_ref_is_reverse_complemented(tmp_path, fasta):
    # FASTA ...AGC... with G>T at the G: reverse complement GCT, T -> A
    vcf = write_vcf(tmp_path / "t.vcf", [("chr1", 51, "G", "T"), ("chr1", 201, "A", "G")])
    assert nonzero(catalog_from_vcf(vcf, fasta), "T1") == {"G[C>A]T": 1.0, "A[T>C]G": 1.0}


def test_context_across_fasta_line_breaks_and_soft_masking(tmp_path):
    # position 61 is the first base of the second 60-base line; lower case is ordinary
    fa = write_fasta(tmp_path / "g.fa", width=60, newline="\r\n", lower=True)
    vcf = write_vcf(tmp_path / "t.vcf", [("chr1", 61, "C", "A")])
    assert nonzero(catalog_from_vcf(vcf, fa), "T1") == {"G[C>A]T": 1.0}


def test_sample_name_from_column_or_file_stem(tmp_path, fasta):
    with_col = write_vcf(tmp_path / "a.vcf", [("chr1", 101, "C", "T")], samples=("TUMOUR_7",))
    no_col = write_vcf(tmp_path / "patient3.vcf", [("chr1", 101, "C", "T")], samples=None)
    ad = catalog_from_vcf([with_col, no_col], fasta)
    assert list(ad.obs_names) == ["TUMOUR_7", "patient3"]
    np.testing.assert_array_equal(ad.X[0], ad.X[1])


def test_multi_sample_genotypes(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "cohort.vcf", [
        ("chr1", 101, "C", "T", "PASS", ["0/1", "1|1", "./.", "0/0"]),
        ("chr1", 51, "G", "T", "PASS", ["0/0", "0|1:35", "1", "0/0"]),
        ("chr1", 151, "T", "G", "PASS", ["0/0", ".", "./.", "0|0"]),  # nobody carries it
    ], samples=("S1", "S2", "S3", "S4"), fmt="GT:DP")
    with pytest.warns(DataWarning, match=r"no mutations.*'S4'"):
        ad = catalog_from_vcf(vcf, fasta)
    assert list(ad.obs_names) == ["S1", "S2", "S3", "S4"]
    assert nonzero(ad, "S1") == {"T[C>T]A": 1.0}
    assert nonzero(ad, "S2") == {"T[C>T]A": 1.0, "G[C>A]T": 1.0}  # 1|1 counts once
    assert nonzero(ad, "S3") == {"G[C>A]T": 1.0}  # haploid GT
    assert ad.uns["catalog"]["skipped"]["not_carried"] == 1
    assert ad.uns["catalog"]["counted"] == 2


def test_without_gt_every_sample_counts(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "strelka.vcf", [("chr1", 101, "C", "T", "PASS", ["5", "9"])],
                    samples=("NORMAL", "TUMOR"), fmt="DP")
    ad = catalog_from_vcf(vcf, fasta)
    assert nonzero(ad, "NORMAL") == nonzero(ad, "TUMOR") == {"T[C>T]A": 1.0}


def test_sample_names_one_per_file(tmp_path, fasta):
    a = write_vcf(tmp_path / "a.vcf", [("chr1", 101, "C", "T", "PASS", ["0/0", "0/1"])],
                  samples=("NORMAL", "TUMOR"))
    b = write_vcf(tmp_path / "b.vcf", [("chr1", 51, "G", "T", "PASS", ["0/0", "0/1"])],
                  samples=("NORMAL", "TUMOR"))
    with pytest.raises(NMFInputError, match=r"'NORMAL' is in both .*sample_names"):
        catalog_from_vcf([a, b], fasta)
    ad = catalog_from_vcf([a, b], fasta, sample_names=["P1", "P2"])
    assert nonzero(ad, "P1") == {"T[C>T]A": 1.0}
    assert nonzero(ad, "P2") == {"G[C>A]T": 1.0}
    with pytest.raises(NMFInputError, match="one name per file"):
        catalog_from_vcf([a, b], fasta, sample_names=["P1"])
    with pytest.raises(NMFInputError, match="given twice"):
        catalog_from_vcf([a, tmp_path / "." / "a.vcf"], fasta, sample_names=["P1", "P2"])
    with pytest.raises(NMFInputError, match="max_ref_mismatch is a fraction"):
        catalog_from_vcf(a, fasta, max_ref_mismatch=5)


def test_multiallelic_records_are_split(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "m.vcf", [("chr1", 101, "C", "A,T", "PASS", ["1/2", "0/2"])],
                    samples=("S1", "S2"))
    ad = catalog_from_vcf(vcf, fasta)
    assert nonzero(ad, "S1") == {"T[C>A]A": 1.0, "T[C>T]A": 1.0}
    assert nonzero(ad, "S2") == {"T[C>T]A": 1.0}
    assert ad.uns["catalog"]["counted"] == 2


def test_pass_filter(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "f.vcf", [
        ("chr1", 101, "C", "T", "PASS"), ("chr1", 51, "G", "T", "."),
        ("chr1", 151, "T", "G", "LowQual;germline"),
    ])
    ad = catalog_from_vcf(vcf, fasta)
    assert nonzero(ad, "T1") == {"T[C>T]A": 1.0, "G[C>A]T": 1.0}
    assert ad.uns["catalog"]["skipped"]["filtered"] == 1
    everything = catalog_from_vcf(vcf, fasta, pass_only=False)
    assert nonzero(everything, "T1")["G[T>G]C"] == 1.0
    assert everything.uns["catalog"]["skipped"]["filtered"] == 0


def test_non_substitutions_are_skipped_and_counted(tmp_path, fasta, caplog):
    vcf = write_vcf(tmp_path / "v.vcf", [
        ("chr1", 101, "C", "T"),
        ("chr1", 101, "C", "CA"), ("chr1", 100, "TC", "T"),     # indels
        ("chr1", 100, "TC", "GA"),                              # doublet: 2 SNVs in SBS
        ("chr1", 101, "C", "N"), ("chr1", 101, "C", "<DEL>"),   # non-ACGT
        ("chr1", 101, "C", "."),                                # no ALT
        ("chr2", 61, "C", "T"),                                 # N 5' of it in the FASTA
        ("chr1", 1, SEQS["chr1"][0], "A" if SEQS["chr1"][0] != "A" else "C"),  # at the end
    ])
    with caplog.at_level(logging.INFO, logger="nmfbio"):
        ad = catalog_from_vcf(vcf, fasta)
    # the doublet's SNVs count too (SigProfilerMatrixGenerator's rule), in their contexts
    assert nonzero(ad, "T1") == {"T[C>T]A": 1.0, "C[T>G]C": 1.0, "T[C>A]A": 1.0}
    assert ad.uns["catalog"]["skipped"] == {
        "filtered": 0, "no_alt": 1, "snv": 0, "indel": 2, "mnv": 0, "complex": 0,
        "non_acgt": 2, "not_carried": 0, "past_contig_end": 0, "ref_mismatch": 0,
        "n_in_context": 2,
    }
    assert ad.uns["catalog"]["calls"] == {"snvs": 3, "doublets": 1}
    assert "counted 2 mutation(s); skipped: no_alt=1, indel=2, non_acgt=2" in caplog.text
    strict = catalog_from_vcf(vcf, fasta, doublets="separate")
    assert nonzero(strict, "T1") == {"T[C>T]A": 1.0}


def test_ref_mismatch_above_threshold_is_an_error(tmp_path, fasta):
    records = [("chr1", 101, "C", "T"), ("chr1", 151, "A", "G"), ("chr1", 51, "C", "T")]
    vcf = write_vcf(tmp_path / "wrong_build.vcf", records)
    line = FIRST_RECORD_LINE + 1
    with pytest.raises(FormatError, match=rf"wrong_build.vcf, line {line}, column REF: 2 of 3 "
                       r".*chr1:151 REF=A, FASTA T.*genome build"):
        catalog_from_vcf(vcf, fasta)
    ad = catalog_from_vcf(vcf, fasta, max_ref_mismatch=0.7)
    assert ad.uns["catalog"]["skipped"]["ref_mismatch"] == 2
    assert nonzero(ad, "T1") == {"T[C>T]A": 1.0}


def test_position_past_chromosome_end_is_a_mismatch(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "t.vcf", [("chr2", 5000, "A", "G")])
    with pytest.raises(FormatError, match="past the end of chr2, length 200"):
        catalog_from_vcf(vcf, fasta)


def test_missing_chromosome_suggests_chr_prefix(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "ensembl.vcf", [("1", 101, "C", "T"), ("1", 51, "G", "T")])
    with pytest.raises(FormatError, match=rf"ensembl.vcf, line {FIRST_RECORD_LINE}, column "
                       r"CHROM: chromosome '1' is not in the FASTA .*names it 'chr1'.*"
                       r"chrom_alias='auto'"):
        catalog_from_vcf(vcf, fasta)
    ad = catalog_from_vcf(vcf, fasta, chrom_alias="auto")
    assert nonzero(ad, "T1") == {"T[C>T]A": 1.0, "G[C>A]T": 1.0}
    assert ad.uns["catalog"]["chrom_alias"] == "auto"
    mapped = catalog_from_vcf(vcf, fasta, chrom_alias={"1": "chr1"})
    np.testing.assert_array_equal(mapped.X, ad.X)


def test_unknown_chromosome_points_at_the_build(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "t.vcf", [("chrUn_gl000220", 10, "C", "T")])
    with pytest.raises(FormatError, match=r"'chrUn_gl000220' is not in the FASTA .*2 "
                       r"sequences: 'chr1', 'chr2'.*genome build"):
        catalog_from_vcf(vcf, fasta, chrom_alias="auto")


def test_gzipped_vcf_and_fasta(tmp_path, fasta):
    records = [("chr1", 101, "C", "T"), ("chr1", 51, "G", "T"), ("chr2", 101, "C", "G")]
    plain = catalog_from_vcf(write_vcf(tmp_path / "t.vcf", records), fasta)
    gz = catalog_from_vcf(write_vcf(tmp_path / "t.vcf.gz", records), fasta)
    gz_fasta = catalog_from_vcf(tmp_path / "t.vcf.gz", write_fasta(tmp_path / "g.fa.gz"))
    np.testing.assert_array_equal(plain.X, gz.X)
    np.testing.assert_array_equal(plain.X, gz_fasta.X)
    assert nonzero(plain, "T1")["A[C>G]G"] == 1.0
    # the content decides, not the name: a plain file called .gz is read as plain
    (tmp_path / "named.vcf.gz").write_text((tmp_path / "t.vcf").read_text())
    np.testing.assert_array_equal(catalog_from_vcf(tmp_path / "named.vcf.gz", fasta).X,
                                  plain.X)


def test_truncated_gzip_is_a_format_error(tmp_path, fasta):
    write_vcf(tmp_path / "t.vcf.gz", [("chr1", 101, "C", "T")] * 200)
    data = (tmp_path / "t.vcf.gz").read_bytes()
    (tmp_path / "cut.vcf.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"cut.vcf.gz: not a readable"):
        catalog_from_vcf(tmp_path / "cut.vcf.gz", fasta)


def test_malformed_vcf_lines(tmp_path, fasta):
    bad = tmp_path / "bad.vcf"
    bad.write_text(VCF_META + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "chr1\t101\t.\tC\tT\t.\tPASS\n")
    with pytest.raises(FormatError, match=r"bad.vcf, line 4: expected 8 tab-separated"):
        catalog_from_vcf(bad, fasta)
    bad.write_text(VCF_META + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "chr1\tpos\t.\tC\tT\t.\tPASS\t.\n")
    with pytest.raises(FormatError, match=r"line 4, column POS: 'pos' is not a 1-based"):
        catalog_from_vcf(bad, fasta)
    bad.write_text("chr1\t101\t.\tC\tT\t.\tPASS\t.\n")
    with pytest.raises(FormatError, match=r"line 1: a data line before the '#CHROM'"):
        catalog_from_vcf(bad, fasta)
    with pytest.raises(FileNotFoundError, match="no such file"):
        catalog_from_vcf(tmp_path / "absent.vcf", fasta)


def test_accepts_an_open_fasta_reader(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "t.vcf", [("chr1", 101, "C", "T")])
    with FastaReader(fasta) as fa:
        first = catalog_from_vcf(vcf, fa)
        second = catalog_from_vcf(vcf, fa)  # still open: the caller owns it
    np.testing.assert_array_equal(first.X, second.X)


def test_maf_gives_the_vcf_catalog(tmp_path, fasta):
    vcf = write_vcf(tmp_path / "c.vcf", [
        ("chr1", 101, "C", "T", "PASS", ["0/1", "0/1"]),
        ("chr1", 51, "G", "T", "PASS", ["0/0", "0/1"]),
        ("chr2", 101, "C", "G", "PASS", ["0/1", "0/0"]),
        ("chr1", 100, "TC", "T", "PASS", ["0/1", "0/0"]),
    ], samples=("TCGA-01", "TCGA-02"))
    maf = tmp_path / "c.maf.gz"
    rows = [("TCGA-01", "chr1", 101, "C", "T", "SNP"), ("TCGA-02", "chr1", 101, "C", "T", "SNP"),
            ("TCGA-02", "chr1", 51, "G", "T", "SNP"), ("TCGA-01", "chr2", 101, "C", "G", "SNP"),
            ("TCGA-01", "chr1", 101, "C", "-", "DEL")]
    header = ("Hugo_Symbol\tTumor_Sample_Barcode\tChromosome\tStart_Position\tVariant_Type\t"
              "Reference_Allele\tTumor_Seq_Allele1\tTumor_Seq_Allele2")
    body = "".join(f"G{i}\t{b}\t{c}\t{p}\t{t}\t{r}\t{r}\t{a}\n"
                   for i, (b, c, p, r, a, t) in enumerate(rows))
    with gzip.open(maf, "wt") as f:
        f.write(f"#version 2.4\n#comment\n{header}\n{body}")
    from_vcf, from_maf = catalog_from_vcf(vcf, fasta), catalog_from_maf(maf, fasta)
    assert list(from_maf.obs_names) == list(from_vcf.obs_names) == ["TCGA-01", "TCGA-02"]
    np.testing.assert_array_equal(from_maf.X, from_vcf.X)
    assert from_maf.uns["catalog"]["format"] == "maf"
    assert from_maf.uns["catalog"]["skipped"]["indel"] == 1


def test_maf_errors(tmp_path, fasta):
    maf = tmp_path / "m.maf"
    maf.write_text("#version 2.4\nTumor_Sample_Barcode\tChromosome\tStart_Position\n")
    with pytest.raises(FormatError, match=r"m.maf, line 2: missing MAF column\(s\) "
                       r"\['Reference_Allele', 'Tumor_Seq_Allele2'\]"):
        catalog_from_maf(maf, fasta)
    maf.write_text("Tumor_Sample_Barcode\tChromosome\tStart_Position\tReference_Allele\t"
                   "Tumor_Seq_Allele2\nT1\t1\t101\tC\tT\n")
    with pytest.raises(FormatError, match=r"line 2, column Chromosome: .*'chr1'"):
        catalog_from_maf(maf, fasta)
    assert catalog_from_maf(maf, fasta, chrom_alias="auto").uns["catalog"]["counted"] == 1


# ----------------------------------------------------------------------------- FASTA reader
def test_fasta_fetch_matches_the_sequence(tmp_path):
    fa_path = write_fasta(tmp_path / "g.fa", width=37)
    rng = np.random.default_rng(1)
    with FastaReader(fa_path) as fa:
        assert fa.names == ("chr1", "chr2") and fa.lengths == LENGTHS
        for name, seq in SEQS.items():
            for start in rng.integers(1, len(seq), size=30):
                end = int(start + rng.integers(0, 80))
                got = fa.fetch(name, int(start), end)
                want = seq[start - 1:end] + "N" * max(0, end - len(seq))
                assert got == want
        assert fa.context("chr1", 1) == "N" + SEQS["chr1"][:2]
        with pytest.raises(KeyError):
            fa.fetch("chr3", 1, 2)
    assert not (tmp_path / "g.fa.fai").exists()  # nothing written next to the FASTA


def test_fasta_index_written_on_request_and_reused(tmp_path):
    fa_path = write_fasta(tmp_path / "g.fa", width=50)
    with FastaReader(fa_path) as fa:
        fai = fa.write_index()
        with pytest.raises(FileExistsError):
            fa.write_index()
    assert fai.read_text().splitlines()[0] == "chr1\t300\t20\t50\t51"
    with FastaReader(fa_path) as fa:
        assert fa.fetch("chr2", 95, 105) == SEQS["chr2"][94:105]


def test_fasta_format_errors(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text(">chr1\nACGTACGT\nACG\nACGTACGT\n")
    with pytest.raises(FormatError, match=r"bad.fa, line 4: a line of bases after a shorter "
                       r"line .*re-wrap"):
        FastaReader(bad)
    bad.write_text(">chr1\nACGT\nACGTACGT\n")
    with pytest.raises(FormatError, match=r"line 3: a line of 8 bases after lines of 4"):
        FastaReader(bad)
    bad.write_text(">chr1\nACGT\n>chr1\nACGT\n")
    with pytest.raises(FormatError, match=r"line 3: duplicate sequence name 'chr1'"):
        FastaReader(bad)
    bad.write_text("ACGT\n")
    with pytest.raises(FormatError, match=r"line 1: sequence before the first '>'"):
        FastaReader(bad)
    stale = write_fasta(tmp_path / "s.fa")
    (tmp_path / "s.fa.fai").write_text("chr1\t300\t999999\t60\t61\n")
    with pytest.raises(FormatError, match="does not fit the FASTA"):
        FastaReader(stale)


# ----------------------------------------------------------------------------- tables
@pytest.fixture
def catalog():
    """Counts, channels (alphabetical) × 3 samples, every channel distinct per sample."""
    rng = np.random.default_rng(2)
    return pd.DataFrame(rng.poisson(20, size=(96, 3)) + 1, index=list(CHANNELS),
                        columns=["PD1", "PD2", "PD3"])


def write_table(path, frame, order, corner="MutationType", sep="\t"):
    frame.loc[list(order)].to_csv(path, sep=sep, index_label=corner)
    return path


def lines_of(frame, order, corner="MutationType", sep="\t"):
    out = [sep.join([corner, *frame.columns])]
    out += [sep.join([label, *map(str, frame.loc[label])]) for label in order]
    return out


def check_same(a, b):
    np.testing.assert_array_equal(a.X, b.X)
    assert list(a.obs_names) == list(b.obs_names)
    assert list(a.var_names) == list(b.var_names) == list(CHANNELS)


def test_alphabetical_and_substitution_major_files_agree(tmp_path, catalog):
    alpha = read_catalog(write_table(tmp_path / "a.SBS96.all", catalog, ALPHABETICAL))
    major = read_catalog(write_table(tmp_path / "m.txt", catalog, SUBSTITUTION_MAJOR))
    check_same(alpha, major)
    np.testing.assert_array_equal(alpha.X, catalog.to_numpy().T)
    assert alpha.uns["catalog"]["channel_order"] == "alphabetical"
    assert major.uns["catalog"]["channel_order"] == "substitution-major"
    assert alpha.uns["catalog"]["format"] == "sigprofiler"
    assert alpha.uns["catalog"]["kind"] == "counts"
    assert list(alpha.var["substitution"].unique()) == ["C>A", "C>G", "C>T", "T>A", "T>C",
                                                        "T>G"]


def test_shuffled_rows_and_other_layouts_agree(tmp_path, catalog):
    ref = read_catalog(write_table(tmp_path / "a.tsv", catalog, ALPHABETICAL))
    order = np.random.default_rng(3).permutation(list(CHANNELS))
    check_same(ref, read_catalog(write_table(tmp_path / "s.tsv", catalog, order)))
    check_same(ref, read_catalog(write_table(tmp_path / "c.csv.gz", catalog, order, sep=",")))
    # R's write.table: no header cell above the row names, space-separated, quoted
    text = " ".join(f'"{s}"' for s in catalog.columns) + "\n" + "".join(
        f'"{c}" ' + " ".join(map(str, catalog.loc[c])) + "\n" for c in order)
    (tmp_path / "r.txt").write_text(text)
    check_same(ref, read_catalog(tmp_path / "r.txt"))


def test_samples_by_channels_orientation_is_detected(tmp_path, catalog):
    ref = read_catalog(write_table(tmp_path / "a.tsv", catalog, ALPHABETICAL))
    path = tmp_path / "t.csv"
    catalog.loc[list(SUBSTITUTION_MAJOR)].T.to_csv(path, index_label="sample")
    wide = read_catalog(path)
    check_same(ref, wide)
    assert wide.uns["catalog"]["orientation"] == "samples x channels"
    check_same(ref, read_catalog(path, samples_in="rows"))
    with pytest.raises(FormatError, match=r"samples_in='columns' means the channel labels "
                       r"are the first column.*'PD1'"):
        read_catalog(path, samples_in="columns")


def test_missing_duplicate_and_unknown_labels_are_listed(tmp_path, catalog):
    order = list(ALPHABETICAL)
    missing = order[:94]
    with pytest.raises(FormatError, match=r"2 of the 96 channels missing: 'T\[T>G\]G', "
                       r"'T\[T>G\]T'.*e\.g\. 'A\[C>A\]T'"):
        read_catalog(write_table(tmp_path / "m.tsv", catalog, missing))
    dup = tmp_path / "d.tsv"
    lines = lines_of(catalog, order)
    dup.write_text("\n".join(lines + [lines[5]]) + "\n")
    with pytest.raises(FormatError, match=r"1 duplicate label\(s\): 'A\[C>G\]A' \(line 6 "
                       r"and line 98\)"):
        read_catalog(dup)
    unknown = tmp_path / "u.tsv"
    lines = lines_of(catalog, order)
    lines[1] = lines[1].replace("A[C>A]A", "T[G>T]T")
    lines[2] = lines[2].replace("A[C>A]C", "Total")
    unknown.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"2 unknown label\(s\): 'T\[G>T\]T' \(line 2\), "
                       r"'Total' \(line 3\); labels must be pyrimidine-centred: write "
                       r"'T\[G>T\]T' as 'A\[C>A\]A'.*2 of the 96 channels missing"):
        read_catalog(unknown)


def test_no_labels_at_all(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("gene,s1\ng1,3\ng2,4\n")
    with pytest.raises(FormatError, match=r"no channel labels found .*'g1'.*'A\[C>A\]T'"):
        read_catalog(path)


def test_non_numeric_cell_names_file_line_and_column(tmp_path, catalog):
    path = tmp_path / "x.tsv"
    lines = lines_of(catalog, ALPHABETICAL)
    fields = lines[4].split("\t")
    fields[2] = "12a"
    lines[4] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"x.tsv, line 5, column PD2: '12a' is not a number"):
        read_catalog(path)
    fields[2] = "NA"
    lines[4] = "\t".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"line 5, column PD2: missing value 'NA'"):
        read_catalog(path)
    lines[4] = "\t".join(fields[:3])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"x.tsv, line 5: expected 4 fields"):
        read_catalog(path)


def test_negative_counts_are_an_error(tmp_path, catalog):
    catalog.loc["C[T>A]G", "PD3"] = -2
    with pytest.raises(FormatError, match=r"line \d+, column PD3: negative value -2"):
        read_catalog(write_table(tmp_path / "n.tsv", catalog, ALPHABETICAL))


def test_fractional_counts_warn(tmp_path, catalog):
    frame = catalog.astype(float)
    frame.loc["A[C>A]A", "PD1"] = 0.25
    path = write_table(tmp_path / "f.tsv", frame, ALPHABETICAL)
    with pytest.warns(DataWarning, match=r"1 of 288 values are not whole numbers .*'PD1', "
                      r"channel A\[C>A\]A = 0.25.*proportions.*expect raw"):
        ad = read_catalog(path)
    assert ad.X[0, 0] == 0.25  # kept as it is
    assert ad.uns["catalog"]["kind"] == "counts"
    read_catalog(path, kind="signatures")  # no warning when told


def test_empty_samples_warn_and_are_kept(tmp_path, catalog):
    catalog["PD2"] = 0
    with pytest.warns(DataWarning, match=r"1 sample\(s\) have no mutations .*'PD2'"):
        ad = read_catalog(write_table(tmp_path / "e.tsv", catalog, ALPHABETICAL))
    assert ad.shape == (3, 96) and not ad["PD2"].X.any()


def test_cosmic_signature_file(tmp_path):
    rng = np.random.default_rng(4)
    sig = rng.dirichlet(np.ones(96), size=2).T
    frame = pd.DataFrame(np.round(sig, 8), index=list(CHANNELS), columns=["SBS1", "SBS5"])
    path = tmp_path / "COSMIC_v3.4_SBS_GRCh38.txt"
    frame.to_csv(path, sep="\t", index_label="Type")
    ad = read_catalog(path)
    assert ad.uns["catalog"]["kind"] == "signatures"
    assert ad.uns["catalog"]["format"] == "cosmic"
    np.testing.assert_allclose(ad.X.sum(axis=1), 1.0, atol=1e-6)
    assert list(ad.obs_names) == ["SBS1", "SBS5"]


def test_duplicate_sample_names_and_bad_arguments(tmp_path, catalog):
    catalog.columns = ["PD1", "PD2", "PD1"]
    path = write_table(tmp_path / "d.tsv", catalog, ALPHABETICAL)
    with pytest.raises(FormatError, match=r"1 duplicate sample name\(s\): 'PD1'"):
        read_catalog(path)
    with pytest.raises(NMFInputError, match=re.escape("samples_in must be None, 'columns'")):
        read_catalog(path, samples_in="cols")
    with pytest.raises(NMFInputError, match="kind must be one of"):
        read_catalog(path, kind="probabilities")
