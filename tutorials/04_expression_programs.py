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
# # Gene-expression programs from an AnnData
#
# A cell's transcriptome is a mixture of *programs*: an identity program (what type of
# cell it is) plus activity programs (cycling, stress, interferon response...) that cells
# of many types share. `nmfbio.programs.find` runs the consensus NMF recipe of cNMF
# (Kotliar et al. 2019, eLife 8:e43803) on an AnnData of raw counts: over-dispersed genes,
# counts per cell scaled to unit variance without centring, a consensus over restarts for
# every candidate number of programs, the most stable rank, then usages per cell, spectra
# on all genes and marker scores. This tutorial:
#
# 1. recovers planted programs from generated counts, including an activity program
#    shared by all cell types;
# 2. runs the same on real 10x Genomics data bundled with nmfbio (1,107 cells,
#    chromosome 21 genes), and shows where the results live in the AnnData and how to
#    export them.
#
# Run it as a script (`python tutorials/04_expression_programs.py`, about 10 s) or open it
# as a notebook with jupytext. Figures go to `$NMFBIO_TUTORIAL_OUT/04_expression_programs/`
# (default `tutorial_output/04_expression_programs/`).

# %%
import os
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

import nmfbio
from nmfbio import datasets
from nmfbio.model_selection.matching import cosine_matrix, match_columns
from nmfbio.plot import plot_cosine_heatmap, save

NAME = "04_expression_programs"
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


print(f"nmfbio {nmfbio.__version__}; figures go to {OUT.resolve()}")

# %% [markdown]
# ## 1. Planted programs
#
# 1,000 cells of 4 types over 800 genes. Each type has its identity program (60 marker
# genes boosted about 15-fold over a shared baseline); 30 % of the cells of every type
# also use a fifth, "activity" program for 20–60 % of their transcripts. Counts are
# negative binomial around each cell's mixture times its library size (about 3,000 UMIs).

# %%
def planted_counts(n_cells, n_genes, n_types, seed):
    """AnnData of NB counts from known programs; the programs and usages as arrays."""
    rng = np.random.default_rng(seed)
    k = n_types + 1
    base = rng.gamma(0.5, size=n_genes)
    programs = np.empty((n_genes, k))
    for p in range(k):
        boost = np.ones(n_genes)
        markers = rng.choice(n_genes, size=60, replace=False)
        boost[markers] = rng.lognormal(np.log(15), 0.5, size=60)
        programs[:, p] = base * boost * rng.lognormal(0, 0.3, size=n_genes)
    programs /= programs.sum(axis=0)
    types = rng.integers(0, n_types, size=n_cells)
    usage = np.zeros((n_cells, k))
    usage[np.arange(n_cells), types] = 1.0
    activity = (rng.random(n_cells) < 0.3) * rng.uniform(0.2, 0.6, size=n_cells)
    usage *= (1 - activity)[:, None]
    usage[:, -1] = activity
    library = rng.lognormal(np.log(3000), 0.4, size=n_cells)
    mean = usage @ programs.T * library[:, None]
    counts = rng.poisson(rng.gamma(5.0, mean / 5.0))          # NB, dispersion 0.2
    adata = anndata.AnnData(sp.csr_matrix(counts, dtype=np.float64))
    adata.obs_names = [f"cell{i}" for i in range(n_cells)]
    adata.var_names = [f"gene{g}" for g in range(n_genes)]
    adata.obs["type"] = pd.Categorical([f"type{t + 1}" for t in types])
    adata.obs["activity"] = activity > 0
    return adata, programs, usage


adata, true_programs, true_usage = planted_counts(1000, 800, n_types=4, seed=0)
names_true = [f"type{t + 1}" for t in range(4)] + ["activity"]
print(adata)

# %% [markdown]
# A few genes get no counts at all in these cells. `find` would leave them out and say so
# with a `DataWarning`; the usual quality-control step is to drop them first.

# %%
detected = np.asarray(adata.X.sum(axis=0)).ravel() > 0
adata = adata[:, detected].copy()
true_programs = true_programs[detected]
print(f"{int((~detected).sum())} genes without counts dropped; {adata.n_vars} genes remain")

# %% [markdown]
# Candidate ranks 3–8, 15 restarts each (about 3 s). For a study use
# `ranks=range(2, 16)` or wider, `restarts=100`, and the default `n_top_genes=2000`.

# %%
planted = nmfbio.programs.find(adata, ranks=range(3, 9), n_top_genes=600, restarts=15,
                               seed=0)
print(planted.summary())
print(planted.table.round(3))

perm, cos_programs = match_columns(true_programs, planted.programs.to_numpy())
found_names = list(planted.programs.columns)
label = {found_names[perm[k]]: names_true[k] for k in range(len(names_true))}
_, cos_usage = match_columns(true_usage, planted.usage.to_numpy()[:, perm])
print("found program -> planted program:", label)
print("cosine of spectra:", cos_programs.round(3), "| of usages:", cos_usage.round(3))
assert planted.rank == 5, "4 identity programs + 1 activity program"
assert cos_programs.min() > 0.98 and cos_usage.min() > 0.95
assert (planted.stability >= 0.8).all()

# %%
ax = planted.plot_rank_selection()
ax.set_title("Planted data: stability and error against the number of programs")
show(ax, "planted_rank_selection.png")

cos = pd.DataFrame(cosine_matrix(planted.programs.to_numpy(), true_programs),
                   index=pd.Index(found_names, name="found program"),
                   columns=pd.Index(names_true, name="planted program"))
ax = plot_cosine_heatmap(cos)
ax.set_title("Spectra of found and planted programs (cosine)")
show(ax, "planted_programs_vs_truth.png")

# %% [markdown]
# The usage heatmap shows each cell's share of each program, cells grouped by their
# annotated type: every type uses one identity program, and the activity program lights
# up in a subset of cells of every type — a program that clustering cells would miss.

# %%
groups = adata.obs["type"].astype(str) + np.where(adata.obs["activity"], " +act", "")
ax = planted.plot_usage(groups=groups)
ax.set_yticks(range(planted.rank), [f"{p} ({label[p]})" for p in found_names])
ax.set_title("Planted data: program usage per cell, grouped by type and activity")
show(ax, "planted_usage.png")

mean_usage = planted.usage.rename(columns=label)[names_true].groupby(
    adata.obs["type"].to_numpy()).mean()
print(mean_usage.round(2))
for t in names_true[:-1]:
    assert mean_usage.loc[t, t] > 0.6, f"cells of {t} use their identity program"

# %% [markdown]
# ## 2. Real data: 10x Genomics cells, chromosome 21 genes
#
# `datasets.tenx_chr21()` reads a real Cell Ranger 3 output bundled with nmfbio (the
# same reader, `nmfbio.io.read_expression`, takes your `filtered_feature_bc_matrix.h5`, a
# Matrix Market folder, an h5ad or a CSV). It holds only the 507 genes of chromosome 21
# (about 30 UMIs per cell on them), so expect coarse programs, not cell types.

# %%
tenx = datasets.tenx_chr21()
detected = np.asarray(tenx.layers["counts"].sum(axis=0)).ravel() > 0
tenx = tenx[:, detected].copy()
library = np.asarray(tenx.layers["counts"].sum(axis=1)).ravel()
print(tenx)
print(f"{tenx.n_vars} genes with counts; UMIs per cell: median {np.median(library):.0f}")

# %%
res = nmfbio.programs.find(tenx, ranks=range(2, 7), restarts=20, seed=0)
print(res.summary())
print(res.table.round(3))
assert (res.stability >= 0.8).all(), "the chosen programs are reproducible"

# %% [markdown]
# `find` wrote its results into the AnnData under one key stem (`key_added="programs"`), the
# way scanpy's functions do:
#
# * `obsm["X_programs"]` — usage, cells × programs (rows sum to 1);
# * `varm["programs"]` — spectra on all genes (columns sum to 1);
# * `varm["programs_scores"]` — marker scores (z-scored expression regressed on usage);
# * `uns["programs"]` — parameters, the rank rule, stabilities, genes used, the rank table.
#
# They survive a round trip through h5ad; the result object also exports TSV tables.

# %%
print({k: tenx.obsm[k].shape for k in tenx.obsm}, {k: tenx.varm[k].shape for k in tenx.varm})
print("uns['programs']:", sorted(tenx.uns["programs"]))
h5ad = OUT / "tenx_chr21_programs.h5ad"
tenx.write_h5ad(h5ad)
reread = anndata.read_h5ad(h5ad)
assert np.allclose(reread.obsm["X_programs"], res.usage.to_numpy())
assert np.allclose(reread.varm["programs"], res.programs.to_numpy())
assert reread.uns["programs"]["rule"] == res.rule
tables = res.to_tsv(OUT / "tenx_programs")
print("written:", h5ad.name, "and", ", ".join(p.name for p in tables))
print(pd.read_csv(OUT / "tenx_programs" / "top_genes.tsv", sep="\t", index_col=0).head(5))

# %% [markdown]
# There is no cell annotation in these files, so we group cells by sequencing depth
# (terciles of UMIs per cell), the first thing to check for any program: one that simply
# tracked depth would be a technical artefact. The two programs separate broadly
# expressed genes (HMGN1, SOD1, SON) from immune genes (ITGB2, IFNGR2, IL10RB). The
# immune program is used more by deeper-sequenced cells — expected if those are larger,
# RNA-rich immune cells, but worth checking against cell types in a full data set.

# %%
depth = pd.Categorical(pd.qcut(library, 3, labels=["1 low UMIs", "2 middle", "3 high UMIs"]))
print(res.usage.groupby(np.asarray(depth)).mean().round(2))
ax = res.plot_usage(groups=np.asarray(depth))
ax.set_title("10x chr21: program usage per cell, grouped by UMIs per cell")
show(ax, "tenx_usage.png")

ax = res.plot_rank_selection()
ax.set_title("10x chr21: stability and error against the number of programs")
show(ax, "tenx_rank_selection.png")

fig = res.plot_top_genes(n=12)
fig.suptitle("10x chr21: top marker genes of each program (regression score)")
show(fig, "tenx_top_genes.png")

# %% [markdown]
# ## Summary
#
# * `nmfbio.programs.find(adata, ranks=..., restarts=..., seed=...)` takes raw counts
#   (from `layers["counts"]` when present), picks the most stable number of programs, and
#   writes usages, spectra and scores into the AnnData; `.to_tsv()` exports tables.
# * Check the choice with `.plot_rank_selection()`, the usages against your annotation
#   with `.plot_usage(groups=...)`, and name programs from `.top_genes`.
# * Shared activity programs appear as partial usage across cell types, which is what
#   makes NMF programs complementary to clustering.
