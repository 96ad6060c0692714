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
# # Mutational signatures: from a catalog and from VCF files
#
# Every mutational process leaves its own spectrum of single-base substitutions, read in
# 96 channels (6 substitution classes × 4 bases 5' × 4 bases 3', written `A[C>A]T`). A
# tumour's catalog is a mixture of these spectra, so NMF of a cohort's catalogs
# (96 channels × tumours) finds the signatures W and each tumour's exposures H
# (Alexandrov et al. 2013, Nature 500:415). This tutorial:
#
# 1. extracts de novo signatures from the bundled catalog of 21 breast cancers
#    (Nik-Zainal et al. 2012, Cell 149:979) and reads them;
# 2. matches de novo signatures to a reference set and assigns reference signatures to
#    tumours, on a generated cohort whose true signatures are known;
# 3. builds a catalog from VCF files and a FASTA genome, both generated here.
#
# Run it as a script (`python tutorials/02_mutational_signatures.py`, about 15 s) or open
# it as a notebook with jupytext. Figures go to
# `$NMFBIO_TUTORIAL_OUT/02_mutational_signatures/` (default
# `tutorial_output/02_mutational_signatures/`). The settings are small so that it runs
# quickly; the production settings are given where they differ.

# %%
import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import nmfbio
import nmfbio.signatures as sg
from nmfbio import datasets
from nmfbio.io import catalog_from_vcf
from nmfbio.io.sbs96 import CHANNELS, COMPLEMENT, reverse_complement, substitution_of
from nmfbio.plot import plot_signatures, save

NAME = "02_mutational_signatures"
OUT = Path(os.environ.get("NMFBIO_TUTORIAL_OUT", "tutorial_output")) / NAME
OUT.mkdir(parents=True, exist_ok=True)


def show(fig, filename):
    """Save a figure into OUT (and display it when running in a notebook)."""
    path = save(fig, OUT / filename)
    print(f"figure written: {path}")
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    if get_ipython() is not None:
        display(Image(filename=str(path)))


def counts_frame(adata):
    """A catalog AnnData (samples × channels) as a DataFrame of channels × samples."""
    return pd.DataFrame(np.asarray(adata.X, dtype=float).T, index=list(adata.var_names),
                        columns=list(adata.obs_names))


print(f"nmfbio {nmfbio.__version__}; figures go to {OUT.resolve()}")

# %% [markdown]
# ## 1. De novo extraction from the 21 breast cancers
#
# `datasets.breast21()` is an AnnData with the tumours as observations and the 96 channels
# as variables (the layout `nmfbio.io.read_catalog` gives for any SigProfiler or COSMIC
# style table).

# %%
catalog = datasets.breast21()
per_tumour = pd.Series(np.asarray(catalog.X).sum(axis=1), index=catalog.obs_names)
print(catalog)
print(f"{int(per_tumour.sum())} substitutions; per tumour from {int(per_tumour.min())} to "
      f"{int(per_tumour.max())} (median {int(per_tumour.median())})")

# %% [markdown]
# `sg.extract` runs the field's recipe: KL (Poisson) NMF; the number of signatures chosen
# by held-out cross-validation (`nmfbio.select_rank`, `choose="largest"`: the most
# signatures whose held-out error is within two standard errors of the best, because on
# real cohorts the error is flat over several ranks and the known signatures separate only
# at the top of that range); then, at that rank, a
# consensus over restarts that are each fitted to a Poisson-resampled copy of the catalog,
# so a signature counts only if it survives the counting noise; consensus components at
# least 0.93 alike (one process split in two) are merged (`merge=0.93`; the summary says
# so). Here ranks 1–8 with 50
# consensus restarts (about 3 s); for a study use `ranks=range(1, 16)` (or more for large
# cohorts) and `restarts=100` or more.
#
# One of these tumours (PD4120a) carries 70,690 substitutions, seven times the next one:
# fitted as they are, its counts would pull the signatures towards its own spectrum. As
# SigProfilerExtractor does, `extract` first scales such hypermutated samples down
# (`normalize="gmm"`, the default: a cutoff from a Gaussian mixture of the sample totals,
# at least 100 × the channels), fits the signatures, then refits every exposure on the raw
# counts. The summary and `res.params["normalization"]` say what was done; `normalize=
# "none"` fits the raw counts.

# %%
res = sg.extract(catalog, ranks=range(1, 9), restarts=50, seed=0)
print(res.summary())
print(res.selection.table[["test_error", "test_se", "stability", "within_1se"]])
norm = res.params["normalization"]
print(f"sample normalisation: {norm['note']}")
assert norm["scaled"] == ["PD4120a"]
assert np.isclose(res.exposures.loc["PD4120a"].sum(), per_tumour["PD4120a"], rtol=0.01), (
    "exposures are of the raw counts")
res.save(OUT / "breast21_extraction.h5")  # the whole result, one HDF5 file
again = sg.ExtractionResult.load(OUT / "breast21_extraction.h5")
assert again.signatures.equals(res.signatures) and again.selection.best == res.rank
tables = res.to_tsv(OUT / "breast21_extraction")  # COSMIC-layout tables for other tools
print("tables written:", ", ".join(p.name for p in tables))

# %% [markdown]
# The summary states the rule behind the rank, and the stability of each signature. Read
# the signatures through their channels. Two biological landmarks are easy to test without
# a reference set: APOBEC cytidine deaminases mutate C in a TpC context to T or G
# (COSMIC SBS2 and SBS13), and spontaneous deamination of methylated cytosine gives C>T at
# CpG (SBS1, the "clock-like" signature).

# %%
sigs = res.signatures                                   # 96 channels × signatures
apobec_channels = [c for c in sigs.index if c[0] == "T" and substitution_of(c) in
                   ("C>T", "C>G")]
cpg_channels = [c for c in sigs.index if substitution_of(c) == "C>T" and c[6] == "G"]
apobec_share = sigs.loc[apobec_channels].sum()
cpg_enrichment = sigs.loc[cpg_channels].sum() / (len(cpg_channels) / 96)
readout = pd.DataFrame({"stability": res.stability, "APOBEC (TpC>T/G) share": apobec_share,
                        "CpG C>T enrichment": cpg_enrichment,
                        "mutations": res.exposures.sum().astype(int)})
print(readout.round(2))

apobec_sig = apobec_share.idxmax()
assert apobec_share.max() > 0.7, "one signature is APOBEC-like"
assert res.stability[apobec_sig] >= 0.8, "and it is stable"
assert (cpg_enrichment[res.stability >= 0.8] > 3).any(), "a stable CpG C>T signature"
assert res.cosine().median() > 0.95, "the signatures reconstruct the tumours"

# %%
notes = {s: f"stability {res.stability[s]:.2f}; APOBEC share {apobec_share[s]:.2f}; "
            f"CpG C>T ×{cpg_enrichment[s]:.1f}" for s in sigs.columns}
fig = plot_signatures(sigs, annotations=notes)
fig.suptitle("De novo signatures of 21 breast cancers (96 channels)")
show(fig, "breast21_signatures.png")

ax = res.plot_exposures()
ax.set_title("Mutations attributed to each de novo signature")
show(ax, "breast21_exposures.png")

# %% [markdown]
# One signature carries most of the APOBEC mutations (TpC>T and TpC>G), and one tumour
# (PD4120a) is dominated by it. Another is enriched for C>T at CpG, the clock-like
# process. A third is flat (SBS3/SBS5-like, as in BRCA-deficient tumours). If a fourth,
# unstable signature appears (stability well below 0.8), consensus is telling us that 21
# tumours do not determine it: here it is the TpC>G half of the APOBEC pattern, split off
# in some restarts and not in others. Treat such a signature as a hypothesis.
#
# ## 2. Matching to a reference set and assigning exposures
#
# Naming de novo signatures means comparing them with a reference set such as COSMIC.
# COSMIC's files may not be redistributed, so nmfbio ships none: `sg.reference(path)`
# loads your own copy (or one installed with SigProfilerAssignment) and checks its sha256.
# To show matching and assignment with a known answer, we generate a cohort instead:
# 8 "reference" signatures (one flat, one CpG C>T, six concentrated on one or two
# substitution classes), of which 4 are active in 120 tumours with 300–10,000 mutations
# each and 1–3 signatures per tumour.

# %%
def reference_signatures(k, seed):
    """k signatures over the 96 channels: a flat one, a CpG C>T one, and spiky ones."""
    rng = np.random.default_rng(seed)
    classes = np.array([substitution_of(c) for c in CHANNELS])
    cpg = np.array([substitution_of(c) == "C>T" and c[6] == "G" for c in CHANNELS])
    columns = []
    for i in range(k):
        if i == 0:
            s = rng.dirichlet(np.full(96, 8.0))
        elif i == 1:
            s = rng.dirichlet(np.full(96, 0.3)) * 0.2
            s[cpg] += rng.dirichlet(np.ones(cpg.sum())) * 0.8
        else:
            focus = rng.choice(sorted(set(classes)), size=rng.integers(1, 3), replace=False)
            s = rng.dirichlet(np.where(np.isin(classes, focus), 2.4, 0.09))
        columns.append(s / s.sum())
    return pd.DataFrame(np.array(columns).T, index=list(CHANNELS),
                        columns=[f"REF{i + 1}" for i in range(k)])


reference = reference_signatures(8, seed=3)
active = ["REF1", "REF2", "REF4", "REF7"]
rng = np.random.default_rng(11)
n_tumours = 120
true_exposures = np.zeros((len(active), n_tumours))
for j in range(n_tumours):
    present = rng.choice(len(active), size=rng.integers(1, 4), replace=False)
    true_exposures[present, j] = rng.dirichlet(np.ones(len(present)))
true_exposures *= np.exp(rng.uniform(np.log(300), np.log(10_000), size=n_tumours))
cohort = pd.DataFrame(rng.poisson(reference[active].to_numpy() @ true_exposures),
                      index=list(CHANNELS), columns=[f"tumour{j:03d}" for j in range(n_tumours)],
                      dtype=float)
truth = pd.DataFrame(true_exposures.T, index=cohort.columns, columns=active)
print(f"cohort: {cohort.shape[1]} tumours, {int(cohort.to_numpy().sum())} mutations")

# %% [markdown]
# Extract (same settings as above), then `sg.match`: the cosine of every de novo signature
# with every reference signature, a one-to-one Hungarian matching, and a decomposition of
# each de novo signature into a few reference signatures (a de novo signature that no
# combination explains at cosine ≥ 0.9 is called novel).

# %%
cohort_res = sg.extract(cohort, ranks=range(1, 9), restarts=50, seed=0)
matches = sg.match(cohort_res, reference)
print(f"rank {cohort_res.rank}; stability {cohort_res.stability.round(3).to_dict()}")
print(matches.summary())
assert cohort_res.rank == len(active)
assert sorted(matches.pairs["reference"]) == sorted(active)
assert matches.pairs["match"].all() and not matches.decomposition["novel"].any()

# %%
fig = Figure(figsize=(8, 3.6), layout="constrained")
matches.plot(ax=fig.add_subplot())
fig.axes[0].set_title("Cosine of de novo (rows) and reference (columns) signatures")
show(fig, "cohort_match_cosine.png")

notes = {s: f"matches {matches.pairs.loc[s, 'reference']} (cosine "
            f"{matches.pairs.loc[s, 'cosine']:.3f})" for s in cohort_res.signatures.columns}
fig = plot_signatures(cohort_res.signatures, annotations=notes)
fig.suptitle("De novo signatures of the generated cohort, with their reference matches")
show(fig, "cohort_signatures.png")

# %% [markdown]
# `sg.assign` goes the other way: given a reference set, how many mutations of each tumour
# does each reference signature explain? It refits each tumour by non-negative least
# squares on a subset of the reference chosen by forward/backward selection (as
# SigProfilerAssignment does), so inactive signatures get exactly zero instead of a little
# of everything. `bootstrap=` resamples each tumour's mutations for 95 % intervals
# (here 20 resamples; use 100 or more for reporting).

# %%
assigned = sg.assign(cohort, reference, bootstrap=20, seed=0)
exposures = assigned.exposures
inactive = [c for c in reference.columns if c not in active]
corr = {s: np.corrcoef(exposures[s], truth[s])[0, 1] for s in active}
print(f"median reconstruction cosine {assigned.cosine.median():.3f}; mutations given to "
      f"inactive signatures: {exposures[inactive].to_numpy().sum():.0f} of "
      f"{exposures.to_numpy().sum():.0f}")
print("correlation of assigned with true exposures:",
      ", ".join(f"{s} {c:.3f}" for s, c in corr.items()))
width = (assigned.upper - assigned.lower)[active]
print("median width of the 95 % interval, as a share of the exposure:",
      round(float((width / exposures[active].where(exposures[active] > 0)).stack().median()),
            3))
assert min(corr.values()) > 0.98
assert exposures[inactive].to_numpy().sum() < 0.01 * exposures.to_numpy().sum()

# %%
fig = Figure(figsize=(13, 4.2), layout="constrained")
ax1, ax2 = fig.subplots(1, 2, width_ratios=[2.2, 1])
assigned.plot(ax=ax1, relative=True)
ax1.set_title("Assigned exposures (share of each tumour's mutations)")
for s, colour in zip(active, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"], strict=True):
    ax2.scatter(truth[s], exposures[s], s=10, color=colour, label=s)
lim = float(max(truth.to_numpy().max(), exposures.to_numpy().max())) * 1.5
ax2.plot([1, lim], [1, lim], color="k", lw=0.8, ls="--")
ax2.set_xscale("symlog", linthresh=10)
ax2.set_yscale("symlog", linthresh=10)
ax2.set_xlabel("true mutations from the signature")
ax2.set_ylabel("assigned mutations")
ax2.set_title("assigned against true exposures")
ax2.legend(fontsize=8)
show(fig, "cohort_assignment.png")

# %% [markdown]
# Assigned and true exposures agree over three orders of magnitude. The points on the
# bottom edge are real but small contributions that the selection dropped because they
# did not raise the tumour's reconstruction cosine by at least `add_above` (0.05); many
# belong to the flat REF1, the hardest signature to see against others. Lower
# `add_above` to keep more of them, at the price of more false positives.

# %% [markdown]
# ### With COSMIC
#
# With a copy of COSMIC the same two calls name the breast cancer signatures. Set
# `NMFBIO_COSMIC` to your file (e.g. `COSMIC_v3.4_SBS_GRCh37.txt` from
# https://cancer.sanger.ac.uk/signatures/downloads/), or install SigProfilerAssignment;
# without either this cell only says so.

# %%
try:
    cosmic = sg.reference(os.environ.get("NMFBIO_COSMIC", "COSMIC_v3.4_SBS_GRCh37"))
except sg.ReferenceNotFoundError as err:
    cosmic = None
    print(f"COSMIC is not available here; skipping this cell.\n{err}")
if cosmic is not None:
    breast_matches = sg.match(res, cosmic)
    print(breast_matches.summary())
    show(breast_matches.plot(), "breast21_cosmic_cosine.png")
    show(sg.assign(catalog, cosmic, seed=0).plot(relative=True), "breast21_cosmic_assign.png")

# %% [markdown]
# ## 3. From VCF files to a catalog
#
# `nmfbio.io.catalog_from_vcf` counts the single-base substitutions of VCF files into the
# 96 channels, reading the flanking bases from a FASTA of the reference genome (locally,
# without a network or a compiled dependency). A substitution on the purine strand is
# reverse-complemented, so `A[G>T]C` counts as `G[C>A]T`. Indels, multi-base variants,
# filtered calls and REF bases that disagree with the genome are skipped and tallied.
#
# To know the right answer we generate everything: a random two-chromosome genome, and
# three tumours whose mutations are drawn from the breast cancer signatures extracted
# above — 400 from the APOBEC signature, 400 from the CpG one, and 200 + 200 from both.
# Each drawn channel is placed at a random genome position with the right trinucleotide,
# on either strand; we also add an indel and a filtered call to each file.

# %%
rng = np.random.default_rng(2024)
data_dir = OUT / "vcf_example"
data_dir.mkdir(exist_ok=True)
genome = {name: "".join(rng.choice(list("ACGT"), size=30_000)) for name in ("chr1", "chr2")}
fasta = data_dir / "genome.fa"
with open(fasta, "w") as f:
    for name, seq in genome.items():
        f.write(f">{name}\n")
        f.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))

# 1-based positions of the middle base of every trinucleotide, by trinucleotide
sites = {}
for name, seq in genome.items():
    for pos in range(2, len(seq)):
        sites.setdefault(seq[pos - 2:pos + 1], []).append((name, pos))

cpg_sig = cpg_enrichment[res.stability >= 0.8].idxmax()
design = {"tumourA": {apobec_sig: 400}, "tumourB": {cpg_sig: 400},
          "tumourC": {apobec_sig: 200, cpg_sig: 200}}
planted = pd.DataFrame(0, index=list(CHANNELS), columns=list(design), dtype=float)
vcf_paths = []
for tumour, recipe in design.items():
    records, taken = [], set()
    for signature, n_mut in recipe.items():
        for channel in rng.choice(sigs.index, size=n_mut, p=sigs[signature].to_numpy()):
            planted.loc[channel, tumour] += 1
            tri, ref, alt = channel[0] + channel[2] + channel[6], channel[2], channel[4]
            if rng.random() < 0.5:  # write it on the other strand: G/A reference
                tri, ref, alt = reverse_complement(tri), COMPLEMENT[ref], COMPLEMENT[alt]
            while True:
                chrom, pos = sites[tri][rng.integers(len(sites[tri]))]
                if (chrom, pos) not in taken:
                    break
            taken.add((chrom, pos))
            records.append((chrom, pos, ref, alt, "PASS"))
    # one deletion and one filtered SNV: both must be skipped
    records.append(("chr1", 1001, genome["chr1"][1000:1002], genome["chr1"][1000], "PASS"))
    base = genome["chr2"][499]
    records.append(("chr2", 500, base, "A" if base != "A" else "C", "LowQual"))
    lines = ["##fileformat=VCFv4.2",
             *[f"##contig=<ID={c},length={len(s)}>" for c, s in genome.items()],
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + tumour]
    for chrom, pos, ref, alt, filt in sorted(records):
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\t{filt}\t.\tGT\t0/1")
    path = data_dir / f"{tumour}.vcf.gz" if tumour == "tumourC" else data_dir / f"{tumour}.vcf"
    with (gzip.open(path, "wt") if path.suffix == ".gz" else open(path, "w")) as f:
        f.write("\n".join(lines) + "\n")
    vcf_paths.append(path)
print("written:", ", ".join(p.name for p in [fasta, *vcf_paths]))

# %%
vcf_catalog = catalog_from_vcf(vcf_paths, fasta)
info = vcf_catalog.uns["catalog"]
print(vcf_catalog)
print("counted:", info["counted"], "| skipped:", {k: v for k, v in info["skipped"].items() if v})
counted = counts_frame(vcf_catalog)
assert counted.equals(planted[counted.columns]), "every planted substitution, in its channel"
assert info["skipped"]["indel"] == 3 and info["skipped"]["filtered"] == 3

# %% [markdown]
# The catalog is exactly the planted counts, whichever strand a mutation was written on.
# It is an ordinary catalog AnnData, so everything above applies; here we plot it and
# assign the breast cancer signatures to the three tumours.

# %%
fig = plot_signatures(counted, normalize=False,
                      annotations={t: f"{int(counted[t].sum())} substitutions"
                                   for t in counted.columns})
fig.suptitle("Catalogs counted from the generated VCF files")
show(fig, "vcf_catalogs.png")

vcf_assigned = sg.assign(vcf_catalog, sigs)
shares = vcf_assigned.relative()
print(shares.round(2))
assert shares.loc["tumourA", apobec_sig] > 0.8 and shares.loc["tumourB", cpg_sig] > 0.8
assert shares.loc["tumourC", [apobec_sig, cpg_sig]].min() > 0.3

# %% [markdown]
# ## Summary
#
# * `sg.extract(catalog, ranks=..., restarts=..., seed=...)` chooses the number of
#   signatures and gives each a stability; `.save()` keeps the whole result (reload it
#   with `ExtractionResult.load`), `.to_tsv()` writes COSMIC-layout tables; read unstable
#   signatures with care.
# * `sg.match(result, reference)` names de novo signatures; `sg.assign(catalog,
#   reference)` gives sparse exposures with bootstrap intervals. COSMIC is loaded from
#   your own copy with `sg.reference(path)`.
# * `nmfbio.io.catalog_from_vcf(vcfs, fasta)` (and `catalog_from_maf`) turns variant calls
#   into a catalog and reports what it skipped.
