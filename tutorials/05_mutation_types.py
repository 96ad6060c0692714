# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Every mutation type: doublets, indels, joint signatures, attribution, opportunities
#
# Single-base substitutions (SBS96) are one third of the standard analysis of a cohort.
# SigProfilerMatrixGenerator (Bergstrom et al. 2019, BMC Genomics 20:685) also counts
# doublet-base substitutions in 78 channels (DBS78: `CC>TT`, …) and small insertions and
# deletions in 83 (ID83: `1:Del:T:5` is a 1-bp deletion of a T in a run of 5 more T), and
# COSMIC has reference signatures of each type. nmfbio counts, extracts, matches, assigns and
# plots every one of them with the same functions as SBS96. This tutorial:
#
# 1. counts SBS96, DBS78 and ID83 catalogs from VCF files and a FASTA genome, and shows the
#    channel of each mutation;
# 2. extracts DBS78 and ID83 signatures from generated cohorts and plots them in the
#    field's layouts;
# 3. extracts *joint* signatures over SBS96 + DBS78 + ID83 with shared exposures, which
#    separates processes that an SBS96-only fit merges;
# 4. gives each mutation of the VCFs the probability of each signature;
# 5. counts trinucleotide opportunities of a genome and of target regions (BED) and
#    converts signatures between them (genome ↔ exome).
#
# Everything is generated here with fixed seeds (about 30 s on two cores). Figures go to
# `$NMFBIO_TUTORIAL_OUT/05_mutation_types/` (default `tutorial_output/05_mutation_types/`).

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

import nmfbio.signatures as sg
from nmfbio.datasets.signature_cohorts import grouped_signatures
from nmfbio.io import catalog_from_vcf, mutation_table, opportunities
from nmfbio.io.mutation_types import mutation_type
from nmfbio.model_selection.matching import cosine_matrix
from nmfbio.plot import plot_signatures, save

OUT = Path(os.environ.get("NMFBIO_TUTORIAL_OUT", "tutorial_output")) / "05_mutation_types"
OUT.mkdir(parents=True, exist_ok=True)
print(f"figures and files go to {OUT.resolve()}")
rng = np.random.default_rng(5)

# %% [markdown]
# ## 1. Counting every type from VCF files
#
# A small genome is written with a few known features: a run of six T, a CACACA repeat and
# a deleted sequence with microhomology. Each tumour's VCF holds substitutions, a doublet
# written as two adjacent SNVs, and indels at those features. One call of
# `catalog_from_vcf(..., context=[...])` gives one catalog per type (AnnData,
# obs = tumours, var = channels).

# %%
left = "".join(rng.choice(list("ACGT"), 200))
genome = (left + "G" + "TTTTTT" + "C"          # 201: G, then 6 T at 202-207
          + "".join(rng.choice(list("CGT"), 40)) + "ACACACGG"   # AC repeat at 249-254
          + "".join(rng.choice(list("ACGT"), 800)))
fasta = OUT / "genome.fa"
fasta.write_text(">1\n" + "\n".join(genome[i:i + 60] for i in range(0, len(genome), 60))
                 + "\n")

header = ("##fileformat=VCFv4.2\n##contig=<ID=1>\n"
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")


def record(pos, ref, alt):
    assert genome[pos - 1:pos - 1 + len(ref)] == ref, (pos, ref)
    return f"1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\n"


vcfs = []
for t in range(3):
    lines = []
    for pos in sorted(rng.choice(np.arange(700, 1050, 3), 25, replace=False)):
        ref = genome[pos - 1]
        lines.append(record(pos, ref, rng.choice([b for b in "ACGT" if b != ref])))
    a, b = genome[600 + t * 40 - 1], genome[600 + t * 40]  # a doublet: two adjacent SNVs
    lines.append(record(600 + t * 40, a, "T" if a != "T" else "G"))
    lines.append(record(601 + t * 40, b, "T" if b != "T" else "G"))
    lines.append(record(201, "GT", "G"))                    # one T of the six deleted
    lines.append(record(248, genome[247], genome[247] + "AC"))  # AC inserted before ACACAC
    lines.sort(key=lambda line: int(line.split("\t")[1]))
    path = OUT / f"tumour{t + 1}.vcf"
    path.write_text(header + "".join(lines))
    vcfs.append(path)

catalogs = catalog_from_vcf(vcfs, fasta, context=["SBS96", "DBS78", "ID83"])
for kind, ad in catalogs.items():
    print(f"{kind}: {ad.n_vars} channels, {int(ad.X.sum())} mutations in {ad.n_obs} tumours")
table = mutation_table(vcfs, fasta, context=["DBS78", "ID83"])
print(table[table["sample"] == "tumour1"].to_string(index=False))

# %% [markdown]
# The deletion of one T from six is `1:Del:T:5` (five T remain around it); the AC inserted
# before an ACACAC run, a 2-bp insertion beside three copies, is `2:Ins:R:3`; the two adjacent
# SNVs are one doublet (and, as SigProfilerMatrixGenerator counts them, also two SBS96
# mutations; `doublets="separate"` leaves them out of SBS96).

# %%
indels = set(table.loc[table["mutation_type"] == "ID83", "channel"])
assert indels == {"1:Del:T:5", "2:Ins:R:3"}, indels
assert int(catalogs["DBS78"].X.sum()) == 3
assert int(catalogs["SBS96"].X.sum()) == 3 * (25 + 2)

# %% [markdown]
# ## 2. DBS78 and ID83 signatures from a cohort
#
# Real DBS and ID signatures are concentrated on one or two channel groups (DBS1 on
# `CC>TT`, ID1 on 1-bp T insertions in long runs). Cohorts of 150 tumours with four such
# signatures each are generated, extracted with `sg.extract` (the mutation type is read from
# the labels) and compared with the truth. Production settings: `ranks=range(1, 16)`,
# `restarts=100` (the defaults).


# %%
def signatures_of(kind, k, seed):
    """k signatures of a type, each concentrated on one or two channel groups."""
    return grouped_signatures(kind, k, seed, prefix=f"{kind}-true")


def cohort(S, n, burden, seed):
    """Poisson counts, 1-2 active signatures per tumour, burden log-uniform."""
    r = np.random.default_rng(seed)
    E = np.zeros((S.shape[1], n))
    for j in range(n):
        which = r.choice(S.shape[1], size=int(r.integers(1, 3)), replace=False)
        E[which, j] = r.dirichlet(np.ones(len(which)))
    E *= np.exp(r.uniform(np.log(burden[0]), np.log(burden[1]), size=n))
    return pd.DataFrame(r.poisson(S.to_numpy() @ E), index=S.index,
                        columns=[f"t{j}" for j in range(n)])


def best_cosines(true, found):
    C = cosine_matrix(true.to_numpy(float), found.to_numpy(float))
    rows, cols = linear_sum_assignment(-C)
    return C[rows, cols]


results = {}
for kind, burden, seed in (("DBS78", (50, 1000), 1), ("ID83", (100, 3000), 2)):
    S = signatures_of(kind, 4, seed)
    res = sg.extract(cohort(S, 150, burden, seed), ranks=range(1, 7), restarts=10, seed=0)
    cos = best_cosines(S, res.signatures)
    print(f"{kind}: rank {res.rank} chosen (4 planted); cosines to the truth "
          f"{np.round(np.sort(cos), 3)}")
    assert res.rank == 4 and cos.min() >= 0.95
    results[kind] = res
save(plot_signatures(results["DBS78"].signatures), OUT / "dbs78_signatures.png")
save(plot_signatures(results["ID83"].signatures), OUT / "id83_signatures.png")

# %% [markdown]
# The plots use SigProfilerPlotting's layout and colours: DBS78 bars grouped by the
# reference doublet (AC, AT, CC, …), ID83 by indel class (1-bp C/T deletions and
# insertions by run length, longer indels by repeat count, deletions with microhomology).
# With COSMIC installed (through SigProfilerAssignment), `sg.match(res.signatures,
# sg.reference("COSMIC_v3.4_DBS_GRCh37"))` names them; a DBS catalog matched against an
# SBS reference is refused with a message saying which reference to use.
#
# ## 3. Joint signatures across types
#
# One mutational process leaves substitutions, doublets and indels at once. Two processes
# with the same SBS96 spectrum but different indels are one signature to an SBS96 fit;
# stacking the three catalogs of the same tumours (`sg.extract_joint`, shared exposures)
# tells them apart. As `extract` does, it first scales hypermutated tumours down
# (`normalize="gmm"`), here by each tumour's total over all three types, so one factor per
# tumour keeps its split between the types (the cutoff's floor, 100 mutations per channel,
# then counts the channels of all three); the summary says what was done.

# %%
n = 120
sbs = signatures_of("SBS96", 2, 3)
parts = {"SBS96": pd.concat([sbs.iloc[:, [0, 0]], sbs.iloc[:, [1]]], axis=1),
         "DBS78": signatures_of("DBS78", 3, 4), "ID83": signatures_of("ID83", 3, 5)}
per_type = {"SBS96": 3000.0, "DBS78": 300.0, "ID83": 600.0}
E = np.zeros((3, n))
for j in range(n):
    which = rng.choice(3, size=int(rng.integers(1, 3)), replace=False)
    E[which, j] = rng.dirichlet(np.ones(len(which)))
E *= rng.uniform(0.3, 2.0, size=n)
cats = {t: pd.DataFrame(rng.poisson(parts[t].to_numpy() @ E * per_type[t]),
                        index=parts[t].index, columns=[f"t{j}" for j in range(n)])
        for t in parts}
alone = sg.extract(cats["SBS96"], ranks=range(1, 6), restarts=10, seed=0)
joint = sg.extract_joint(cats, ranks=range(1, 6), restarts=10, seed=0)
print(f"SBS96 alone: rank {alone.rank}; joint: rank {joint.rank}")
print(joint.summary())
print("share of each joint signature's mutations by type:\n" + joint.shares.round(2)
      .to_string())
assert alone.rank == 2 and joint.rank == 3
assert best_cosines(parts["ID83"], joint.signatures_of("ID83")).min() >= 0.9
save(plot_signatures(joint.signatures_of("ID83")), OUT / "joint_id83.png")

# %% [markdown]
# `joint.signatures_of("DBS78")` and `joint.exposures_of("ID83")` give each type's part;
# exposures are in mutations of all types. `weights="equal"` scales the types to equal
# total weight when the rare doublets should count as much as the substitutions.
#
# ## 4. The probability of each signature for each mutation
#
# For a mutation of tumour `s` in channel `c`, signature `k` has probability
# `W[c, k]·E[s, k] / Σ_j W[c, j]·E[s, j]` (SigProfilerAssignment's "probabilities"). Here the
# ID83 mutations of part 1 are attributed to two made-up ID signatures, one of them the
# 1-bp T deletions in long runs.

# %%
ids = pd.DataFrame(0.001, index=list(mutation_type("ID83").labels), columns=["slip", "other"])
ids.loc["1:Del:T:5", "slip"] = 0.5
ids.loc["2:Ins:R:3", "other"] = 0.5
ids /= ids.sum()
exposures = pd.DataFrame({"slip": [5.0, 1.0, 1.0], "other": [1.0, 5.0, 1.0]},
                         index=["tumour1", "tumour2", "tumour3"])
prob = sg.attribute(mutation_table(vcfs, fasta, context="ID83"), ids, exposures)
print(prob[["sample", "pos", "channel", "slip", "other", "most_likely"]].to_string(index=False))
assert np.allclose(prob[["slip", "other"]].sum(axis=1), 1.0)
assert (prob.loc[prob["channel"] == "1:Del:T:5", "most_likely"] == "slip").all()
prob.to_csv(OUT / "probabilities.tsv", sep="\t", index=False)

# %% [markdown]
# From the command line: `nmfbio signatures attribute tumour*.vcf --fasta genome.fa
# --signatures sigs/signatures.tsv --exposures sigs/exposures.tsv` writes
# `probabilities.tsv` beside the exposures.
#
# ## 5. Opportunities: genome and exome signatures
#
# A signature is what a process leaves in a given sequence. An exome is richer in CpG than
# the genome, so the same process leaves relatively more `C>T` at `ACG` there. Counting the
# trinucleotides of the genome and of target regions (BED; here a GC-rich stretch stands for
# the exome) and weighting each channel by their ratio converts a signature between the two.

# %%
at_rich = rng.choice(list("ACGT"), 30_000, p=[.32, .18, .18, .32])
gc_rich = rng.choice(list("ACGT"), 6_000, p=[.18, .32, .32, .18])
big = OUT / "genome2.fa"
big.write_text(">1\n" + "".join(at_rich) + "".join(gc_rich) + "\n")
kit = OUT / "kit.bed"
kit.write_text("1\t30000\t36000\tcapture\n")
whole, exome = opportunities(big), opportunities(big, kit)
print(pd.DataFrame({"genome": whole, "exome": exome}).loc[["ACG", "ATA", "CCG", "TTT"]])
flat = pd.DataFrame(1 / 96, index=list(mutation_type("SBS96").labels), columns=["flat"])
in_exome = sg.convert_opportunities(flat, whole, exome)
ratio = in_exome.loc["A[C>T]G", "flat"] / in_exome.loc["A[C>T]A", "flat"]
print(f"a flat genome signature in the exome: A[C>T]G / A[C>T]A = {ratio:.2f}")
assert ratio > 1.5
back = sg.convert_opportunities(in_exome, exome, whole)
assert np.allclose(back.to_numpy(), flat.to_numpy())

# %% [markdown]
# On the command line: `nmfbio signatures opportunities GRCh37.fa -o genome.tsv`,
# `nmfbio signatures opportunities GRCh37.fa --regions kit.bed -o exome.tsv`, then
# `nmfbio signatures convert COSMIC_v3.4_SBS_GRCh37.txt --source genome.tsv --target
# exome.tsv -o cosmic_exome.tsv`. In a workflow, `signatures: {context: ID83}` with
# `reader: variants` counts the type from the VCFs before extraction;
# `context: [SBS96, DBS78, ID83]` counts all three and extracts them jointly.
