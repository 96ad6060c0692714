"""Assembly figures: raster rows grouped by assembly with the right spikes and colours,
membership heatmap outlines, activation traces, null histograms, and the empty and ICA
cases. Results are built from a planted recording's truth (no detector run), so the checks
do not move when the detector is tuned; the ICA case runs the (fast) baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EventCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from nmfbio.assemblies import AssemblyResult, ica_baseline
from nmfbio.assemblies.result import events_table
from nmfbio.datasets.assemblies import planted_assemblies
from nmfbio.errors import NMFInputError
from nmfbio.plot import plot_assembly_raster
from nmfbio.plot.assemblies import (
    OTHER,
    activations,
    assembly_colour,
    membership_heatmap,
    null_distribution,
    raster,
    raster_rows,
    unit_order,
)

WIDTH = 0.025


def truth_result(n_assemblies=2, seed=0, n_surrogates=40):
    """An AssemblyResult holding a planted recording's truth (members strongest first)."""
    rec = planted_assemblies(n_units=14, n_assemblies=n_assemblies, duration=60.0,
                             size_range=(4, 4), overlap=(1, 1), active_range=(0.04, 0.04),
                             seed=seed)
    rng = np.random.default_rng(seed)
    units = rec.unit_ids
    names = [f"A{i + 1}" for i in range(n_assemblies)]
    W = np.zeros((len(units), n_assemblies))
    z = rng.normal(0, 1, W.shape)
    members = []
    for k, idx in enumerate(rec.members):
        W[idx, k] = 20.0 - np.arange(len(idx))  # first listed = strongest
        z[idx, k] = 8.0 - np.arange(len(idx))
        members.append([units[i] for i in idx])
    q = np.where(rec.active, 0.9, 0.02)
    t = np.arange(rec.counts.shape[1]) * WIDTH
    frame = lambda M: pd.DataFrame(M, index=pd.Index(units, name="unit"),  # noqa: E731
                                   columns=pd.Index(names, name="assembly"))
    return AssemblyResult(
        members=members, weights=frame(W), gain=frame(1 + W / 10), z=frame(z),
        activations=pd.DataFrame(q.T, index=[f"bin{i}" for i in range(t.size)],
                                 columns=pd.Index(names, name="assembly")),
        pvalues=pd.Series(np.array([1e-12, 0.003, 0.02])[:n_assemblies], index=names),
        events=events_table(q, t, WIDTH, names),
        background_rate=pd.Series(rec.rates.mean(axis=1), index=units),
        counts=rec.counts, bin_times=t, heldout_gains=np.array([30.0, 4.0, 2.0])[:n_assemblies],
        null_gains=rng.normal(-10, 3, (n_surrogates, n_assemblies)),
        params={"method": "gated-nmf", "bin_width": WIDTH})


@pytest.fixture(scope="module")
def res():
    return truth_result()


@pytest.fixture(scope="module")
def empty():
    full = truth_result()
    none = pd.Index([], name="assembly")
    return AssemblyResult(
        members=[], weights=full.weights.iloc[:, :0].set_axis(none, axis=1),
        gain=full.gain.iloc[:, :0], z=full.z.iloc[:, :0],
        activations=full.activations.iloc[:, :0], pvalues=full.pvalues.iloc[:0],
        events=full.events.iloc[:0], background_rate=full.background_rate,
        counts=full.counts, bin_times=full.bin_times, heldout_gains=np.zeros(0),
        null_gains=np.zeros((0, 0)), params=full.params)


@pytest.fixture(scope="module")
def ica():
    rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
                             active_range=(0.05, 0.05), size_range=(8, 8))
    return ica_baseline(rec.counts, bin_width=WIDTH)


def _draw(obj):
    """Render (catches layout errors) and return the Figure."""
    fig = obj if isinstance(obj, Figure) else obj.figure
    FigureCanvasAgg(fig).draw()
    return fig


def _texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


# --------------------------------------------------------------------------- raster
def test_raster_rows_group_members_with_overlaps_in_both_blocks(res):
    rows = raster_rows(res)
    a1, a2 = res.members
    shared = set(a1) & set(a2)
    assert len(shared) == 1  # the planted overlap, listed under both assemblies
    others = [u for u in res.weights.index if u not in set(a1) | set(a2)]
    assert [u for u, _ in rows] == a1 + a2 + sorted(
        others, key=lambda u: -res.counts[list(res.weights.index).index(u)].sum())
    assert [k for _, k in rows] == [0] * len(a1) + [1] * len(a2) + [-1] * len(others)


def test_raster_draws_each_rows_spikes_in_its_assembly_colour(res):
    ax = raster(res, t_range=(10, 20))
    _draw(ax)
    rows = raster_rows(res)
    assert [t.get_text() for t in ax.get_yticklabels()] == [u for u, _ in rows]
    assert ax.get_xlim() == (10.0, 20.0)
    events = [c for c in ax.collections if isinstance(c, EventCollection)]
    assert len(events) == len(rows)
    index = list(res.weights.index)
    lo, hi = 400, 800  # bins of 10-20 s
    for r, (coll, (unit, k)) in enumerate(zip(events, rows, strict=True)):
        assert coll.get_lineoffset() == r
        fired = np.flatnonzero(res.counts[index.index(unit), lo:hi] > 0) + lo
        np.testing.assert_allclose(np.sort(coll.get_positions()), (fired + 0.5) * WIDTH)
        colour = assembly_colour(k) if k >= 0 else OTHER
        assert tuple(np.ravel(coll.get_color())) == pytest.approx(to_rgba(colour))
    assert "A1" in _texts(ax) and "A2" in _texts(ax) and "others" in _texts(ax)
    assert ax.get_xlabel() == "time (s)" and "2 assemblies" in ax.get_title()


def test_raster_default_window_is_20_s_from_the_first_event(res):
    ax = raster(res)
    first = res.events["t_start"].min()
    start, end = ax.get_xlim()
    assert end - start == pytest.approx(20.0)
    assert start <= first < start + 2.0
    # each assembly's events in the window are shaded behind its block
    a1 = res.events[(res.events["assembly"] == "A1") & (res.events["t_start"] < end)
                    & (res.events["t_end"] > start)]
    bars = [c for c in ax.collections if type(c).__name__ == "PolyCollection"]
    assert len(bars) == 2 and len(bars[0].get_paths()) == len(a1)


def test_raster_window_is_checked_and_cut(res):
    with pytest.raises(NMFInputError, match=r"t_range must be \(start, end\) with start < end, "
                       r"overlapping the recording \[0, 60\] s"):
        raster(res, t_range=(30, 10))
    with pytest.raises(NMFInputError, match="overlapping the recording"):
        raster(res, t_range=(100, 200))
    ax = raster(res, t_range=(0, 60), max_bins=100)
    assert ax.get_xlim() == pytest.approx((0.0, 2.5)) and "cut at max_bins" in ax.get_title()
    assert plot_assembly_raster is raster


# --------------------------------------------------------------------------- heatmap
def test_membership_heatmap_sorts_units_and_outlines_members(res):
    ax = membership_heatmap(res)
    _draw(ax)
    order, group = unit_order(res)
    image = ax.images[0].get_array()
    np.testing.assert_allclose(image, res.z.to_numpy()[order])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(u) for u in res.weights.index[order]]
    assert labels[:len(res.members[0])] == res.members[0]  # A1's members first
    assert list(group[:len(res.members[0])]) == [0] * len(res.members[0])
    outlines = {(p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches
                if isinstance(p, Rectangle) and not p.get_fill()}
    expected = {(k, labels.index(u)) for k, m in enumerate(res.members) for u in m}
    assert outlines == expected and len(expected) == sum(map(len, res.members))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A1", "A2"]
    assert ax.figure.axes[1].get_ylabel() == "membership z-score (leave-one-out)"
    assert "8 members outlined" in ax.get_title()


# --------------------------------------------------------------------------- activations
def test_activation_traces_one_per_assembly_top_down(res):
    ax = activations(res, t_range=(5, 15))
    _draw(ax)
    assert len(ax.lines) == 2
    for j, line in enumerate(ax.lines):
        y = res.activations.iloc[200:600, j].to_numpy()
        np.testing.assert_allclose(line.get_ydata(), (1 - j) + 0.85 * y)
        np.testing.assert_allclose(line.get_xdata(), (np.arange(200, 600) + 0.5) * WIDTH)
        assert line.get_color() == assembly_colour(j)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A1", "A2"]
    assert "probability" in ax.get_ylabel() and "shaded: detected events" in ax.get_title()


# --------------------------------------------------------------------------- null
def test_null_histograms_with_observed_gain_and_p_value(res):
    fig = null_distribution(res)
    _draw(fig)
    assert len(fig.axes) == 2
    for j, a in enumerate(fig.axes):
        heights = [p.get_height() for p in a.patches]
        assert sum(heights) == 40  # every surrogate counted once
        (line,) = a.lines
        assert line.get_xdata()[0] == res.heldout_gains[j]
        assert a.get_xlabel() == "held-out log-likelihood gain"
    assert fig.axes[0].get_title() == "A1: p_adj = 1e-12"
    assert fig.axes[1].get_title() == "A2: p_adj = 0.003"
    # drawn into a given Figure, or into the place of a given Axes
    target = Figure()
    assert null_distribution(res, target) is target and len(target.axes) == 2
    host = Figure().subplots(1, 2)[1]
    fig = null_distribution(res, host)
    assert len(fig.axes) == 3 and host not in fig.axes


# --------------------------------------------------------------------------- empty, ICA
def test_no_assemblies_gives_clear_empty_panels(empty):
    ax = raster(empty)
    _draw(ax)
    assert len([c for c in ax.collections if isinstance(c, EventCollection)]) == 14
    assert "no assemblies detected" in _texts(ax)
    ax = membership_heatmap(empty)
    assert not ax.images and "no assemblies detected" in _texts(ax)
    ax = activations(empty)
    assert not ax.lines and "no assemblies detected" in _texts(ax)
    fig = null_distribution(empty)
    _draw(fig)
    assert len(fig.axes) == 1 and "no assemblies detected" in _texts(fig.axes[0])


def test_ica_baseline_figures(ica):
    assert ica.n_assemblies >= 1 and ica.null_gains.shape == (0, ica.n_assemblies)
    fig = ica.plot_null()
    assert len(fig.axes) == 1 and "ICA baseline: no significance test" in _texts(fig.axes[0])
    ax = ica.plot_activations()
    _draw(ax)
    assert len(ax.lines) == ica.n_assemblies and "ICA" in ax.get_ylabel()
    assert max(line.get_ydata().max() for line in ax.lines) <= ica.n_assemblies
    ax = ica.plot_membership()
    assert ax.figure.axes[1].get_ylabel() == "ICA weight"
    np.testing.assert_allclose(ax.images[0].get_array(),
                               ica.weights.to_numpy()[unit_order(ica)[0]])
    ax = ica.plot_raster()
    _draw(ax)
    assert "ICA baseline" in ax.get_title()
