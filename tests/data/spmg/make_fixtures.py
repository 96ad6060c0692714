#!/usr/bin/env python3
"""Regenerate the SigProfilerMatrixGenerator (SPMG) reference fixtures.

Run from the repository root with the dedicated SPMG virtualenv:

    /work/spmg/bin/python tests/data/spmg/make_fixtures.py

Everything is offline and deterministic (fixed seed).  Steps:

1. build a small custom genome (chromosomes 1, 2, 3; 30 kb each) with planted
   homopolymers / tandem repeats / microhomology cassettes and one N run;
2. write a GTF and the SPMG transcript table describing the same genes;
3. install the genome into SPMG as a custom genome (``install(custom=True)``);
   SPMG 1.4.0 additionally refuses genomes that are not in
   ``reference_genome_manager.CHECKSUMS``, so the md5 of each installed
   ``tsb/<genome>/<chrom>.txt`` file is registered in-process (this is what the
   SPMG error message asks for: "register the custom genome and its chromosome
   checksums");
4. write VCFs T1..T4 (normal run) and T_edge (edge cases, separate run);
5. run ``SigProfilerMatrixGeneratorFunc`` twice and copy the matrices and the
   per-mutation seqInfo files next to this script.

Scratch space lives in /work/spmg/build (override with SPMG_BUILD).
"""

import glob
import gzip
import hashlib
import io
import os
import random
import shutil
import sys
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("SPMG_BUILD", "/work/spmg/build")
GENOME = "nmfbio_test"
SEED = 20240611
CHROMS = ["1", "2", "3"]
CHROM_LEN = 30000
N_RUN = ("3", 15001, 15100)  # 1-based inclusive
SLOT = 70
BASES = "ACGT"
COMP = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}

# genes: (gene_id, chrom, strand, start, end), 1-based inclusive
GENES = [
    ("GPLUS1", "1", "+", 2001, 8000),
    ("GMINUS1", "1", "-", 10001, 16000),
    ("GOVLP", "1", "+", 20001, 26000),   # overlaps GOVLM on the other strand
    ("GOVLM", "1", "-", 23001, 28000),   # -> 23001..26000 is bidirectional (B)
    ("GMINUS2", "2", "-", 5001, 12000),
    ("GPLUS2", "2", "+", 15001, 18000),
    ("GPLUS2B", "2", "+", 16001, 17000),  # nested same-strand transcript
]

rng = random.Random(SEED)


def rc(s):
    return "".join(COMP[b] for b in reversed(s))


# --------------------------------------------------------------------------
# genome + planted cassettes
# --------------------------------------------------------------------------
genome = {c: [rng.choice(BASES) for _ in range(CHROM_LEN)] for c in CHROMS}


def put(chrom, pos, seq):
    """Write seq at 1-based pos."""
    for i, b in enumerate(seq):
        genome[chrom][pos - 1 + i] = b


def gseq(chrom, pos, n=1):
    return "".join(genome[chrom][pos - 1:pos - 1 + n])


# special positions (gene boundaries) that get their own SNVs
special = []
for _g, c, _s, st, en in GENES:
    special += [(c, st - 1), (c, st), (c, en), (c, en + 1)]

slots = []
for c in CHROMS:
    for s in range(301, CHROM_LEN - 300 - SLOT, SLOT):
        e = s + SLOT - 1
        if c == N_RUN[0] and not (e < N_RUN[1] - 60 or s > N_RUN[2] + 60):
            continue
        if any(sc == c and s - 12 <= sp <= e + 12 for sc, sp in special):
            continue
        slots.append((c, s))
rng.shuffle(slots)
slot_iter = iter(slots)


def flank(exclude, n=6):
    allowed = [b for b in BASES if b not in set(exclude)]
    return "".join(rng.choice(allowed) for _ in range(n))


def primitive_unit(k, exclude_base):
    alph = [b for b in BASES if b != exclude_base]
    while True:
        u = "".join(rng.choice(alph) for _ in range(k))
        if all(u != u[:d] * (k // d) for d in range(1, k) if k % d == 0):
            return u


records = []  # dicts: sample, chrom, pos, id, ref, alt, filter, kind, intended


def add(sample, chrom, pos, ref, alt, kind, intended="", vid=None, filt="PASS"):
    vid = vid or "m%04d" % (len(records) + 1)
    records.append(dict(sample=sample, chrom=chrom, pos=pos, id=vid, ref=ref,
                        alt=alt, filter=filt, kind=kind, intended=intended))


SAMPLES = ["T1", "T2", "T3", "T4"]
indel_specs = []  # (kind, params)

# 1-bp deletions in homopolymers
for b in "CT":
    for L in [1, 2, 3, 4, 5, 6, 8]:
        indel_specs.append(("del1", dict(b=b, L=L)))
for b in "GA":
    for L in [1, 3, 6]:
        indel_specs.append(("del1", dict(b=b, L=L)))
indel_specs.append(("del1_right", dict(b="C", L=4)))  # not left-aligned
indel_specs.append(("del1_right", dict(b="T", L=3)))
# 1-bp insertions into homopolymers
for b in "CT":
    for L in [0, 1, 2, 3, 4, 5, 7]:
        indel_specs.append(("ins1", dict(b=b, L=L)))
for b in "GA":
    for L in [0, 2, 5]:
        indel_specs.append(("ins1", dict(b=b, L=L)))
# longer deletions / insertions at tandem repeats
for k in [2, 3, 4, 5, 6]:
    for n in [1, 2, 3, 4, 5, 6, 7]:
        indel_specs.append(("delR", dict(k=k, n=n)))
    for n in [0, 1, 2, 3, 4, 5, 6]:
        indel_specs.append(("insR", dict(k=k, n=n)))
indel_specs.append(("delR_right", dict(k=3, n=3)))  # last copy, not left-aligned
# microhomology deletions (3' / forward side, left-aligned)
for k, hs in [(2, [1]), (3, [1, 2]), (4, [1, 2, 3]), (5, [1, 2, 3, 4]),
              (6, [1, 2, 3, 4, 5]), (7, [5, 6])]:
    for h in hs:
        indel_specs.append(("delMH_for", dict(k=k, h=h)))
# microhomology on the 5' side (written at the non-left-aligned position)
for k, h in [(3, 1), (4, 2), (6, 5)]:
    indel_specs.append(("delMH_rev", dict(k=k, h=h)))
# insertions with microhomology (no repeat)
for k, h in [(3, 2), (5, 3)]:
    indel_specs.append(("insMH", dict(k=k, h=h)))
# complex (REF and ALT both > 1 bp and different length / not a DBS)
indel_specs.append(("complex", dict()))


def cap5(x):
    return min(x, 5)


def plant_indel(i, kind, p):
    sample = SAMPLES[i % len(SAMPLES)]
    c, s = next(slot_iter)
    base = s + 2  # first base of cassette
    if kind in ("del1", "del1_right", "ins1"):
        b, L = p["b"], p["L"]
        fl, fr = flank(b), flank(b)
        put(c, base, fl + b * L + fr)
        anchor = base + len(fl) - 1
        cls = "C" if b in "CG" else "T"
        if kind == "del1":
            add(sample, c, anchor, fl[-1] + b, fl[-1], kind,
                "1:Del:%s:%d" % (cls, cap5(L - 1)), "del1_%s_L%d" % (b, L))
        elif kind == "del1_right":
            pos = anchor + L - 1  # anchor = second-last base of the run
            add(sample, c, pos, b + b, b, kind,
                "1:Del:%s:%d" % (cls, cap5(L - 1)), "del1right_%s_L%d" % (b, L))
        else:
            add(sample, c, anchor, fl[-1], fl[-1] + b, kind,
                "1:Ins:%s:%d" % (cls, cap5(L)), "ins1_%s_L%d" % (b, L))
    elif kind in ("delR", "delR_right", "insR"):
        k, n = p["k"], p["n"]
        u = primitive_unit(k, rng.choice(BASES))
        fl, fr = flank(u), flank(u)
        put(c, base, fl + u * n + fr)
        anchor = base + len(fl) - 1
        if kind == "delR":
            add(sample, c, anchor, fl[-1] + u, fl[-1], kind,
                "%d:Del:R:%d" % (cap5(k), cap5(n - 1)), "delR_k%d_n%d" % (k, n))
        elif kind == "delR_right":
            pos = anchor + (n - 1) * k  # last base before the last copy
            add(sample, c, pos, u[-1] + u, u[-1], kind,
                "%d:Del:R:%d" % (cap5(k), cap5(n - 1)), "delRright_k%d_n%d" % (k, n))
        else:
            add(sample, c, anchor, fl[-1], fl[-1] + u, kind,
                "%d:Ins:R:%d" % (cap5(k), cap5(n)), "insR_k%d_n%d" % (k, n))
    elif kind in ("delMH_for", "delMH_rev"):
        k, h = p["k"], p["h"]
        d = primitive_unit(k, rng.choice(BASES))
        fl, fr = flank(d), flank(d)
        if kind == "delMH_for":
            put(c, base, fl + d + d[:h] + fr)
            anchor = base + len(fl) - 1
            add(sample, c, anchor, fl[-1] + d, fl[-1], kind,
                "%d:Del:M:%d" % (cap5(k), cap5(h)), "delMHfor_k%d_h%d" % (k, h))
        else:
            put(c, base, fl + d[-h:] + d + fr)
            anchor = base + len(fl) + h - 1
            add(sample, c, anchor, d[-1] + d, d[-1], kind,
                "%d:Del:M:%d" % (cap5(k), cap5(h)), "delMHrev_k%d_h%d" % (k, h))
    elif kind == "insMH":
        k, h = p["k"], p["h"]
        d = primitive_unit(k, rng.choice(BASES))
        fl, fr = flank(d), flank(d)
        put(c, base, fl + d[:h] + fr)
        anchor = base + len(fl) - 1
        add(sample, c, anchor, fl[-1], fl[-1] + d, kind,
            "%d:Ins:M:%d (MH insertions are folded into %d:Ins:R:0)" % (k, h, k),
            "insMH_k%d_h%d" % (k, h))
    elif kind == "complex":
        fl, fr = flank("ACG"), flank("ACG")
        put(c, base, fl + "ACG" + fr)
        anchor = base + len(fl)
        add(sample, c, anchor, "ACG", "TT", kind, "complex", "complex_ACG_TT")


for i, (kind, p) in enumerate(indel_specs):
    plant_indel(i, kind, p)

# N run (chromosome 3)
put(N_RUN[0], N_RUN[1], "N" * (N_RUN[2] - N_RUN[1] + 1))

# --------------------------------------------------------------------------
# substitutions (picked on the final genome)
# --------------------------------------------------------------------------


def alt_for(ref, alt=None):
    return alt or rng.choice([b for b in BASES if b != ref])


def snv(sample, c, pos, kind="snv", vid=None, alt=None, filt="PASS"):
    ref = gseq(c, pos)
    add(sample, c, pos, ref, alt_for(ref, alt), kind, vid=vid, filt=filt)


# plain SNVs: 150 per sample in random slots (slot centre)
for sample in SAMPLES:
    for _ in range(150):
        c, s = next(slot_iter)
        snv(sample, c, s + SLOT // 2)

# gene-boundary SNVs (strand labels at transcript ends), split over samples
for j, (c, pos) in enumerate(special):
    snv(SAMPLES[j % 4], c, pos, "snv_gene_boundary", vid="bnd_%s_%d" % (c, pos))

# doublets: 12 per sample, half as two adjacent records, half as one 2-bp record
for sample in SAMPLES:
    for j in range(12):
        c, s = next(slot_iter)
        p = s + SLOT // 2
        r = gseq(c, p, 2)
        a = alt_for(r[0]) + alt_for(r[1])
        if j % 2 == 0:
            vid = "dbs2rec_%s_%d" % (sample, j)
            add(sample, c, p, r[0], a[0], "dbs_two_records", vid=vid + "a")
            add(sample, c, p + 1, r[1], a[1], "dbs_two_records", vid=vid + "b")
        else:
            add(sample, c, p, r, a, "dbs_one_record", vid="dbs1rec_%s_%d" % (sample, j))

# triplet as three adjacent records (T1), and as one 3-bp MNV record (T2)
c, s = next(slot_iter)
p = s + SLOT // 2
for q in range(3):
    snv("T1", c, p + q, "tnv_three_records", vid="tnv3rec_%d" % q)
c, s = next(slot_iter)
p = s + SLOT // 2
r = gseq(c, p, 3)
add("T2", c, p, r, "".join(alt_for(x) for x in r), "tnv_one_record", vid="tnv1rec")
# a quadruplet as four adjacent records (T3)
c, s = next(slot_iter)
p = s + SLOT // 2
for q in range(4):
    snv("T3", c, p + q, "qnv_four_records", vid="qnv4rec_%d" % q)
# near-by (non-adjacent) SNV pairs at distance 2, 3, 5, 6 (T4)
for dist in [2, 3, 5, 6]:
    c, s = next(slot_iter)
    p = s + SLOT // 2 - 3
    snv("T4", c, p, "snv_pair_dist%d" % dist, vid="pair%d_a" % dist)
    snv("T4", c, p + dist, "snv_pair_dist%d" % dist, vid="pair%d_b" % dist)
# same SNV in two samples (T1 and T3)
c, s = next(slot_iter)
p = s + SLOT // 2
a = alt_for(gseq(c, p))
snv("T1", c, p, "snv_shared", vid="shared_T1", alt=a)
snv("T3", c, p, "snv_shared", vid="shared_T3", alt=a)

# --------------------------------------------------------------------------
# edge-case sample
# --------------------------------------------------------------------------
edge = []


def eadd(chrom, pos, ref, alt, kind, filt="PASS", vid=None, chrom_label=None):
    edge.append(dict(sample="T_edge", chrom=chrom, chrom_label=chrom_label or chrom,
                     pos=pos, id=vid or kind, ref=ref, alt=alt, filter=filt,
                     kind=kind, intended=""))


def ealt(ref):
    return alt_for(ref)


# ordinary SNVs: SPMG raises ValueError at the very end of a run (after writing
# all matrices) when skipped > 30% of analysed mutations; with 60 controls the
# edge run completes normally (with 5 controls it raised).
N_EDGE_CONTROLS = 60
for j in range(N_EDGE_CONTROLS):
    c, s = next(slot_iter)
    p = s + SLOT // 2
    r = gseq(c, p)
    eadd(c, p, r, ealt(r), "edge_control_snv", vid="ctrl%d" % j)
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r, ",".join([b for b in BASES if b != r][:2]), "multiallelic_snv")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r, "<DEL>", "symbolic_DEL")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
wrong = [b for b in BASES if b != r][0]
eadd(c, p, wrong, [b for b in BASES if b != wrong][1], "ref_mismatch_snv")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p, 3)
wrong_del = "".join([b for b in BASES if b != x][0] for x in r[1:])
eadd(c, p, r[0] + wrong_del, r[0], "ref_mismatch_del_anchor_ok_deleted_wrong",
     vid="refmm_del")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p, 2)
eadd(c, p, ("A" if r[0] != "A" else "C") + r[1], ("A" if r[0] != "A" else "C"),
     "ref_mismatch_del_anchor_wrong")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r, ealt(r), "filter_not_pass_snv", filt="LowQual")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p, 2)
eadd(c, p, r, r[0], "filter_not_pass_del", filt="LowQual")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p); a = ealt(r)
eadd(c, p, r, a, "duplicate_snv", vid="dupA")
eadd(c, p, r, a, "duplicate_snv", vid="dupA")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p, 2)
eadd(c, p, r, r[0], "duplicate_del", vid="dupB")
eadd(c, p, r, r[0], "duplicate_del", vid="dupB")
# contig start / end (chromosome 2)
L = CHROM_LEN
eadd("2", 1, gseq("2", 1, 2), gseq("2", 1), "del_at_contig_start_pos1")
eadd("2", 1, gseq("2", 1), gseq("2", 1) + "G", "ins_at_contig_start_pos1")
eadd("2", 1, gseq("2", 1), ealt(gseq("2", 1)), "snv_pos1")
eadd("2", 2, gseq("2", 2), ealt(gseq("2", 2)), "snv_pos2")
eadd("2", 3, gseq("2", 3), ealt(gseq("2", 3)), "snv_pos3")
eadd("2", L - 1, gseq("2", L - 1), ealt(gseq("2", L - 1)), "snv_last_minus1")
eadd("2", L, gseq("2", L), ealt(gseq("2", L)), "snv_last_base")
eadd("2", L - 2, gseq("2", L - 2, 3), gseq("2", L - 2), "del_last_two_bases")
eadd("2", L, gseq("2", L), gseq("2", L) + "A", "ins_after_last_base")
# N run on chromosome 3 (15001..15100)
n0, n1 = N_RUN[1], N_RUN[2]
eadd("3", n0 + 10, "N", "A", "snv_inside_N_run_refN")
eadd("3", n0 - 1, gseq("3", n0 - 1), ealt(gseq("3", n0 - 1)), "snv_left_of_N_run_ctxN")
eadd("3", n0 - 3, gseq("3", n0 - 3), ealt(gseq("3", n0 - 3)), "snv_3bp_left_of_N_run")
eadd("3", n1 + 1, gseq("3", n1 + 1), ealt(gseq("3", n1 + 1)), "snv_right_of_N_run_ctxN")
eadd("3", n0 - 2, gseq("3", n0 - 2, 2), gseq("3", n0 - 2), "del_left_of_N_run")
eadd("3", n0 - 1, gseq("3", n0 - 1), gseq("3", n0 - 1) + "C", "ins_adjacent_N_run")
eadd("3", n0 - 1, gseq("3", n0 - 1, 2), gseq("3", n0 - 1), "del_first_N_base")
# chromosome naming
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r, ealt(r), "chr_prefixed_name", chrom_label="chr" + c)
eadd("7", 100, "A", "C", "unknown_contig_7")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r.lower(), ealt(r).lower(), "lowercase_ref_alt")
c, s = next(slot_iter); p = s + SLOT // 2; r = gseq(c, p)
eadd(c, p, r, r, "ref_equals_alt")

# --------------------------------------------------------------------------
# write inputs
# --------------------------------------------------------------------------


def write_fasta(path):
    with open(path, "w") as fh:
        for c in CHROMS:
            fh.write(">%s\n" % c)
            s = "".join(genome[c])
            for i in range(0, len(s), 60):
                fh.write(s[i:i + 60] + "\n")


def write_gtf(path):
    with open(path, "w") as fh:
        fh.write("##description: nmfbio SPMG fixture genes (1-based inclusive)\n")
        for g, c, st, a, b in GENES:
            attrs = 'gene_id "%s"; gene_name "%s";' % (g, g)
            fh.write("\t".join([c, "nmfbio", "gene", str(a), str(b), ".", st, ".", attrs]) + "\n")
            tattrs = 'gene_id "%s"; transcript_id "%s.t1"; gene_name "%s";' % (g, g, g)
            fh.write("\t".join([c, "nmfbio", "transcript", str(a), str(b), ".", st, ".", tattrs]) + "\n")
            fh.write("\t".join([c, "nmfbio", "exon", str(a), str(b), ".", st, ".",
                                tattrs + ' exon_number "1";']) + "\n")


def write_transcripts(path):
    # SPMG format: gene_id, transcript_id, chrom, strand (1/-1), start, end [, name]
    with open(path, "w") as fh:
        fh.write("Gene stable ID\tTranscript stable ID\tChromosome/scaffold name\t"
                 "Strand\tTranscript start (bp)\tTranscript end (bp)\tGene name\n")
        for g, c, st, a, b in GENES:
            fh.write("\t".join([g, g + ".t1", c, "1" if st == "+" else "-1",
                                str(a), str(b), g]) + "\n")


VCF_HEADER = (
    "##fileformat=VCFv4.2\n"
    "##source=nmfbio_make_fixtures\n"
    + "".join("##contig=<ID=%s,length=%d>\n" % (c, CHROM_LEN) for c in CHROMS)
    + '##FILTER=<ID=PASS,Description="All filters passed">\n'
    + '##FILTER=<ID=LowQual,Description="Low quality">\n'
    + '##INFO=<ID=KIND,Number=1,Type=String,Description="fixture category">\n'
    + '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
)


def chrom_key(c):
    return (0, int(c)) if c.isdigit() else (1, c)


def write_vcf(path, sample, recs, sort=True):
    if sort:
        recs = sorted(recs, key=lambda r: (chrom_key(r["chrom"]), r["pos"]))
    with open(path, "w") as fh:
        fh.write(VCF_HEADER)
        fh.write("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER",
                            "INFO", "FORMAT", sample]) + "\n")
        for r in recs:
            fh.write("\t".join([r.get("chrom_label", r["chrom"]), str(r["pos"]), r["id"],
                                r["ref"], r["alt"], ".", r["filter"],
                                "KIND=" + r["kind"], "GT", "0/1"]) + "\n")


def write_manifest(path, recs):
    cols = ["sample", "chrom", "pos", "id", "ref", "alt", "filter", "kind", "intended"]
    with open(path, "w") as fh:
        fh.write("\t".join(cols) + "\n")
        for r in sorted(recs, key=lambda r: (r["sample"], chrom_key(r["chrom"]), r["pos"])):
            fh.write("\t".join(str(r[k]) for k in cols) + "\n")


# --------------------------------------------------------------------------
# SPMG install + run
# --------------------------------------------------------------------------


def md5(path):
    with open(path, "rb") as fh:
        return hashlib.md5(fh.read()).hexdigest()


def install_genome(fasta_dir, transcript_file):
    from SigProfilerMatrixGenerator import install as genInstall
    from SigProfilerMatrixGenerator.scripts import ref_install
    rd = ref_install.reference_dir()
    root = str(rd.path)
    # wipe a previous install of this genome (SPMG's installer would otherwise
    # stop at an interactive "Are you sure you want to delete" prompt)
    for d in [os.path.join(root, "references", "chromosomes", x, GENOME)
              for x in ("transcripts", "exome", "tsb", "tsb_BED", "fasta", "chrom_string")]:
        shutil.rmtree(d, ignore_errors=True)
    cwd = os.getcwd()
    os.chdir(BUILD)  # the installer writes install.log / logs/ into the cwd
    try:
        genInstall.install(GENOME, custom=True, fastaPath=fasta_dir,
                           transcriptPath=transcript_file)
    finally:
        os.chdir(cwd)
    register_checksums()


def register_checksums():
    from SigProfilerMatrixGenerator.scripts import ref_install, reference_genome_manager
    tsb = ref_install.reference_dir().get_tsb_dir() / GENOME
    reference_genome_manager.CHECKSUMS[GENOME] = {
        c: md5(str(tsb / (c + ".txt"))) for c in CHROMS}


def run_spmg(project, vcf_dir, seqInfo=True):
    from SigProfilerMatrixGenerator.scripts import SigProfilerMatrixGeneratorFunc as matGen
    return matGen.SigProfilerMatrixGeneratorFunc(
        project, GENOME, vcf_dir, exome=False, bed_file=None, chrom_based=False,
        plot=False, tsb_stat=False, seqInfo=seqInfo)


KEEP = {
    "SBS": ["SBS6", "SBS18", "SBS24", "SBS96", "SBS288", "SBS384", "SBS1536", "SBS4608", "SBS6144"],
    "DBS": ["DBS78", "DBS150", "DBS186", "DBS1248", "DBS2400", "DBS2976"],
    "ID": ["ID28", "ID83", "ID332", "ID415", "ID8628"],
}
EDGE_KEEP = {"SBS6", "SBS96", "SBS288", "SBS384", "DBS78", "ID28", "ID83", "ID415"}
SKIP_BIG = {"SBS6144", "DBS2976", "ID8628", "DBS2400"}


def collect(project, run_dir, prefix, log):
    out = os.path.join(run_dir, "output")
    kept = []
    for sub, names in KEEP.items():
        for name in names:
            src = os.path.join(out, sub, "%s.%s.all" % (project, name))
            if not os.path.exists(src):
                continue
            if name in SKIP_BIG or name == "DBS1248" or (prefix == "edge" and name not in EDGE_KEEP):
                log.append("not kept (large): %s" % os.path.relpath(src, run_dir))
                continue
            dst = os.path.join(HERE, "%s.%s.all" % (prefix, name))
            shutil.copy(src, dst)
            kept.append(dst)
    for mtype, _cols in [("SNV", "sample\tchrom\tpos\tlabel6144\tstrand"),
                        ("DBS", "sample\tchrom\tpos\tlabel\tstrand"),
                        ("MNS", "sample\tchrom\tpos\tmns"),
                        ("ID", None)]:
        files = sorted(glob.glob(os.path.join(out, "vcf_files", mtype, "*_seqinfo.txt")),
                       key=lambda f: chrom_key(os.path.basename(f).split("_")[0]))
        lines = []
        for f in files:
            with open(f) as fh:
                lines += [l for l in fh if l.strip()]
        if not files:
            continue
        dst = os.path.join(HERE, "%s.seqinfo.%s.tsv" % (prefix, mtype))
        with open(dst, "w") as fh:
            fh.writelines(lines)
        kept.append(dst)
    for f in glob.glob(os.path.join(out, "logs", "*.out")) + glob.glob(os.path.join(out, "logs", "*.err")):
        if os.path.getsize(f) == 0:
            continue
        kept_name = os.path.join(HERE, "%s.spmg_log%s" % (prefix, os.path.splitext(f)[1]))
        with open(f) as fh:
            txt = fh.read()
        # drop machine-specific system info / timestamps from the .out log
        if f.endswith(".out"):
            keep_lines = [l for l in txt.splitlines(True)
                          if not l.startswith(("Nodename", "Release", "Version:", "Date and",
                                               "Input File Path", "Reference directory",
                                               "Operating System", "Python Version"))
                          and "seconds" not in l and "execution" not in l.lower()]
            txt = "".join(keep_lines)
        with open(kept_name, "w") as fh:
            fh.write(txt)
        kept.append(kept_name)
    return kept


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [l.rstrip("\n").split("\t") for l in fh if l.strip()]


def per_mutation(prefix, manifest_recs):
    """Join each input VCF record with SPMG's seqInfo label(s) at its position."""
    snv = {(r[0], r[1], int(r[2])): (r[3], r[4]) for r in read_tsv(os.path.join(HERE, prefix + ".seqinfo.SNV.tsv"))}
    dbs = {(r[0], r[1], int(r[2])): (r[3], r[4]) for r in read_tsv(os.path.join(HERE, prefix + ".seqinfo.DBS.tsv"))}
    mns = {(r[0], r[1], int(r[2])): r[3] for r in read_tsv(os.path.join(HERE, prefix + ".seqinfo.MNS.tsv"))}
    ids = {}
    for r in read_tsv(os.path.join(HERE, prefix + ".seqinfo.ID.tsv")):
        ids.setdefault((r[0], r[1], int(r[2]), r[4], r[5]), []).append((r[3], r[6]))
    cols = ["sample", "chrom", "pos", "id", "ref", "alt", "filter", "kind", "intended",
            "sbs_label", "sbs_strand", "sbs_label_next", "dbs_label", "dbs_strand",
            "mns_seq", "id_label", "id_strand"]
    out = []
    seen = set()
    for r in sorted(manifest_recs, key=lambda r: (r["sample"], chrom_key(r["chrom"]), r["pos"])):
        key = (r["sample"], r["chrom"], r["pos"])
        lab = snv.get(key, ("", "")) if len(r["ref"]) <= 2 and len(r["alt"]) <= 2 else ("", "")
        nxt = snv.get((r["sample"], r["chrom"], r["pos"] + 1), ("", ""))[0] if len(r["ref"]) == 2 and len(r["alt"]) == 2 else ""
        d = dbs.get(key, ("", ""))
        idl = ids.get(key + (r["ref"].upper(), r["alt"].upper()), [("", "")])
        # a repeated identical record is counted once by SPMG: label only the first
        dup = (key, r["ref"], r["alt"]) in seen
        seen.add((key, r["ref"], r["alt"]))
        out.append([r["sample"], r["chrom"], str(r["pos"]), r["id"], r["ref"], r["alt"], r["filter"],
                    r["kind"], r["intended"]] + (["", "", "", "", "", ""] if dup else
                   [lab[0], lab[1], nxt, d[0], d[1],
                    mns.get(key, "") if len(r["ref"]) == len(r["alt"]) else ""]) + [
                    "" if dup else idl[0][0], "" if dup else idl[0][1]])
    path = os.path.join(HERE, prefix + ".per_mutation.tsv")
    with open(path, "w") as fh:
        fh.write("\t".join(cols) + "\n")
        for row in out:
            fh.write("\t".join(row) + "\n")
    return path


def main():
    os.makedirs(BUILD, exist_ok=True)
    fasta_dir = os.path.join(BUILD, "fasta")
    shutil.rmtree(fasta_dir, ignore_errors=True)
    os.makedirs(fasta_dir)
    for c in CHROMS:
        # SPMG takes the chromosome name from the second-to-last dot field
        with gzip.GzipFile(os.path.join(fasta_dir, "%s.%s.fa.gz" % (GENOME, c)), "wb", mtime=0) as fh:
            s = "".join(genome[c])
            fh.write((">%s\n" % c + "\n".join(s[i:i + 60] for i in range(0, len(s), 60)) + "\n").encode())

    write_fasta(os.path.join(HERE, "genome.fa"))
    write_gtf(os.path.join(HERE, "genes.gtf"))
    tfile = os.path.join(HERE, "transcripts.txt")
    write_transcripts(tfile)

    vcf_dir = os.path.join(HERE, "vcf")
    shutil.rmtree(vcf_dir, ignore_errors=True)
    os.makedirs(vcf_dir)
    for sm in SAMPLES:
        write_vcf(os.path.join(vcf_dir, "%s.vcf" % sm), sm, [r for r in records if r["sample"] == sm])
    edge_dir = os.path.join(HERE, "vcf_edge")
    shutil.rmtree(edge_dir, ignore_errors=True)
    os.makedirs(edge_dir)
    write_vcf(os.path.join(edge_dir, "T_edge.vcf"), "T_edge", edge, sort=False)
    write_manifest(os.path.join(BUILD, "manifest.tsv"), records)
    write_manifest(os.path.join(BUILD, "manifest_edge.tsv"), edge)

    if "--inputs-only" in sys.argv:
        return
    logbuf = io.StringIO()
    with redirect_stdout(logbuf):
        install_genome(fasta_dir, tfile)
    notes = []
    for project, src, prefix in [("fixt", vcf_dir, "fixt"), ("edge", edge_dir, "edge")]:
        run_dir = os.path.join(BUILD, "run_" + project)
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        for f in os.listdir(src):
            shutil.copy(os.path.join(src, f), run_dir)
        try:
            with redirect_stdout(logbuf):
                run_spmg(project, run_dir)
        except Exception as exc:  # keep going: record what happened
            notes.append("%s run raised %r" % (project, exc))
            print("SPMG run %s raised %r" % (project, exc), file=sys.stderr)
        for f in collect(project, run_dir, prefix, notes):
            print("wrote", os.path.relpath(f, HERE))
        print("wrote", os.path.relpath(per_mutation(prefix, records if prefix == "fixt" else edge), HERE))
    # third run: same VCFs with seqInfo=False -- SPMG's MNV/DBS split differs
    run_dir = os.path.join(BUILD, "run_noseq")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    for f in os.listdir(vcf_dir):
        shutil.copy(os.path.join(vcf_dir, f), run_dir)
    with redirect_stdout(logbuf):
        run_spmg("noseq", run_dir, seqInfo=False)
    for name in ("DBS78", "SBS96", "ID83"):
        sub = {"D": "DBS", "S": "SBS", "I": "ID"}[name[0]]
        shutil.copy(os.path.join(run_dir, "output", sub, "noseq.%s.all" % name),
                    os.path.join(HERE, "fixt_noseqinfo.%s.all" % name))
        print("wrote fixt_noseqinfo.%s.all" % name)
    with open(os.path.join(BUILD, "spmg_stdout.txt"), "w") as fh:
        fh.write(logbuf.getvalue())
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
