"""Signature figures: bars in the right order, heights and colours; exposures; heatmap; save."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from nmfbio.errors import NMFInputError
from nmfbio.io.sbs96 import CHANNELS, CLASS_COLOURS, SUBSTITUTION_MAJOR, SUBSTITUTIONS
from nmfbio.plot import (
    plot_cosine_heatmap,
    plot_exposures,
    plot_signature,
    plot_signatures,
    save,
)


def bars(ax):
    """Heights of the bar rectangles, left to right."""
    rects = sorted(ax.patches, key=lambda p: p.get_x())
    return np.array([p.get_height() for p in rects]), rects


@pytest.fixture
def counts():
    """Distinct positive counts per channel, in CHANNELS (alphabetical) order."""
    return np.random.default_rng(0).permutation(np.arange(1.0, 97.0)) * 3.0


def test_array_is_read_alphabetically_and_drawn_substitution_major(counts):
    assert list(CHANNELS) != list(SUBSTITUTION_MAJOR)  # the test means something
    heights, _ = bars(plot_signature(counts))
    assert len(heights) == 96
    by_label = dict(zip(CHANNELS, counts / counts.sum(), strict=True))
    np.testing.assert_allclose(heights, [by_label[c] for c in SUBSTITUTION_MAJOR])
    assert heights.sum() == pytest.approx(1.0)


def test_normalize_false_keeps_counts(counts):
    ax = plot_signature(counts, normalize=False)
    heights, _ = bars(ax)
    by_label = dict(zip(CHANNELS, counts, strict=True))
    np.testing.assert_allclose(heights, [by_label[c] for c in SUBSTITUTION_MAJOR])
    assert ax.get_ylabel() == "mutations"


def test_colours_are_six_blocks_of_sixteen(counts):
    _, rects = bars(plot_signature(counts))
    for k, sub in enumerate(SUBSTITUTIONS):
        block = rects[16 * k:16 * (k + 1)]
        assert all(r.get_facecolor() == pytest.approx(to_rgba(CLASS_COLOURS[sub]))
                   for r in block)
    # and the band above each block names its class
    ax = plot_signature(counts)
    assert [t.get_text() for t in ax.texts] == list(SUBSTITUTIONS)


def test_tick_labels_are_the_contexts(counts):
    ax = plot_signature(counts)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == 96
    assert labels[:4] == ["ACA", "ACC", "ACG", "ACT"]
    assert labels == [c[0] + c[2] + c[6] for c in SUBSTITUTION_MAJOR]
    assert labels[-1] == "TTT"  # T[T>G]T
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {90.0}
    assert ax.get_ylabel() == "fraction of mutations"
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


def test_series_order_does_not_matter(counts):
    alpha = pd.Series(counts, index=list(CHANNELS))
    major = alpha.reindex(list(SUBSTITUTION_MAJOR))
    shuffled = alpha.sample(frac=1.0, random_state=1)
    expected, _ = bars(plot_signature(alpha))
    for s in (major, shuffled):
        np.testing.assert_array_equal(bars(plot_signature(s))[0], expected)
    # an array with its own labels aligns the same way
    np.testing.assert_array_equal(
        bars(plot_signature(major.to_numpy(), labels=SUBSTITUTION_MAJOR))[0], expected)


def test_missing_and_unknown_labels_are_listed(counts):
    s = pd.Series(counts, index=list(CHANNELS)).drop(["A[C>A]A", "T[T>G]T"])
    with pytest.raises(NMFInputError, match=r"missing 2: A\[C>A\]A, T\[T>G\]T"):
        plot_signature(s)
    s = s.rename({"A[C>A]C": "A[G>A]C"})
    with pytest.raises(NMFInputError, match=r"unknown 1: A\[G>A\]C"):
        plot_signature(s)
    with pytest.raises(NMFInputError, match="96 rows but 95 channel labels|has 95 rows"):
        plot_signature(counts[:95])


@pytest.mark.parametrize("bad, match", [(-1.0, "negative"), (np.nan, "NaN")])
def test_bad_values(counts, bad, match):
    counts = counts.copy()
    counts[5] = bad
    with pytest.raises(NMFInputError, match=match):
        plot_signature(counts)


def test_plot_signatures_one_panel_per_signature():
    rng = np.random.default_rng(1)
    W = pd.DataFrame(rng.dirichlet(np.ones(96), size=3).T, index=list(CHANNELS),
                     columns=["SBSA", "SBSB", "SBSC"])
    W = W.iloc[::-1]  # order of rows must not matter
    fig = plot_signatures(W, titles={"SBSB": "B (novel)"},
                          annotations={"SBSA": "cosine 0.97 to SBS1"})
    assert len(fig.axes) == 3
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["SBSA", "B (novel)", "SBSC"]
    assert "cosine 0.97 to SBS1" in [t.get_text() for t in fig.axes[0].texts]
    for ax, name in zip(fig.axes, W.columns, strict=True):
        expected = W[name].reindex(list(SUBSTITUTION_MAJOR)).to_numpy()
        np.testing.assert_allclose(bars(ax)[0], expected / expected.sum())
    # the panels share the x axis; the contexts are shown under the bottom one only
    assert fig.axes[0].get_shared_x_axes().joined(fig.axes[0], fig.axes[2])
    assert not fig.axes[0].xaxis.get_tick_params()["labelbottom"]
    assert fig.axes[2].xaxis.get_tick_params()["labelbottom"]


def test_plot_signatures_grid_and_transposed_input():
    W = pd.DataFrame(np.ones((96, 3)), index=list(CHANNELS), columns=["a", "b", "c"])
    fig = plot_signatures(W, ncols=2)
    assert len(fig.axes) == 3  # the empty fourth slot is removed
    assert fig.axes[1].xaxis.get_tick_params()["labelbottom"]  # column 2 ends at panel b
    with pytest.raises(NMFInputError, match="transpose"):
        plot_signatures(W.T)
    with pytest.raises(NMFInputError, match="titles"):
        plot_signatures(W, titles=["only one"])


@pytest.fixture
def exposures():
    rng = np.random.default_rng(2)
    E = rng.gamma(0.5, size=(12, 3)) * 1000
    E[4] = 0.0  # an empty sample stays empty, even in relative mode
    return pd.DataFrame(E, index=[f"t{i}" for i in range(12)], columns=["SBS1", "SBS5", "X"])


def stacks(ax, n):
    """Total height of the stacked bars at each x position, and their tops."""
    total = np.zeros(n)
    top = np.zeros(n)
    for p in ax.patches:
        i = round(p.get_x() + p.get_width() / 2)
        total[i] += p.get_height()
        top[i] = max(top[i], p.get_y() + p.get_height())
    return total, top


@pytest.mark.parametrize("relative", [False, True])
def test_exposure_stacks_sum_to_totals(exposures, relative):
    ax = plot_exposures(exposures, relative=relative)
    assert len(ax.patches) == exposures.size
    total, top = stacks(ax, len(exposures))
    want = exposures.sum(axis=1).to_numpy()
    if relative:
        want = np.where(want > 0, 1.0, 0.0)
    np.testing.assert_allclose(total, want)
    np.testing.assert_allclose(top, want)  # stacked, not overlapping
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SBS1", "SBS5", "X"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(exposures.index)


def test_exposure_order_and_thinned_labels(exposures):
    ax = plot_exposures(exposures, order="total")
    total, _ = stacks(ax, len(exposures))
    assert np.all(np.diff(total) <= 0)
    ax = plot_exposures(exposures, order=["t3", "t1"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["t3", "t1"]
    with pytest.raises(NMFInputError, match="unknown samples: nope"):
        plot_exposures(exposures, order=["nope"])
    many = pd.DataFrame(np.ones((250, 2)), index=[f"s{i}" for i in range(250)])
    labels = [t.get_text() for t in plot_exposures(many).get_xticklabels()]
    assert 30 <= len(labels) <= 60 and labels[:2] == ["s0", "s5"]


def test_heatmap_annotations_are_the_rounded_values():
    rng = np.random.default_rng(3)
    C = pd.DataFrame(rng.random((3, 5)), index=["A", "B", "C"],
                     columns=[f"SBS{i}" for i in range(5)])
    ax = plot_cosine_heatmap(C)
    assert [t.get_text() for t in ax.texts] == [f"{v:.2f}" for v in C.to_numpy().ravel()]
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    assert ax.get_xlabel() == "reference" and ax.get_ylabel() == "de novo"
    assert len(ax.figure.axes) == 2  # the colour bar
    big = pd.DataFrame(rng.random((40, 5)))
    assert not plot_cosine_heatmap(big).texts
    assert not plot_cosine_heatmap(C, annotate=False).texts


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".svg", b"<?xml")])
def test_save_formats_atomically(tmp_path, counts, suffix, magic):
    path = tmp_path / "sub" / f"sig{suffix}"
    out = save(plot_signature(counts), path)
    assert out == path
    assert path.read_bytes().startswith(magic)
    assert os.listdir(path.parent) == [path.name]  # no temporary file left


def test_save_rejects_unknown_suffix(tmp_path, counts):
    with pytest.raises(NMFInputError, match=r"\.png"):
        save(plot_signature(counts), tmp_path / "sig.jpg")
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- other types
def _profile(name, seed=0):
    from nmfbio.io.mutation_types import mutation_type

    t = mutation_type(name)
    return t, pd.Series(np.random.default_rng(seed).permutation(np.arange(1.0, len(t) + 1)),
                        index=list(t.labels))


def test_dbs78_bars_blocks_and_ticks_follow_the_reference_dinucleotides():
    t, p = _profile("DBS78")
    ax = plot_signature(p.sample(frac=1.0, random_state=2))  # any row order
    heights, rects = bars(ax)
    np.testing.assert_allclose(heights, (p / p.sum()).to_numpy())  # canonical = drawn order
    assert [x.get_text() for x in ax.texts] == [f"{g}>NN" for g in t.group_names]
    assert [x.get_text() for x in ax.get_xticklabels()][:3] == ["CA", "CG", "CT"]
    tc = [r for r, lab in zip(rects, t.labels, strict=True) if lab.startswith("TC>")]
    assert all(r.get_facecolor() == pytest.approx(to_rgba(t.colours["TC"])) for r in tc)


def test_id83_ticks_are_repeat_lengths_and_families_are_named():
    _, p = _profile("ID83")
    ax = plot_signature(p)
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    # 1-bp deletions: homopolymer length 1..6+; 1-bp insertions: 0..5+; microhomology 1..5+
    assert ticks[:6] == ["1", "2", "3", "4", "5", "6+"] and ticks[12:18] == [
        "0", "1", "2", "3", "4", "5+"]
    assert ticks[-5:] == ["1", "2", "3", "4", "5+"]
    texts = [x.get_text() for x in ax.texts]
    assert "microhomology (deletion length)" in texts and texts[:2] == ["C", "T"]


def test_sbs288_draws_strands_side_by_side_with_one_tick_per_context():
    from nmfbio.io.mutation_types import STRAND_COLOURS

    t, p = _profile("SBS288")
    ax = plot_signature(p, normalize=False)
    heights, rects = bars(ax)
    assert len(heights) == 288
    first = [t.labels[i] for i in t.plot_order[:3]]
    np.testing.assert_array_equal(heights[:3], p[first].to_numpy())
    assert [r.get_facecolor() for r in rects[:3]] == [
        pytest.approx(to_rgba(STRAND_COLOURS[s])) for s in "TUN"]
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    assert len(ticks) == 96 and ticks[:2] == ["ACA", "ACC"]
    assert [x.get_text() for x in ax.get_legend().get_texts()] == [
        "T: transcribed", "U: untranscribed", "N: non-transcribed"]


def test_sbs1536_and_bare_arrays_of_each_size():
    ax = plot_signature(np.ones(1536))
    assert len(ax.patches) == 1536 and ax.get_xticklabels() == []
    assert len(plot_signature(np.ones(83)).patches) == 83
    with pytest.raises(NMFInputError, match=r"has 95 rows; a bare array.* 83 \(ID83\)"):
        plot_signature(np.ones(95))


def test_a_wrong_id83_label_names_the_type():
    _, p = _profile("ID83")
    p = p.rename({"1:Del:C:0": "1:Del:C:9"})
    with pytest.raises(NMFInputError, match=r"83 ID83 channels.*missing 1: 1:Del:C:0; "
                                            r"unknown 1: 1:Del:C:9"):
        plot_signature(p)
