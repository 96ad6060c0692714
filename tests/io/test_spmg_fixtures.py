"""Counts from VCFs equal SigProfilerMatrixGenerator's, type by type, on committed fixtures.

``tests/data/spmg/`` holds a generated genome (with planted homopolymers, tandem repeats,
microhomologies and an N run), a gene annotation, four tumour VCFs and one of edge cases,
and the matrices SigProfilerMatrixGenerator 1.4.0 wrote for them (how they were made:
``tests/data/spmg/README.md``). Every cell of every type must be equal; the edge cases
must give the documented outcome (a counted skip or a located error), never a silent wrong
class.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from nmfbio.errors import FormatError
from nmfbio.io import catalog_from_maf, catalog_from_vcf, read_catalog
from nmfbio.io.mutation_types import mutation_type

DATA = Path(__file__).parents[1] / "data" / "spmg"
VCFS = sorted((DATA / "vcf").glob("T*.vcf"))
GENOME = DATA / "genome.fa"
GENES = DATA / "genes.gtf"
TYPES = ["SBS6", "SBS24", "SBS96", "SBS288", "SBS384", "SBS1536", "DBS78", "ID83"]


def _frame(ad) -> pd.DataFrame:
    return pd.DataFrame(ad.X, index=list(ad.obs_names), columns=list(ad.var_names))


def _equal(ours, path):
    theirs = _frame(read_catalog(path))
    mine = _frame(ours).loc[theirs.index, theirs.columns]
    diff = mine - theirs
    assert not diff.to_numpy().any(), diff.stack()[diff.stack() != 0].head(10)
    return float(theirs.to_numpy().sum())


@pytest.fixture(scope="module")
def counted():
    return catalog_from_vcf(VCFS, GENOME, context=TYPES, annotation=GENES)


@pytest.mark.parametrize("name, total", [("SBS6", 741), ("SBS24", 741), ("SBS96", 741),
                                         ("SBS288", 741), ("SBS384", 741), ("SBS1536", 741),
                                         ("DBS78", 53), ("ID83", 135)])
def test_every_cell_equals_sigprofilermatrixgenerator(counted, name, total):
    # SPMG's default run (seqInfo=False) for DBS78: every adjacent SNV pair is a doublet
    path = DATA / (f"fixt_noseqinfo.{name}.all" if name == "DBS78" else f"fixt.{name}.all")
    assert _equal(counted[name], path) == total
    assert counted[name].uns["catalog"]["mutation_type"] == name
    assert list(counted[name].var_names) == list(mutation_type(name).labels)


def test_the_strict_doublet_rule(counted):
    strict = catalog_from_vcf(VCFS, GENOME, context=["SBS96", "DBS78"], doublets="separate")
    # runs of three or more adjacent SNVs make no doublet: SPMG's seqInfo=True DBS78
    assert _equal(strict["DBS78"], DATA / "fixt.DBS78.all") == 48
    calls = counted["SBS96"].uns["catalog"]["calls"]
    assert calls == {"snvs": 741, "doublets": 53, "mns": 2, "indels": 135}
    # and the SNVs of doublets and runs leave the SBS catalog: 741 - 48 * 2 - 3 - 4
    assert strict["SBS96"].X.sum() == 741 - 96 - 7


def test_what_was_skipped_is_counted(counted):
    skipped = counted["ID83"].uns["catalog"]["skipped"]
    # the 3-bp MNV record (SPMG: neither SBS nor DBS) and the REF ATG / ALT AC record
    assert {k: v for k, v in skipped.items() if v} == {"mnv": 1, "complex": 1}


def test_the_same_calls_as_maf_give_the_same_counts(tmp_path, counted):
    rows = []
    for vcf in VCFS:
        for line in vcf.read_text().splitlines():
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alt = line.split("\t")[:5]
            pos = int(pos)
            if len(ref) != len(alt) and (ref[0] != alt[0] or min(len(ref), len(alt)) > 1):
                continue  # the complex record has no MAF spelling as one indel
            if len(ref) > len(alt):  # MAF: deleted bases from the first one, ALT '-'
                ref, alt, pos = ref[1:], "-", pos + 1
            elif len(ref) < len(alt):  # MAF: inserted bases after Start_Position, REF '-'
                ref, alt = "-", alt[1:]
            rows.append(f"{vcf.stem}\t{chrom}\t{pos}\t{ref}\t{alt}")
    maf = tmp_path / "calls.maf"
    maf.write_text("Tumor_Sample_Barcode\tChromosome\tStart_Position\tReference_Allele\t"
                   "Tumor_Seq_Allele2\n" + "\n".join(rows) + "\n")
    from_maf = catalog_from_maf(maf, GENOME, context=["SBS96", "DBS78", "ID83"])
    for name in ("SBS96", "DBS78", "ID83"):
        pd.testing.assert_frame_equal(_frame(from_maf[name]), _frame(counted[name]))


# --------------------------------------------------------------------------- edge cases
def _edge(tmp_path, keep=lambda fields: True):
    lines = [x for x in (DATA / "vcf_edge" / "T_edge.vcf").read_text().splitlines()
             if x.startswith("#") or keep(x.split("\t"))]
    path = tmp_path / "T_edge.vcf"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_unknown_contig_is_a_located_error(tmp_path):
    with pytest.raises(FormatError, match=r"T_edge.vcf, line \d+, column CHROM: chromosome "
                                          r"'7' is not in the FASTA"):
        catalog_from_vcf(_edge(tmp_path), GENOME, chrom_alias="auto",
                         max_ref_mismatch=0.5)


def test_edge_cases_are_counted_skips_with_their_reasons(tmp_path, caplog):
    path = _edge(tmp_path, keep=lambda f: f[0] != "7")
    with caplog.at_level(logging.INFO, logger="nmfbio"):
        out = catalog_from_vcf(path, GENOME, context=["SBS96", "SBS1536", "ID83"],
                               chrom_alias="auto", max_ref_mismatch=0.05)
    skipped = out["SBS96"].uns["catalog"]["skipped"]
    assert skipped == {
        "filtered": 2,         # LowQual SNV and deletion (SPMG ignores FILTER)
        "no_alt": 1,           # ALT equal to REF
        "snv": 0, "indel": 0, "mnv": 0, "complex": 0,
        "non_acgt": 3,         # <DEL>, REF 'N', a deletion of an N base
        "not_carried": 1,      # the ALT of a multi-allelic record that GT does not hold
        "past_contig_end": 0,
        "ref_mismatch": 3,     # an SNV, a deletion whose anchor differs, and one whose
                               # deleted bases differ (SPMG checks only the anchor)
        "n_in_context": 4,     # SNV at base 1 and the last base, SNVs next to the N run
    }
    assert "skipped: filtered=2, no_alt=1, non_acgt=3" in caplog.text
    ids = _frame(out["ID83"]).iloc[0]
    # indels at a contig's first and last bases and next to the N run get their class from
    # the bases that are there (N is no copy); the duplicated deletion counts once
    assert ids[ids > 0].to_dict() == {"1:Del:C:0": 1, "1:Del:T:0": 1, "1:Del:T:2": 1,
                                      "1:Ins:C:0": 2, "1:Ins:T:0": 1, "2:Del:R:0": 1}
    # SNVs: 60 controls + the carried allele of the multi-allelic record (its other allele
    # is not_carried) + the duplicate once + bases 2 and 3 and the last but one of a contig
    # + 3 bp from the N run + 'chr3' (chrom_alias) + lower-case alleles = 68. SPMG drops
    # the multi-allelic, lower-case and within-2-bp-of-an-end records.
    assert out["SBS96"].X.sum() == 68
    # base 2 and the last but one have a trinucleotide but no pentanucleotide: SBS96 only
    assert out["SBS1536"].X.sum() == 66
    assert out["SBS96"].uns["catalog"]["calls"] == {"snvs": 68, "doublets": 1, "indels": 7}
