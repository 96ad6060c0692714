"""Figures for neural assemblies (:class:`~nmfbio.assemblies.AssemblyResult`).

* :func:`raster` — spikes of every unit in a time window, units grouped by assembly (a unit
  in two assemblies appears in both blocks), each block in its assembly's colour, detected
  activation events shaded behind the block.
* :func:`membership_heatmap` — units × assemblies of the membership z-scores (ICA baseline:
  the signed weights), members outlined, units sorted by assembly.
* :func:`activations` — each assembly's activation probability over time (one row per
  assembly), detected events shaded.
* :func:`null_distribution` — per assembly, the held-out gains of shift surrogates (the null)
  against the observed held-out gain, with the adjusted p-value.

Each assembly keeps one colour in all four figures (Okabe–Ito palette, colourblind-safe;
non-members grey). Recordings of many minutes are shown in a window (``t_range``; by default
60 s from just before the first event). A result with no assemblies, or from the ICA
baseline (no p-values, no null, no events), gives a figure with a note saying so. Like every
nmfbio plot these draw on a given Axes (or a fresh one on a pyplot-free Figure) and return
it; nothing here computes science.
"""

from __future__ import annotations

import math

import numpy as np

from nmfbio.errors import NMFInputError
from nmfbio.plot.consensus import new_axes

__all__ = ["raster", "membership_heatmap", "activations", "null_distribution",
           "raster_rows", "unit_order", "time_window", "assembly_colour", "PALETTE"]

#: Okabe & Ito (2008) colours, in the order assemblies get them (yellow last: faint on white)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
OTHER = "#7f7f7f"
#: default length of the window shown by :func:`raster` and :func:`activations` (seconds):
#: at 25 ms bins about one bin per pixel, so co-firing shows as coloured columns (in 60 s
#: it is lost among the ticks)
DEFAULT_SPAN = 20.0
_MAX_ROW_LABELS = 80


def assembly_colour(k: int) -> str:
    """The colour of the ``k``-th assembly (0-based), the same in every figure."""
    return PALETTE[k % len(PALETTE)]


def _is_ica(res) -> bool:
    return res.params.get("method") == "ica"


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            color="#333333", wrap=True)


# --------------------------------------------------------------------------- ordering
def unit_order(res):
    """Units sorted by assembly: each assembly's members (strongest first) not already
    listed, then the other units by total spike count (most active first).

    Returns
    -------
    order : ndarray of int, shape (n_units,)
        Row indices into ``res.weights`` (each unit once).
    group : ndarray of int, shape (n_units,)
        The assembly each listed unit was placed under (0-based), -1 for non-members.
    """
    index = {u: i for i, u in enumerate(res.weights.index)}
    order, group, seen = [], [], set()
    for k, members in enumerate(res.members):
        for u in members:
            if u not in seen:
                seen.add(u)
                order.append(index[u])
                group.append(k)
    rest = [i for i in range(len(index)) if res.weights.index[i] not in seen]
    rest.sort(key=lambda i: -float(res.counts[i].sum()))
    return np.array(order + rest, dtype=int), np.array(group + [-1] * len(rest), dtype=int)


def raster_rows(res):
    """The rows of :func:`raster`, top to bottom: every member of A1 (strongest first), of
    A2, … (a unit in two assemblies is listed under both), then the other units.

    Returns
    -------
    list of (str, int)
        ``(unit id, assembly index)``; the index is -1 for the units in no assembly.
    """
    rows = [(str(u), k) for k, members in enumerate(res.members) for u in members]
    order, group = unit_order(res)
    rows += [(str(res.weights.index[i]), -1) for i, g in zip(order, group, strict=True)
             if g < 0]
    return rows


def time_window(res, t_range=None, max_bins=None):
    """The bins shown: ``t_range`` (seconds) clipped to the recording, or by default
    :data:`DEFAULT_SPAN` seconds starting shortly before the first detected event (the
    recording's start when there is none); at most ``max_bins`` bins.

    Returns
    -------
    (int, int)
        First bin and one past the last bin shown.

    Raises
    ------
    nmfbio.errors.NMFInputError
        ``t_range`` not a (start, end) pair with start < end overlapping the recording.

    Examples
    --------
    >>> from nmfbio.assemblies import ica_baseline
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> time_window(res, (10, 20))
    (400, 800)
    """
    times = np.asarray(res.bin_times, dtype=np.float64)
    n = times.size
    width = float(res.params.get("bin_width", times[1] - times[0] if n > 1 else 1.0))
    if n == 0:
        return 0, 0
    start_rec, end_rec = float(times[0]), float(times[-1] + width)
    if t_range is not None:
        try:
            start, end = (float(t) for t in t_range)
        except (TypeError, ValueError):
            raise NMFInputError(f"t_range must be (start, end) in seconds, got "
                                f"{t_range!r}") from None
        if not (np.isfinite(start) and np.isfinite(end) and start < end
                and start < end_rec and end > start_rec):
            raise NMFInputError(f"t_range must be (start, end) with start < end, overlapping "
                                f"the recording [{start_rec:g}, {end_rec:g}] s; got "
                                f"{t_range!r}")
    else:
        span = min(DEFAULT_SPAN, end_rec - start_rec)
        if max_bins is not None:
            span = min(span, max_bins * width)
        start = start_rec
        if len(res.events):
            first = float(res.events["t_start"].min())
            start = max(start_rec, first - 0.1 * span)
        start = max(start_rec, min(start, end_rec - span))
        end = start + span
    lo = int(np.searchsorted(times, start - 1e-9 * width, side="left"))
    hi = int(np.searchsorted(times, end - 1e-9 * width, side="left"))
    hi = max(hi, lo + 1)
    if max_bins is not None:
        hi = min(hi, lo + int(max_bins))
    return lo, min(hi, n)


def _width(res) -> float:
    return float(res.params["bin_width"])


def _events_in(res, name, t0, t1):
    """(start, length) of the events of assembly ``name`` that overlap [t0, t1]."""
    ev = res.events
    if not len(ev):
        return []
    ev = ev[(ev["assembly"] == name) & (ev["t_end"] > t0) & (ev["t_start"] < t1)]
    return [(max(float(s), t0), min(float(e), t1) - max(float(s), t0))
            for s, e in zip(ev["t_start"], ev["t_end"], strict=True)]


def _shade_events(ax, spans, y0, height, colour, alpha):
    """Shade events over rows [y0, y0 + height]: their true extent, and a line at least a
    point wide at each centre (one bin is narrower than a pixel in a long window)."""
    if not spans:
        return
    ax.broken_barh(spans, (y0, height), facecolors=colour, alpha=alpha, zorder=0)
    centres = [s + w / 2 for s, w in spans]
    ax.vlines(centres, y0, y0 + height, colors=colour, alpha=alpha, lw=1.5, zorder=0)


def _shown(res, t_range, max_bins):
    """``(lo, hi, t0, t1)``: the bins :func:`time_window` shows and the seconds they span
    (0–1 s when there is no bin)."""
    lo, hi = time_window(res, t_range, max_bins)
    if hi <= lo:
        return lo, hi, 0.0, 1.0
    times = np.asarray(res.bin_times)
    return lo, hi, float(times[lo]), float(times[hi - 1] + _width(res))


# --------------------------------------------------------------------------- raster
def raster(res, ax=None, *, t_range=None, max_bins=5000):
    """Spike raster with units grouped by assembly and activation events shaded.

    Parameters
    ----------
    res : nmfbio.assemblies.AssemblyResult
    ax : matplotlib Axes, optional
    t_range : (float, float), optional
        Start and end of the window shown, in seconds. Default: 60 s from just before the
        first detected event.
    max_bins : int, default 5000
        Most bins drawn (a longer ``t_range`` is cut, and the title says so).

    Returns
    -------
    matplotlib Axes
        One row per :func:`raster_rows` entry, top to bottom; a tick in each bin where the
        unit fired (the bin's centre), in its assembly's colour (grey: no assembly). Shaded
        behind each block: that assembly's detected events. Unit ids label the rows (up to
        80 rows), assembly names the blocks (right margin).

    Examples
    --------
    >>> from nmfbio.assemblies import ica_baseline
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> ax = raster(res, t_range=(0, 10))
    >>> [round(float(x), 6) for x in ax.get_xlim()], ax.get_xlabel()
    ([0.0, 10.0], 'time (s)')
    """
    rows = raster_rows(res)
    n_rows = len(rows)
    ax = ax or new_axes((10, float(np.clip(0.12 * n_rows + 1.6, 3.5, 12))))
    lo, hi, t0, t1 = _shown(res, t_range, max_bins)
    width = _width(res)
    times = np.asarray(res.bin_times)
    index = {u: i for i, u in enumerate(map(str, res.weights.index))}
    positions = [times[lo:hi][res.counts[index[u], lo:hi] > 0] + width / 2 for u, _ in rows]
    colours = [assembly_colour(k) if k >= 0 else OTHER for _, k in rows]
    if n_rows:
        ax.eventplot(positions, lineoffsets=np.arange(n_rows), linelengths=0.8,
                     linewidths=0.8, colors=colours)
    # blocks: shaded events, separators, names in the right margin
    names = list(res.weights.columns)
    ks = np.array([k for _, k in rows])
    for k, name in enumerate(names):
        where = np.flatnonzero(ks == k)
        if not where.size:
            continue
        first, last = int(where[0]), int(where[-1])
        _shade_events(ax, _events_in(res, name, t0, t1), first - 0.5, last - first + 1,
                      assembly_colour(k), 0.3)
        ax.axhline(last + 0.5, color="#bbbbbb", lw=0.6)
        ax.text(1.005, (first + last) / 2, name, transform=ax.get_yaxis_transform(),
                color=assembly_colour(k), fontweight="bold", va="center", ha="left")
    if (ks < 0).any():
        first = int(np.flatnonzero(ks < 0)[0])
        ax.text(1.005, (first + n_rows - 1) / 2, "others", transform=ax.get_yaxis_transform(),
                color=OTHER, va="center", ha="left", rotation=90)
    ax.set_xlim(t0, t1)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if n_rows <= _MAX_ROW_LABELS:
        ax.set_yticks(np.arange(n_rows), [u for u, _ in rows],
                      fontsize=7 if n_rows <= 40 else 5)
    else:
        ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit (grouped by assembly)")
    total = float(times[-1] + width - times[0]) if times.size else 0.0
    cut = " (cut at max_bins)" if t_range is not None and hi - lo == max_bins else ""
    what = "ICA baseline" if _is_ica(res) else "shaded: detected events"
    ax.set_title(f"spike raster, {len(names)} assemblies ({what}); {t0:g}–{t1:g} s of "
                 f"{total:g} s{cut}")
    if not names:
        ax.text(0.5, 1.0, "no assemblies detected: units sorted by activity",
                transform=ax.transAxes, ha="center", va="bottom", fontsize=9,
                color="#333333")
    return ax


# --------------------------------------------------------------------------- heatmap
def membership_heatmap(res, ax=None):
    """Heatmap of each unit's membership score in each assembly, members outlined.

    Parameters
    ----------
    res : nmfbio.assemblies.AssemblyResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        Rows: units in :func:`unit_order` (grouped by assembly); columns: assemblies. Colour:
        the leave-one-out membership z-score (gated NMF) or the signed ICA weight (ICA
        baseline), on a diverging scale centred at 0. Each member cell has a black outline
        (one rectangle patch per membership).

    Examples
    --------
    >>> from nmfbio.assemblies import ica_baseline
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> ax = membership_heatmap(res)
    >>> ax.images[0].get_array().shape == (20, res.n_assemblies)
    True
    """
    n_units, k = res.weights.shape
    ax = ax or new_axes((float(np.clip(3.5 + 0.6 * k, 5.5, 10)),
                         float(np.clip(0.13 * n_units + 1.8, 3.5, 14))))
    if k == 0:
        _note(ax, "no assemblies detected:\nno membership to show")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"membership: {n_units} units, no assemblies")
        return ax
    use_z = not _is_ica(res) and np.isfinite(res.z.to_numpy()).any()
    values = (res.z if use_z else res.weights).to_numpy(dtype=np.float64)
    label = "membership z-score (leave-one-out)" if use_z else "ICA weight"
    order, group = unit_order(res)
    shown = values[order]
    finite = np.abs(shown[np.isfinite(shown)])
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    im = ax.imshow(shown, aspect="auto", interpolation="nearest", cmap="RdBu_r",
                   vmin=-vmax, vmax=vmax)
    from matplotlib.patches import Rectangle

    row_of = {u: r for r, u in enumerate(res.weights.index[order])}
    col_of = {c: j for j, c in enumerate(res.weights.columns)}
    for name, members in zip(res.weights.columns, res.members, strict=True):
        for u in members:
            ax.add_patch(Rectangle((col_of[name] - 0.5, row_of[u] - 0.5), 1, 1, fill=False,
                                   edgecolor="k", lw=1.2))
    for r in np.flatnonzero(np.diff(group) != 0):
        ax.axhline(r + 0.5, color="#444444", lw=0.6)
    ax.set_xticks(range(k), list(res.weights.columns))
    for j, tick in enumerate(ax.get_xticklabels()):
        tick.set_color(assembly_colour(j))
        tick.set_fontweight("bold")
    if n_units <= _MAX_ROW_LABELS:
        ax.set_yticks(range(n_units), [str(u) for u in res.weights.index[order]],
                      fontsize=7 if n_units <= 40 else 5)
    else:
        ax.set_yticks([])
    ax.set_xlabel("assembly")
    ax.set_ylabel("unit (grouped by assembly)")
    ax.figure.colorbar(im, ax=ax, label=label)
    n_mem = sum(len(m) for m in res.members)
    ax.set_title(f"membership of {n_units} units in {k} assemblies\n({n_mem} members "
                 "outlined)")
    return ax


# --------------------------------------------------------------------------- activations
def activations(res, ax=None, *, t_range=None, max_bins=20000):
    """Activation time course of each assembly (one row each), detected events shaded.

    Parameters
    ----------
    res : nmfbio.assemblies.AssemblyResult
    ax : matplotlib Axes, optional
    t_range : (float, float), optional
        Window in seconds; default as :func:`raster` (60 s from just before the first event).
    max_bins : int, default 20000
        Most bins drawn.

    Returns
    -------
    matplotlib Axes
        One line per assembly (``ax.lines``, A1 at the top): the probability that the
        assembly is on in each bin (gated NMF; the row spans 0–1, the dotted line marks the
        0.5 event threshold), or the ICA activation strength scaled to its largest value in
        the window. Shaded: the detected events.

    Examples
    --------
    >>> from nmfbio.assemblies import ica_baseline
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> ax = activations(res, t_range=(0, 30))
    >>> len(ax.lines) == res.n_assemblies
    True
    """
    k = res.n_assemblies
    ax = ax or new_axes((10, float(np.clip(0.9 * k + 1.6, 3.0, 10))))
    if k == 0:
        _note(ax, "no assemblies detected:\nno activation time course to show")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("assembly activations")
        return ax
    lo, hi, t0, t1 = _shown(res, t_range, max_bins)
    width = _width(res)
    times = np.asarray(res.bin_times)
    x = times[lo:hi] + width / 2
    ica = _is_ica(res)
    height = 0.85
    for j, name in enumerate(res.activations.columns):
        base = k - 1 - j
        y = res.activations[name].to_numpy(dtype=np.float64)[lo:hi]
        if ica:
            top = float(np.max(np.abs(y))) if y.size else 0.0
            y = np.clip(y / top, -0.1, 1.0) if top > 0 else y
        ax.plot(x, base + height * y, color=assembly_colour(j), lw=0.9, label=name)
        _shade_events(ax, _events_in(res, name, t0, t1), base, height, assembly_colour(j),
                      0.25)
        if not ica:
            ax.hlines(base + 0.5 * height, t0, t1, colors="#555555", linestyles=":", lw=0.7)
    ax.set_yticks(np.arange(k)[::-1] + height / 2, list(res.activations.columns))
    for j, tick in enumerate(ax.get_yticklabels()):
        tick.set_color(assembly_colour(j))
        tick.set_fontweight("bold")
    ax.set_ylim(-0.15, k)
    ax.set_xlim(t0, t1)
    ax.set_xlabel("time (s)")
    if ica:
        ax.set_ylabel("ICA activation strength\n(scaled to its maximum in the window)")
        ax.set_title(f"assembly activations (ICA baseline, no events), {t0:g}–{t1:g} s")
    else:
        ax.set_ylabel("probability the assembly is on\n(each row 0–1; dotted: 0.5)")
        ax.set_title(f"assembly activations, {t0:g}–{t1:g} s; shaded: detected events")
    return ax


# --------------------------------------------------------------------------- null
def _panels(ax, n: int, ncols: int):
    """A Figure and ``n`` Axes: a new Figure, the given Figure/SubFigure, or the area of the
    given Axes split into a grid (the Axes itself when ``n == 1``)."""
    from matplotlib.figure import Figure, FigureBase

    nrows = math.ceil(n / ncols)
    if ax is None:
        fig = Figure(figsize=(3.8 * ncols, 2.6 * nrows + 0.5), layout="constrained")
        grid = fig.add_gridspec(nrows, ncols)
    elif isinstance(ax, FigureBase):
        fig, grid = ax, ax.add_gridspec(nrows, ncols)
    elif n == 1:
        return ax.figure, [ax]
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise NMFInputError("null_distribution draws one panel per assembly: pass an "
                                "Axes made by add_subplot/subplots, a Figure, or nothing")
        fig = ax.figure
        ax.remove()
        grid = spec.subgridspec(nrows, ncols)
    return fig, [fig.add_subplot(grid[i // ncols, i % ncols]) for i in range(n)]


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "p not computed"
    return "p_adj < 1e-300" if p == 0 else f"p_adj = {p:.2g}"


def null_distribution(res, ax=None, *, ncols=3):
    """Per assembly: histogram of the shift-surrogate held-out gains (the null) with the
    observed held-out gain as a vertical line, and the adjusted p-value in the title.

    Parameters
    ----------
    res : nmfbio.assemblies.AssemblyResult
    ax : matplotlib Axes, Figure or SubFigure, optional
        Where to draw: a Figure/SubFigure gets one panel per assembly; an Axes is split into
        such panels (used as it is for a single panel); by default a new Figure.
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    matplotlib Figure
        One Axes per assembly (a single Axes with a note when there is no assembly, or for
        the ICA baseline, which has no significance test).

    Examples
    --------
    >>> from nmfbio.assemblies import ica_baseline
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=60, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> fig = null_distribution(res)  # the ICA baseline has no null: one panel, a note
    >>> len(fig.axes)
    1
    """
    k = res.n_assemblies
    null = np.asarray(res.null_gains, dtype=np.float64)
    observed = np.asarray(res.heldout_gains, dtype=np.float64)
    if k == 0 or _is_ica(res) or null.size == 0:
        fig, (one,) = _panels(ax, 1, 1)
        if k == 0:
            text = "no assemblies detected:\nno held-out test to show"
        elif _is_ica(res):
            text = ("ICA baseline: no significance test\n(the number of assemblies comes "
                    "from the\nMarchenko–Pastur bound), so no null distribution")
        else:
            text = "no surrogates were drawn (n_surrogates=0)"
        _note(one, text)
        one.set_xticks([])
        one.set_yticks([])
        one.set_title("held-out gain against the shift-surrogate null")
        return fig
    fig, axes = _panels(ax, k, min(k, ncols))
    for j, (name, a) in enumerate(zip(res.weights.columns, axes, strict=True)):
        sample = null[:, j]
        sample = sample[np.isfinite(sample)]
        lo = float(min(sample.min(), observed[j])) if sample.size else observed[j] - 1
        hi = float(max(sample.max(), observed[j])) if sample.size else observed[j] + 1
        pad = 0.05 * (hi - lo or 1.0)
        a.hist(sample, bins=int(np.clip(sample.size // 3, 5, 30)), color="#999999",
               edgecolor="white", label=f"null ({sample.size} surrogates)")
        a.axvline(observed[j], color=assembly_colour(j), lw=2.2, label="observed")
        a.set_xlim(lo - pad, hi + pad)
        a.set_title(f"{name}: {_p_text(float(res.pvalues.iloc[j]))}", fontsize=10,
                    color=assembly_colour(j))
        a.set_xlabel("held-out log-likelihood gain")
        a.set_ylabel("surrogates")
        if j == 0:
            a.legend(fontsize=7, loc="best")
    fig.suptitle("held-out gain of each assembly against shift surrogates of the test blocks")
    return fig
