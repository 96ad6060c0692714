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
# # Neural assemblies from a Phy folder and from spike times
#
# A cell assembly is a group of neurons that fire together, within a few tens of
# milliseconds, more often than their own firing rates explain (Hebb 1949; Harris et al.
# 2003, Nature 424:552). `nmfbio.assemblies.detect` finds them in spike counts with a
# gated Poisson NMF: each unit fires at its own slowly varying background rate, and an
# assembly adds extra spikes to its members in the bins where it is switched on. It tells
# you which units belong to each assembly, when each assembly is on, and how sure it is (a
# p-value from held-out data against a null that keeps every unit's rate). This tutorial:
#
# 1. generates a 10-minute recording of 50 units with three planted assemblies, writes it
#    as a small Phy/Kilosort folder and reads it back with `nmfbio.io.read_phy` (and from
#    spike times in memory with `nmfbio.io.bin_spikes`);
# 2. detects the assemblies and shows the four standard figures;
# 3. scores them against the truth, including against an *oracle* that knows the answer;
# 4. runs the PCA/ICA method most labs use (Lopes-dos-Santos et al. 2013) on the same data;
# 5. checks that a recording without assemblies, with drifting rates, gives none;
# 6. saves, reloads and exports the result to AnnData.
#
# Run it as a script (`python tutorials/03_neural_assemblies.py`, about 25 s on two
# cores) or open it as a notebook with jupytext. Figures and files go to
# `$NMFBIO_TUTORIAL_OUT/03_neural_assemblies/` (default
# `tutorial_output/03_neural_assemblies/`).

# %%
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.optimize import linear_sum_assignment

import nmfbio
from nmfbio import datasets
from nmfbio.assemblies import AssemblyResult, detect, ica_baseline
from nmfbio.datasets.assemblies import oracle_activation, planted_assemblies
from nmfbio.errors import NMFInputError
from nmfbio.io import bin_spikes, from_traces, read_phy
from nmfbio.plot import save

NAME = "03_neural_assemblies"
OUT = Path(os.environ.get("NMFBIO_TUTORIAL_OUT", "tutorial_output")) / NAME
OUT.mkdir(parents=True, exist_ok=True)


def show(fig, filename):
    """Save a figure into OUT (and display it when running in a notebook)."""
    path = save(fig, OUT / filename, dpi=120)
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
# ## 1. A recording with planted assemblies
#
# `planted_assemblies` follows the benchmark design of Lopes-dos-Santos, Ribeiro & Tort
# (2013, J. Neurosci. Methods 220:149): 50 independent Poisson units with background rates
# between 1 and 10 Hz; three assemblies of 5–10 units (the first two share one or two
# units); each assembly is on in 1–5 % of the 25 ms bins, and while it is on its members
# fire at 3 times their rate. That is a weak signal: a member firing at 4 Hz has about a
# 10 % chance of a spike in a 25 ms bin while its assembly is off, and about 26 % while it
# is on. The seed is fixed, so the recording is the same on every run.

# %%
rec = planted_assemblies(seed=5)
n_units, n_bins = rec.counts.shape
print(f"{n_units} units, {rec.window[1]:.0f} s, {sum(map(len, rec.trains.values()))} spikes")
for k, members in enumerate(rec.members):
    print(f"planted assembly {k + 1}: units {members}, on in {rec.active[k].mean():.1%} "
          f"of the bins")
print("shared by assemblies 1 and 2:", sorted(set(rec.members[0]) & set(rec.members[1])))

# %% [markdown]
# ### Writing it as a Phy/Kilosort folder
#
# A spike sorter such as Kilosort, curated in Phy, leaves a folder with (among others)
# `spike_times.npy` (every spike's time in **samples** of the raw recording),
# `spike_clusters.npy` (its cluster after curation), `params.py` (the sampling rate) and
# `cluster_group.tsv` (the curator's label per cluster: good, mua or noise). We write one,
# at 30 kHz, with cluster *i* holding unit *i*'s spikes, plus two clusters labelled
# "noise": an artefact picked up on two channels at the same moments, as mains or movement
# artefacts are.

# %%
phy = OUT / "phy_example"
phy.mkdir(exist_ok=True)
fs = 30_000.0
rng = np.random.default_rng(1)
artefacts = np.sort(rng.uniform(0, rec.window[1], size=600))
times = [rec.trains[f"u{i}"] for i in range(n_units)] + [artefacts, artefacts + 1e-4]
clusters = np.concatenate([np.full(len(t), c, dtype=np.int32) for c, t in enumerate(times)])
samples = np.floor(np.concatenate(times) * fs).astype(np.uint64)
order = np.argsort(samples, kind="stable")  # Kilosort writes the spikes in time order
np.save(phy / "spike_times.npy", samples[order])
np.save(phy / "spike_clusters.npy", clusters[order])
(phy / "params.py").write_text(
    "dat_path = 'recording.bin'\nn_channels_dat = 32\ndtype = 'int16'\noffset = 0\n"
    f"sample_rate = {fs}\nhp_filtered = True\n")
labels = ["good"] * n_units + ["noise", "noise"]
(phy / "cluster_group.tsv").write_text(
    "cluster_id\tgroup\n" + "".join(f"{c}\t{g}\n" for c, g in enumerate(labels)))
print("written:", ", ".join(sorted(p.name for p in phy.iterdir())))

# %% [markdown]
# ### Reading it back: window, bin width, and never z-scoring
#
# Three choices matter when binning spikes for assembly detection.
#
# * **The window** is the recording's start and end, given explicitly. `read_phy` takes it
#   from the raw data file named in `params.py` when that file is there (its size gives the
#   number of samples); we did not write a raw file, so we pass `window=(0, 600)`.
#   Inferring it from the first and last spike would make every unit look silent before
#   and after, and quietly change the rates. (Without a window the readers run from 0 s to
#   the last spike and warn.)
# * **The bin width** is the timescale of co-firing you are asking about. Assemblies in
#   the hippocampus and cortex coordinate within about 10–30 ms (a gamma cycle; Harris et
#   al. 2003), so 25 ms is the usual choice. Much wider bins mix each activation with more
#   background spikes and dilute it; much narrower ones split one co-activation across
#   bins. The planted assemblies here are on for single 25 ms bins.
# * **Never z-score.** NMF and its Poisson likelihood need non-negative counts: a z-scored
#   matrix has negative entries, and has lost the relation between a count and its
#   variance that tells a unit firing 3 spikes at 1 Hz (remarkable) from one firing 3
#   spikes at 50 Hz (ordinary). Heterogeneous rates are handled inside the model instead,
#   by each unit's own background.
#
# `include="good"` (the default) keeps the clusters the curator called good; the two noise
# clusters are left out. Their counts are almost perfectly correlated, exactly what a
# detector of co-firing looks for, which is why the labels matter.

# %%
spikes = read_phy(phy, bin_width=0.025, window=(0.0, 600.0))
print(spikes)
print(spikes.uns["spikes"]["bin_width"], spikes.uns["spikes"]["window"],
      spikes.uns["spikes"]["include"])
print(spikes.var[["n_spikes", "rate_hz", "label"]].head())
assert spikes.shape == (n_bins, n_units) and "50" not in spikes.var_names
assert np.array_equal(np.asarray(spikes.X).T, rec.counts), "the generator's own counts"

everything = read_phy(phy, bin_width=0.025, window=(0.0, 600.0), include="all")
noise = np.asarray(everything[:, ["50", "51"]].X)
print(f"include='all': {everything.n_vars} clusters; the two noise clusters' counts "
      f"correlate at {np.corrcoef(noise.T)[0, 1]:.3f}")

# %% [markdown]
# Spike times already in memory (from any sorter, or from an NWB file via
# `nmfbio.io.read_nwb`) are binned by `bin_spikes`, with the same rules: a dict of unit id
# → spike times in seconds, an explicit window, bins `[t0, t0 + w)` with the last bin
# closed so a spike exactly at the window's end counts. Long tables of (unit, time) are
# read by `nmfbio.io.read_spike_table`.

# %%
binned = bin_spikes(rec.trains, 0.025, window=rec.window)
print(binned.obs.head(3))
assert np.array_equal(np.asarray(binned.X), np.asarray(spikes.X))

# %% [markdown]
# Z-scored data are refused, with the reason:

# %%
counts = np.asarray(spikes.X).T
zscored = (counts - counts.mean(axis=1, keepdims=True)) / counts.std(axis=1, keepdims=True)
try:
    detect(zscored, bin_width=0.025)
except NMFInputError as err:
    print(f"NMFInputError: {err}")

# %% [markdown]
# ## 2. Detection
#
# `detect` cuts the recording into 10 s blocks dealt to five folds. Each fold proposes
# candidate assemblies from the other folds' blocks (PCA/ICA of the residuals seeds a gated
# Poisson NMF fitted by EM) and tests them on its own blocks: a candidate's held-out
# log-likelihood gain is compared with the gains of surrogates in which each unit's train
# is shifted in time by its own random lag, which keeps every rate and every drift but
# breaks co-firing. p-values are Holm-adjusted over candidates; assemblies with
# adjusted p < 0.01 are kept. Members are the units whose leave-one-out score
# (how much more they fire when the *other* members say the assembly is on) passes a
# Bonferroni threshold over units. The module docstring of `nmfbio.assemblies.detect`
# gives every step.

# %%
start = time.perf_counter()
res = detect(spikes, seed=0)
print(f"detect: {time.perf_counter() - start:.1f} s")
print(res.summary())
print(pd.DataFrame({"members": [", ".join(m) for m in res.members],
                    "p_adj": res.pvalues, "events": res.events["assembly"].value_counts()}))
assert res.n_assemblies >= 2 and (res.pvalues < 0.01).all()

# %% [markdown]
# The four figures (also written by `nmfbio assemblies detect` and shown in `nmfbio
# report`): the raster with units grouped by assembly, one colour per assembly and the
# detected activation events shaded; the membership z-scores (members outlined); the
# probability that each assembly is on in every bin; and each assembly's held-out gain
# against its surrogate null.

# %%
show(res.plot_raster(t_range=(0, 30)), "raster.png")
show(res.plot_membership(), "membership.png")
show(res.plot_activations(t_range=(0, 30)), "activations.png")
show(res.plot_null(), "null_distribution.png")

# %% [markdown]
# ## 3. Against the truth, and against an oracle
#
# Members: each planted assembly is paired with a detected one (Hungarian matching on the
# Jaccard index of the member sets, 1 = the same units).
#
# Activations need a yardstick. The **oracle** (`oracle_activation`) is told everything the
# detector has to guess: the members, every unit's true rate, the gain and how often the
# assembly is on. From the counts of each bin it computes the exact posterior probability
# that the assembly was on. No method can do better, and it is far from perfect: a
# 6-member assembly at 3× gain adds only one or two spikes per activation in a 25 ms bin,
# which Poisson noise often hides or fakes, so the oracle's correlation with the true on/off
# indicator is only about 0.3–0.6. We therefore report the detector's correlation as a
# fraction of the oracle's.

# %%
truth = [{str(u) for u in m} for m in rec.members]
found = [set(m) for m in res.members]
jaccard = np.array([[len(t & f) / len(t | f) for f in found] for t in truth])
rows, cols = linear_sum_assignment(-jaccard)
oracle = oracle_activation(rec)
score = []
for k, j in zip(rows, cols, strict=True):
    r_det = np.corrcoef(res.activations.iloc[:, j], rec.active[k])[0, 1]
    r_orc = np.corrcoef(oracle[k], rec.active[k])[0, 1]
    score.append((f"planted {k + 1}", res.weights.columns[j], len(truth[k]), len(found[j]),
                  jaccard[k, j], r_det, r_orc, r_det / r_orc))
score = pd.DataFrame(score, columns=["planted", "detected", "true size", "found size",
                                     "jaccard", "r detector", "r oracle", "ratio"])
print(score.round(3).to_string(index=False))

oracle_r = [np.corrcoef(oracle[k], rec.active[k])[0, 1] for k in range(len(truth))]
assert all(0.25 < r < 0.65 for r in oracle_r), "the oracle's ceiling"
good = score[score["jaccard"] >= 0.8]
assert len(good) >= 2, "at least two planted assemblies recovered with Jaccard >= 0.8"
assert (good["ratio"] >= 0.7).all(), "their activations close to the oracle's"
assert (jaccard.max(axis=0) >= 0.5).all(), "every detected assembly is a planted one"

# %%
best = int(good["jaccard"].idxmax())
k, j = int(rows[best]), int(cols[best])
t0, t1 = 60.0, 75.0
b0, b1 = int(t0 / 0.025), int(t1 / 0.025)
t = rec.window[0] + (np.arange(b0, b1) + 0.5) * 0.025
fig = Figure(figsize=(10, 3.4), layout="constrained")
ax = fig.add_subplot()
ax.fill_between(t, 0, rec.active[k, b0:b1], step="mid", color="0.85",
                label="truly on")
ax.plot(t, oracle[k, b0:b1], color="k", lw=1, label="oracle posterior")
ax.plot(t, res.activations.iloc[b0:b1, j], color="tab:orange", lw=1,
        label=f"detected {res.weights.columns[j]}")
ax.set_xlim(t0, t1)
ax.set_xlabel("time (s)")
ax.set_ylabel("probability on")
ax.set_title(f"Planted assembly {k + 1}: detector against the oracle "
             f"(correlation with the truth {score.loc[best, 'r detector']:.2f} vs "
             f"{score.loc[best, 'r oracle']:.2f})")
ax.legend(loc="upper right", fontsize=8, ncols=3)
show(fig, "truth_vs_oracle.png")

# %% [markdown]
# The detector follows the oracle closely: where the oracle is sure, so is it, and the
# many true activations that neither sees are bins where the members happened not to fire.
# Overlapping units are the hardest part of membership: a unit shared by two assemblies
# fires in both, and a small Jaccard loss on the overlapping pair is common.
#
# ## 4. The PCA/ICA baseline on the same data
#
# `ica_baseline` is the method of Lopes-dos-Santos et al. (2013), standard in the field:
# the number of assemblies is the number of eigenvalues of the units' correlation matrix
# above the Marchenko–Pastur bound for independent units, ICA then unmixes that many
# patterns, and members are units whose weight exceeds the pattern's mean + 2 SD. Here it
# sees the same counts, standardised against the same slow background.

# %%
ica = ica_baseline(spikes, seed=0)
print(ica.summary())
print("Marchenko–Pastur count:", ica.params["n_significant_pcs"],
      "| top eigenvalues:", ica.params["top_eigenvalues"][:4])
ica_j = [max((len(t & set(m)) / len(t | set(m)) for m in ica.members), default=0.0)
         for t in truth]
print("best Jaccard of each planted assembly:", np.round(ica_j, 2))
print("negative weights per pattern:", (ica.weights < 0).sum().to_dict())
assert ica.pvalues.isna().all() and (ica.weights.to_numpy() < 0).any()
show(ica.plot_membership(), "ica_membership.png")

# %% [markdown]
# What differs:
#
# * **Signed weights.** An ICA pattern is a direction in unit space: most weights are
#   small and of either sign, and "member" is a cut on that continuum (mean + 2 SD, a
#   rule of thumb). NMF weights are non-negative extra firing rates (Hz) while the
#   assembly is on, zero for non-members, and membership is a test per unit.
# * **No p-values.** The eigenvalue bound decides how many patterns there are, not whether
#   each is real; nothing is tested on held-out data. `detect` gives each assembly an
#   adjusted p-value against a rate-preserving null.
# * **How many.** Assemblies that are rarely on barely move the eigenvalues, so the
#   Marchenko–Pastur count can miss some (compare the counts above), and a found pattern
#   may carry only its strongest units.
# * **Activations** are continuous projections (`ica.activations`), with no events; the
#   NMF gives the probability that the assembly is on in each bin.
#
# ## 5. No assemblies: a drifting null recording
#
# Real rates drift over minutes (arousal, brain state, electrode drift). Units that drift
# together correlate, and a method that mistakes that for co-firing finds false
# assemblies. We generate 5 minutes of the same 50 units with no assembly and a slow
# random drift of each unit's rate (log-rate sd 0.3, about ±35 %).

# %%
null = planted_assemblies(n_assemblies=0, duration=300.0, drift=0.3, seed=7)
null_res = detect(bin_spikes(null.trains, 0.025, window=null.window), seed=0)
print(null_res.summary())
assert null_res.n_assemblies == 0

# %% [markdown]
# None: each unit's background follows its own drift (a knot every 30 s, `timescale=`),
# and the shift surrogates keep the drift, so drift alone is not evidence of an assembly.
# `benchmarks/assemblies.py` counts, over 20 such recordings, how many give any assembly
# (the target: at most 1 in 20).
#
# ## 6. Save, reload, export
#
# `save` writes one HDF5 file (members, weights, activations, p-values, the counts and the
# null); `AssemblyResult.load` reads it. `nmfbio report` recognises it:
# `nmfbio report assemblies.h5 -o report.html`. `to_anndata` gives the counts as AnnData
# (bins × units) with the activations in `obsm["X_assemblies"]`, the weights in
# `varm["assemblies"]` and the members and p-values in `uns["assemblies"]`.

# %%
res.save(OUT / "assemblies.h5")
again = AssemblyResult.load(OUT / "assemblies.h5")
assert again.members == res.members
assert np.allclose(again.activations.to_numpy(), res.activations.to_numpy())

adata = res.to_anndata()
print(adata)
print(adata.uns["assemblies"]["members"])
assert adata.obsm["X_assemblies"].shape == (n_bins, res.n_assemblies)
assert adata.varm["assemblies"].shape == (n_units, res.n_assemblies)

# %% [markdown]
# ## Calcium imaging
#
# Deconvolved calcium traces are not spike counts: they are continuous, scaled
# arbitrarily, and smeared over frames, so the Poisson model behind `detect` does not hold
# and `detect` refuses them. The bundled songbird HVC recording (75 neurons × 666 frames at
# 30 Hz; Mackevicius et al. 2019, eLife 8:e38471) shows the message (one neuron that is
# silent throughout is dropped first; `from_traces` would keep it with a warning).

# %%
traces, frame_rate = datasets.songbird_hvc()          # neurons × frames
traces = traces[traces.sum(axis=1) > 0]
calcium = from_traces(traces.T, frame_rate)           # frames × neurons, like every reader
try:
    detect(calcium)
except NMFInputError as err:
    print(f"NMFInputError: {err}")

# %% [markdown]
# For traces, `nmfbio.fit(calcium, rank=..., loss="kl")` factorizes the (non-negative)
# activity into groups of co-active neurons and their time courses. The HVC neurons,
# though, fire in *sequences* during song, and a plain NMF can only cut a sequence into
# chunks of neurons active in the same frames; modelling the sequence itself needs a
# convolutive NMF such as seqNMF (Mackevicius et al. 2019), which nmfbio does not
# implement. We stop here rather than over-read those chunks.
#
# ## Summary
#
# * Bin spikes with an explicit window and a bin width matched to the co-firing timescale
#   (`read_phy`, `read_nwb`, `read_spike_table`, `bin_spikes`); never z-score.
# * `detect(spikes)` returns members, activation probabilities, events and held-out
#   p-values; `.plot_raster()`, `.plot_membership()`, `.plot_activations()`,
#   `.plot_null()` draw the standard figures; `nmfbio assemblies detect` does the same
#   from the command line.
# * Judge activations against an oracle, not against 1: in 25 ms bins at 3× gain even
#   perfect knowledge correlates only 0.3–0.6 with the truth.
# * `ica_baseline` gives the PCA/ICA answer for comparison: signed patterns, a count from
#   the eigenvalue bound, no p-values.
