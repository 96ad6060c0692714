"""The counting rules one by one: SBS labels, DBS spelling, ID83 classes, strand, annotation.

The rules are checked wholesale against SigProfilerMatrixGenerator in
``test_spmg_fixtures.py``; these tests pin each rule on hand-made cases and the errors.
"""

from __future__ import annotations

import pytest

from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io import catalog_from_vcf
from nmfbio.io.mutations import (
    dbs_label,
    indel_class,
    opportunities,
    read_annotation,
    sbs_label,
)


@pytest.mark.parametrize("ctx, alt, width, strand, label", [
    ("ACA", "T", 1, None, "A[C>T]A"), ("TGT", "A", 1, None, "A[C>T]A"),  # purine flipped
    ("GGCTA", "A", 2, None, "GG[C>A]TA"), ("C", "G", 0, "T", "T:C>G"),
    ("AGA", "C", 1, "B", "B:T[C>G]T"),
])
def test_sbs_labels_are_pyrimidine_centred(ctx, alt, width, strand, label):
    assert sbs_label(ctx, alt, width, strand) == label


@pytest.mark.parametrize("ref, alt, label", [
    ("CC", "TT", "CC>TT"), ("GG", "AA", "CC>TT"), ("AC", "GT", "AC>GT"),
    ("GT", "CA", "AC>TG"),  # the reverse complement is the registered spelling
    ("TA", "GC", "TA>GC"), ("CG", "TA", "CG>TA"), ("CC", "CT", None),
])
def test_dbs_spelling(ref, alt, label):
    assert dbs_label(ref, alt) == label


@pytest.mark.parametrize("left, indel, right, deletion, label", [
    ("GA", "T", "AG", True, "1:Del:T:0"),
    ("GA", "A", "AAAAAAAC", True, "1:Del:T:5"),          # capped at 5 (6+ homopolymer)
    ("GCC", "C", "CAT", True, "1:Del:C:3"),              # copies on both sides count
    ("GT", "G", "TA", False, "1:Ins:C:0"),
    ("ATCTC", "TC", "TCG", True, "2:Del:R:3"),           # 2 copies left, 1 right
    ("AAC", "TGCA", "TGG", True, "4:Del:M:2"),           # 'TG' follows: 3' microhomology
    ("ACA", "TGCA", "GGT", True, "4:Del:M:2"),           # 'CA' precedes: 5' microhomology
    ("AAC", "TGCA", "GGT", True, "4:Del:R:0"),
    ("AAC", "TGCAAT", "CCC", True, "5:Del:R:0"),         # 6 bp is the 5+ class
    ("AAC", "TGC", "TGA", False, "3:Ins:R:0"),           # insertions: no microhomology class
])
def test_id83_classes(left, indel, right, deletion, label):
    assert indel_class(left, indel, right, deletion) == label


def test_gtf_prefers_transcripts_and_bed_is_zero_based(tmp_path):
    gtf = tmp_path / "g.gtf"
    gtf.write_text("1\tx\tgene\t1\t100\t.\t+\t.\tgene_id \"a\";\n"
                   "1\tx\ttranscript\t10\t20\t.\t+\t.\tgene_id \"a\";\n")
    ann = read_annotation(gtf)
    assert ann.strand("1", 10, False) == "U" and ann.strand("1", 30, False) == "N"
    bed = tmp_path / "g.bed"
    bed.write_text("track name=x\n1\t9\t20\tg\t0\t-\n")
    ann = read_annotation(bed)
    assert (ann.strand("1", 9, False), ann.strand("1", 10, False)) == ("N", "T")


@pytest.mark.parametrize("text, match", [
    ("1\tx\tgene\t1\t100\t.\t?\t.\tx\n", r"line 1, column 7: strand '\?'"),
    ("1\t5\n", r"line 1: 2 tab-separated column\(s\)"),
    ("1\ta\tb\tg\t0\t+\n", r"line 1, column 2: start/end 'a'/'b'"),
    ("# nothing\n", "no gene or transcript interval"),
])
def test_bad_annotations_are_located(tmp_path, text, match):
    path = tmp_path / "bad.bed"
    path.write_text(text)
    with pytest.raises(FormatError, match=match):
        read_annotation(path)


def test_annotation_on_other_chromosome_names_is_an_error(tmp_path):
    path = tmp_path / "g.bed"
    path.write_text("chr1\t0\t10\tg\t0\t+\n")
    with pytest.raises(FormatError, match=r"none of the annotation's chromosomes \(\['chr1'\]"):
        read_annotation(path, ["1", "2"])


def test_stranded_types_need_an_annotation_and_types_must_be_countable(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">1\nACGTACGTAC\n")
    vcf = tmp_path / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "1\t3\t.\tG\tT\t.\tPASS\t.\n")
    with pytest.raises(NMFInputError, match="SBS288 need the transcriptional strand: pass "
                                            "annotation="):
        catalog_from_vcf(vcf, fa, context="SBS288")
    with pytest.raises(NMFInputError, match="unknown mutation type 'SBS97'"):
        catalog_from_vcf(vcf, fa, context=["SBS96", "SBS97"])
    with pytest.raises(NMFInputError, match="doublets must be one of"):
        catalog_from_vcf(vcf, fa, doublets="merge")
    with pytest.warns(DataWarning, match="no mutations"):
        only_id = catalog_from_vcf(vcf, fa, context="ID83")
    assert only_id.X.sum() == 0 and only_id.uns["catalog"]["skipped"]["snv"] == 1


# ----------------------------------------------------------------------------- opportunities

def _brute_opportunities(seqs, k):
    """Each window of k ACGT bases, counted under its pyrimidine-centred spelling."""
    from nmfbio.io.sbs96 import reverse_complement

    out = {}
    for seq in seqs:
        for i in range(len(seq) - k + 1):
            kmer = seq[i:i + k].upper()
            if set(kmer) <= set("ACGT"):
                key = kmer if kmer[k // 2] in "CT" else reverse_complement(kmer)
                out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize("width", [1, 2])
def test_opportunities_count_every_window_on_both_strands(tmp_path, width, monkeypatch):
    import numpy as np

    import nmfbio.io.mutations as mut

    rng = np.random.default_rng(width)
    seqs = ["".join(rng.choice(list("ACGTNacgt"), size=n, p=[.22] * 4 + [.04] + [.02] * 4))
            for n in (300, 57, 4)]
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">c{i}\n{s}\n" for i, s in enumerate(seqs)))
    want = _brute_opportunities(seqs, 2 * width + 1)
    got = opportunities(fa, width=width)
    assert len(got) == (32 if width == 1 else 512)
    assert all(key[width] in "CT" for key in got.index)
    assert {k: v for k, v in got.items() if v} == want
    monkeypatch.setattr(mut, "_CHUNK", 7)  # chunk seams: no window lost or counted twice
    assert opportunities(fa, width=width).equals(got)


def test_opportunities_of_target_regions(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">1\nACGTTCAGNNACA\n>2\nGGGA\n")
    bed = tmp_path / "kit.bed"
    # 1:1-6 ACGTTC and 1:5-7 TCA merge into 1:1-7; 1:9-13 NACA; 3 is not in the FASTA
    bed.write_text("track name=kit\n1\t0\t6\n1\t4\t7\n1\t8\t13\n3\t0\t5\n")
    got = opportunities(fa, bed)
    assert {k: v for k, v in got.items() if v} == _brute_opportunities(
        ["ACGTTCA", "NACA"], 3)
    assert got.sum() == 5 + 1
    whole = opportunities(fa)
    assert whole.sum() == 11 - 4 + 2   # chromosome 1: 11 windows, 4 touch an N; chromosome 2: 2


@pytest.mark.parametrize("text, match", [
    ("1\t5\n", r"kit.bed, line 1: 2 tab-separated column\(s\)"),
    ("1\t0\t10\n1\tx\t9\n", r"line 2, column 2: start/end 'x'/'9' are not whole numbers"),
    ("1\t10\t5\n", r"line 1, column 2: start 10 / end 5"),
    ("# none\n", "no region found"),
    ("chr1\t0\t5\n", r"none of the regions' chromosomes \(\['chr1'\]\) is in the FASTA"),
])
def test_bad_regions_are_located(tmp_path, text, match):
    fa = tmp_path / "g.fa"
    fa.write_text(">1\nACGTACGT\n")
    bed = tmp_path / "kit.bed"
    bed.write_text(text)
    with pytest.raises(FormatError, match=match):
        opportunities(fa, bed)
    with pytest.raises(NMFInputError, match="width must be 1"):
        opportunities(fa, width=3)
