"""Figures for mutational signatures: the 96-channel bar plot, exposures and cosine heatmaps.

* :func:`plot_signature` — the customary SBS96 bar plot of one signature or catalog: channels
  in substitution-major order, six class blocks in the field's colours (C>A blue, C>G black,
  C>T red, T>A grey, T>C green, T>G pink) under a coloured band naming the class, and the
  trinucleotide context under each bar.
* :func:`plot_signatures` — several signatures, one panel each, on one Figure.
* :func:`plot_exposures` — exposures as stacked bars, one bar per sample.
* :func:`plot_cosine_heatmap` — cosine similarity of de novo against reference signatures.
* :func:`save` — write a Figure to PNG, PDF or SVG (picked by suffix), atomically.

Profiles are aligned by channel label (``A[C>A]T``), never by position, except that a bare
array of length 96 is read in :data:`nmfbio.io.sbs96.CHANNELS` (alphabetical) order, the row
order of SigProfiler and COSMIC files. Like every nmfbio plot these draw on a given Axes (or a
fresh one on a pyplot-free Figure) and return it; nothing here computes science.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio._atomic import atomic_path
from nmfbio.errors import NMFInputError
from nmfbio.io.mutation_types import (
    MUTATION_TYPES,
    STRAND_COLOURS,
    MutationType,
    canonical_label,
    detect_mutation_type,
    looks_like_label,
    mutation_type,
)
from nmfbio.plot.consensus import new_axes

__all__ = ["plot_signature", "plot_signatures", "plot_exposures", "plot_cosine_heatmap",
           "save", "SAVE_FORMATS"]

#: file suffixes :func:`save` writes
SAVE_FORMATS = (".png", ".pdf", ".svg")

_BAND_PT = 7.0       # thickness of the coloured class band above the axes, in points
_BAND_GAP_PT = 2.0   # gap between the axes' top and the band
_TITLE_PAD_PT = 24.0  # title clears the band and the class names
_MAX_LISTED = 12     # labels listed in an error message before "... and N more"
_MAX_SAMPLE_LABELS = 60
_MAX_ANNOTATED = 30
_BY_SIZE = {len(t): t for t in MUTATION_TYPES.values()}


# --------------------------------------------------------------------------------------------
# input checking


def _listed(labels: Sequence[str]) -> str:
    shown = ", ".join(map(str, labels[:_MAX_LISTED]))
    more = len(labels) - _MAX_LISTED
    return shown + (f" ... and {more} more" if more > 0 else "")


def _channel_order(index, what: str, mtype: MutationType | None = None):
    """The type of ``index``'s labels and their positions in that type's plot order."""
    labels = [str(x) for x in index]
    if mtype is None:
        try:
            mtype, _ = detect_mutation_type(labels)
        except NMFInputError:
            mtype = mutation_type("SBS96")  # nothing known: report against SBS96
    fixed = [canonical_label(x, mtype) for x in labels]
    present = set(f for f in fixed if f is not None)
    drawn = [mtype.labels[i] for i in mtype.plot_order]
    problems = []
    missing = [c for c in drawn if c not in present]
    if missing:
        problems.append(f"missing {len(missing)}: {_listed(missing)}")
    unknown = [x for x, f in dict.fromkeys(zip(labels, fixed, strict=True)) if f is None]
    if unknown:
        problems.append(f"unknown {len(unknown)}: {_listed(unknown)}")
    duplicated = [x for x, k in Counter(f for f in fixed if f).items() if k > 1]
    if duplicated:
        problems.append(f"duplicated {len(duplicated)}: {_listed(duplicated)}")
    if problems:
        raise NMFInputError(
            f"{what} must be labelled by the {len(mtype)} {mtype.name} channels (like "
            f"{mtype.example!r}); " + "; ".join(problems)
            + f". Note: {mtype.help}; or pass a bare array with one row per channel in the "
            "type's canonical order")
    where = {x: i for i, x in enumerate(fixed)}
    return mtype, np.array([where[c] for c in drawn])


def _check_values(values: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise NMFInputError(f"{what} has {int(bad.sum())} NaN or infinite values")
    neg = values < 0
    if neg.any():
        raise NMFInputError(f"{what} has {int(neg.sum())} negative values; profiles and "
                            "exposures are non-negative")
    return values


def _signature_frame(data, labels=None, what: str = "profile") -> pd.DataFrame:
    """Any accepted input as a float DataFrame indexed by its type's labels in plot order
    (checked); ``attrs["mutation_type"]`` names the type."""
    if isinstance(data, pd.Series):
        if labels is not None:
            raise NMFInputError("labels= is for arrays only: a Series carries its channel "
                                "labels in its index")
        data = data.to_frame(name=data.name if data.name is not None else "signature")
    if isinstance(data, pd.DataFrame):
        if labels is not None:
            raise NMFInputError("labels= is for arrays only: a DataFrame carries its channel "
                                "labels in its index")
        if (not any(looks_like_label(x) for x in data.index[:5])
                and any(looks_like_label(x) for x in data.columns[:5])):
            raise NMFInputError(f"{what} has the channels in its columns; expected channels "
                                "× signatures (COSMIC layout): pass its transpose (.T)")
        mtype, order = _channel_order(data.index, what)
        frame = data.iloc[order]
        values = _check_values(frame.to_numpy(dtype=float), what)
        out = pd.DataFrame(values, index=[mtype.labels[i] for i in mtype.plot_order],
                           columns=[str(c) for c in frame.columns])
        out.attrs["mutation_type"] = mtype.name
        return out
    arr = np.asarray(data, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise NMFInputError(f"{what} must be 1- or 2-dimensional, got shape {arr.shape}")
    if labels is None:
        mtype = _BY_SIZE.get(arr.shape[0])
        if mtype is None:
            sizes = ", ".join(f"{len(t)} ({t.name})" for t in MUTATION_TYPES.values())
            raise NMFInputError(f"{what} has {arr.shape[0]} rows; a bare array must have one "
                                f"row per channel of a mutation type, in its canonical order:"
                                f" {sizes}")
        index = list(mtype.labels)
    else:
        index = [str(x) for x in labels]
    if arr.shape[0] != len(index):
        raise NMFInputError(f"{what} has {arr.shape[0]} rows but {len(index)} channel labels")
    names = ["signature"] if arr.shape[1] == 1 else [f"S{k + 1}" for k in range(arr.shape[1])]
    return _signature_frame(pd.DataFrame(arr, index=index, columns=names), what=what)


# --------------------------------------------------------------------------------------------
# the bar plot of one profile, in its type's layout


def _core(label: str) -> str:
    """The label without its strand prefix (``"T:A[C>T]G"`` -> ``"A[C>T]G"``)."""
    return label.rpartition(":")[2] if "[" in label or label.count(":") == 1 else label


def _context(label: str) -> str:
    """``"A[C>T]G"`` -> ``"ACG"``, ``"AA[C>T]GG"`` -> ``"AACGG"``: the bases around the
    reference base."""
    core = _core(label)
    i = core.index("[")
    return core[:i] + core[i + 1] + core[i + 5:]


def _id_tick(label: str) -> str:
    size, kind, what, count = label.split(":")
    n = int(count) + (1 if kind == "Del" and what != "M" else 0)
    top = 6 if kind == "Del" and what != "M" else 5
    return f"{n}+" if n >= top else str(n)


def _group_title(mtype: MutationType, group: str) -> str:
    if mtype.family == "DBS":
        return f"{group}>NN"
    if mtype.family == "ID":
        size, _, what = group.split(":")
        return what if size == "1" else ("5+" if size == "5" else size)
    return group


def _super_group(group: str) -> str:
    """The ID83 family a group belongs to, named as in the field's figures."""
    size, kind, what = group.split(":")
    if what == "M":
        return "microhomology (deletion length)"
    kind = "deletion" if kind == "Del" else "insertion"
    return f"1 bp {kind}" if size == "1" else f">1 bp {kind} at repeats (length)"


def _ticks(mtype: MutationType, drawn: list[str]):
    """Tick positions and texts under the bars (one per context for stranded types)."""
    if mtype.tick == "none":
        return [], []
    if mtype.tick == "alt":
        return list(range(len(drawn))), [x.split(">")[1] for x in drawn]
    if mtype.tick == "size":
        return list(range(len(drawn))), [_id_tick(x) for x in drawn]
    text = [_context(x) if mtype.tick == "context" else _core(x) for x in drawn]
    pos, out = [], []
    for i, t in enumerate(text):
        if i and _core(drawn[i]) == _core(drawn[i - 1]):
            continue  # strands of one channel side by side: one tick under the pair
        j = i
        while j + 1 < len(drawn) and _core(drawn[j + 1]) == _core(drawn[i]):
            j += 1
        pos.append((i + j) / 2)
        out.append(t)
    return pos, out


def _stranded(mtype: MutationType) -> bool:
    return ":" in mtype.labels[0] and mtype.family == "SBS"


def _draw_class_bands(ax, mtype: MutationType, drawn: list[str]) -> None:
    """Coloured band and group name above each block of channels, outside the axes.

    The band is a thick line (its width is in points) so that it keeps its height whatever
    the panel's size.
    """
    from matplotlib.transforms import ScaledTranslation

    above = ScaledTranslation(0, (_BAND_GAP_PT + _BAND_PT / 2) / 72,
                              ax.figure.dpi_scale_trans)
    trans = ax.get_xaxis_transform() + above
    groups = [mtype.group_of(x) for x in drawn]
    start = 0
    for i in range(1, len(groups) + 1):
        if i < len(groups) and groups[i] == groups[start]:
            continue
        g = groups[start]
        x0, x1 = start - 0.45, i - 1 + 0.45
        ax.plot([x0, x1], [1, 1], transform=trans, color=mtype.colours[g], lw=_BAND_PT,
                solid_capstyle="butt", clip_on=False, gid=f"band {g}")
        ax.annotate(_group_title(mtype, g), xy=((x0 + x1) / 2, 1), xycoords=trans,
                    xytext=(0, _BAND_PT / 2 + 1), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9, fontweight="bold")
        start = i
    if mtype.family == "ID":  # a second row names the families of groups
        supers = [_super_group(g) for g in groups]
        start = 0
        for i in range(1, len(supers) + 1):
            if i < len(supers) and supers[i] == supers[start]:
                continue
            ax.annotate(supers[start], xy=((start + i - 1) / 2, 1), xycoords=trans,
                        xytext=(0, _BAND_PT / 2 + 13), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
            start = i


def _bar_plot(ax, values: np.ndarray, mtype: MutationType, *, ylabel: str, title=None,
              annotation=None, bands: bool = True):
    drawn = [mtype.labels[i] for i in mtype.plot_order]
    if _stranded(mtype):
        strand = [x.partition(":")[0] for x in drawn]
        colours = [STRAND_COLOURS[s] for s in strand]
    else:
        colours = [mtype.colours[mtype.group_of(x)] for x in drawn]
    n = len(drawn)
    x = np.arange(n)
    ax.bar(x, values, width=0.7 if n <= 400 else 1.0, color=colours, linewidth=0)
    ax.set_xlim(-0.6, n - 0.4)
    top = float(values.max()) if values.size and values.max() > 0 else 1.0
    ax.set_ylim(0, top * 1.1)
    pos, text = _ticks(mtype, drawn)
    ax.set_xticks(pos, text, rotation=90, fontfamily="monospace",
                  fontsize=6 if len(pos) <= 100 else 4)
    ax.tick_params(axis="x", length=0, pad=2)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(axis="y", color="0.88", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if _stranded(mtype):
        from matplotlib.patches import Patch

        names = {"T": "transcribed", "U": "untranscribed", "B": "bidirectional",
                 "N": "non-transcribed"}
        seen = list(dict.fromkeys(strand))
        ax.legend(handles=[Patch(color=STRAND_COLOURS[s], label=f"{s}: {names[s]}")
                           for s in seen], fontsize=7, loc="upper left", frameon=False,
                  ncols=len(seen))
    if bands:
        _draw_class_bands(ax, mtype, drawn)
    if title is not None:
        pad = (_TITLE_PAD_PT + (12 if mtype.family == "ID" else 0)) if bands else 6
        ax.set_title(str(title), loc="left", fontsize=10, pad=pad)
    if annotation:
        ax.text(0.995, 0.96, str(annotation), transform=ax.transAxes, ha="right", va="top",
                fontsize=8, bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.8",
                                  "alpha": 0.85})
    return ax


def plot_signature(profile, *, labels=None, ax=None, title=None, normalize: bool = True,
                   annotation: str | None = None):
    """The customary 96-channel bar plot of one signature or mutation catalog.

    Bars run in substitution-major order (C>A, C>G, C>T, T>A, T>C, T>G; within each class 5'
    then 3' base), coloured by class as in COSMIC and SigProfiler plots, with a coloured band
    and the class name above each block of 16 and the trinucleotide context (``ACA`` for
    ``A[C>A]A``) under each bar.

    Parameters
    ----------
    profile : pandas.Series or array-like of shape (96,)
        Counts or weights per channel. A Series is aligned by its index of channel labels
        (``A[C>A]T``; any order); a bare array is read in :data:`nmfbio.io.sbs96.CHANNELS`
        (alphabetical) order unless ``labels`` says otherwise. A one-column DataFrame is
        accepted too.
    labels : sequence of str, optional
        Channel labels of an array ``profile``, in its order.
    ax : matplotlib Axes, optional
        Where to draw; default a new 12 × 3.2 inch Figure (no pyplot needed).
    title : str, optional
        Shown above the band, on the left.
    normalize : bool, default True
        Divide by the total so bars are fractions of mutations (a zero profile stays zero).
    annotation : str, optional
        Text in the panel's upper-right corner (e.g. ``"cosine 0.97 to SBS1"``).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    nmfbio.errors.NMFInputError
        Missing, unknown or duplicated channel labels (listed), a wrong length, negative or
        non-finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> p = np.random.default_rng(0).dirichlet(np.full(96, 0.5))   # alphabetical order
    >>> ax = plot_signature(p, title="SBSA")
    >>> len(ax.patches)
    96
    """
    frame = _signature_frame(profile, labels, "profile")
    if frame.shape[1] != 1:
        raise NMFInputError(f"profile must be one signature, got {frame.shape[1]} columns; "
                            "use plot_signatures for several")
    values = frame.iloc[:, 0].to_numpy()
    if normalize:
        total = values.sum()
        values = values / total if total > 0 else values
    ax = ax or new_axes((12, 3.2))
    mtype = mutation_type(frame.attrs["mutation_type"])
    return _bar_plot(ax, values, mtype, title=title, annotation=annotation,
                     ylabel="fraction of mutations" if normalize else "mutations")


def _per_name(value, names: list[str], what: str) -> list:
    """``None``, a mapping name -> item, or a sequence (one per name) as a list."""
    if value is None:
        return [None] * len(names)
    if isinstance(value, Mapping):
        unknown = [k for k in value if str(k) not in names]
        if unknown:
            raise NMFInputError(f"{what} names unknown signatures: {_listed(unknown)}; "
                                f"known: {_listed(names)}")
        as_str = {str(k): v for k, v in value.items()}
        return [as_str.get(n) for n in names]
    if isinstance(value, str) or len(value) != len(names):
        raise NMFInputError(f"{what} must be a mapping or one entry per signature "
                            f"({len(names)}), got {value!r}")
    return list(value)


def plot_signatures(frame, *, ncols: int = 1, figsize=None, titles=None, annotations=None,
                    normalize: bool = True):
    """Several signatures, one 96-channel bar plot per panel, on one Figure.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (96, n_signatures), or array-like
        Channels × signatures (the COSMIC layout), aligned by its index of channel labels in
        any order. An array is read in :data:`nmfbio.io.sbs96.CHANNELS` order.
    ncols : int, default 1
        Panels per row; panels in a column share the x axis (contexts shown at the bottom).
    figsize : (float, float), optional
        Default 12 inches wide per column and 2.6 inches high per row (plus a margin).
    titles : sequence or mapping of str, optional
        One per signature, or signature name -> title. Default: the column names.
    annotations : sequence or mapping of str, optional
        Text in each panel's corner, e.g. ``{"SBSA": "cosine 0.97 to SBS1"}``.
    normalize : bool, default True
        Show fractions of mutations rather than raw values.

    Returns
    -------
    matplotlib.figure.Figure
        With one Axes per signature, in column order, in ``fig.axes``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> W = np.random.default_rng(0).dirichlet(np.full(96, 0.5), size=3).T
    >>> fig = plot_signatures(pd.DataFrame(W, index=CHANNELS, columns=["A", "B", "C"]),
    ...                       annotations={"A": "cosine 0.95 to SBS1"})
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['A', 'B', 'C']
    """
    from matplotlib.figure import Figure

    sigs = _signature_frame(frame, what="frame")
    names = list(sigs.columns)
    if not isinstance(ncols, int | np.integer) or ncols < 1:
        raise NMFInputError(f"ncols must be a positive integer, got {ncols!r}")
    n = len(names)
    if n == 0:
        raise NMFInputError("frame has no signatures (no columns)")
    ncols = min(int(ncols), n)
    nrows = math.ceil(n / ncols)
    title_list = _per_name(titles, names, "titles")
    title_list = [names[i] if t is None else t for i, t in enumerate(title_list)]
    note_list = _per_name(annotations, names, "annotations")
    fig = Figure(figsize=figsize or (12 * ncols, 2.6 * nrows + 0.6), layout="constrained")
    grid = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    axes = grid.ravel()
    values = sigs.to_numpy()
    mtype = mutation_type(sigs.attrs["mutation_type"])
    if normalize:
        totals = values.sum(axis=0)
        values = np.divide(values, totals, out=values.copy(), where=totals > 0)
    for k in range(n):
        _bar_plot(axes[k], values[:, k], mtype, title=title_list[k], annotation=note_list[k],
                  ylabel="fraction of mutations" if normalize else "mutations")
    for ax in axes[n:]:
        ax.remove()
    # the last panel of a column whose bottom slot is empty must show the contexts itself
    for col in range(ncols):
        last = max(k for k in range(col, n, ncols))
        axes[last].xaxis.set_tick_params(labelbottom=True)
    return fig


# --------------------------------------------------------------------------------------------
# exposures and cosine heatmap


def _component_colours(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n)]


def _sample_order(exp: pd.DataFrame, order) -> pd.DataFrame:
    if order is None:
        return exp
    if isinstance(order, str):
        total = exp.sum(axis=1)
        if order == "total":
            return exp.iloc[np.argsort(-total.to_numpy(), kind="stable")]
        if order == "dominant":
            share = exp.to_numpy() / np.maximum(total.to_numpy(), 1e-300)[:, None]
            top = share.argmax(axis=1)
            keys = np.lexsort((-share[np.arange(len(exp)), top], top))
            return exp.iloc[keys]
        raise NMFInputError(f"order must be 'total', 'dominant', a list of sample names or "
                            f"None, got {order!r}")
    wanted = [str(s) for s in order]
    index = [str(s) for s in exp.index]
    unknown = [s for s in wanted if s not in set(index)]
    if unknown:
        raise NMFInputError(f"order names unknown samples: {_listed(unknown)}")
    where = {s: i for i, s in enumerate(index)}
    return exp.iloc[[where[s] for s in wanted]]


def plot_exposures(exposures, *, ax=None, relative: bool = False, order=None):
    """Exposures as stacked bars: one bar per sample, one colour per signature.

    Parameters
    ----------
    exposures : pandas.DataFrame of shape (n_samples, n_signatures)
        Samples × signatures (as in ``extract(...).exposures``); non-negative.
    ax : matplotlib Axes, optional
        Default a new Figure whose width grows with the number of samples.
    relative : bool, default False
        Show each sample's exposures as fractions of its total (bars of height 1; a sample
        with no mutations stays empty).
    order : {"total", "dominant"} or sequence of str, optional
        Sample order: as given (None), by total (largest first), grouped by dominant
        signature (then by its share), or these sample names (a subset is allowed).

    Returns
    -------
    matplotlib Axes
        Sample labels are thinned to at most 60 when there are many samples.

    Examples
    --------
    >>> import pandas as pd
    >>> E = pd.DataFrame({"SBS1": [120, 30, 0], "SBS5": [80, 200, 5]},
    ...                  index=["t1", "t2", "t3"])
    >>> ax = plot_exposures(E, relative=True)
    >>> len(ax.patches)
    6
    """
    if not isinstance(exposures, pd.DataFrame):
        raise NMFInputError("exposures must be a pandas DataFrame of samples × signatures, "
                            f"got {type(exposures).__name__}")
    exp = pd.DataFrame(_check_values(exposures.to_numpy(dtype=float), "exposures"),
                       index=exposures.index, columns=[str(c) for c in exposures.columns])
    exp = _sample_order(exp, order)
    values = exp.to_numpy()
    if relative:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    n, r = values.shape
    ax = ax or new_axes((min(16.0, max(6.0, 0.15 * n + 3.0)), 4.0))
    x = np.arange(n)
    width = 0.8 if n <= 100 else 1.0
    bottom = np.zeros(n)
    for k, (name, colour) in enumerate(zip(exp.columns, _component_colours(r), strict=True)):
        ax.bar(x, values[:, k], bottom=bottom, width=width, color=colour, label=name,
               linewidth=0)
        bottom = bottom + values[:, k]
    step = max(1, math.ceil(n / _MAX_SAMPLE_LABELS))
    ax.set_xticks(x[::step], [str(s) for s in exp.index[::step]], rotation=90, fontsize=7)
    ax.set_xlim(-0.6, n - 0.4)
    if relative:
        ax.set_ylim(0, 1)
    ax.set_xlabel("sample" if step == 1 else f"sample (one in {step} labelled)")
    ax.set_ylabel("fraction of mutations" if relative else "mutations")
    ax.grid(axis="y", color="0.88", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if r:
        ax.legend(title="signature", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize=8, title_fontsize=8, frameon=False)
    return ax


def plot_cosine_heatmap(cos, *, ax=None, annotate: bool = True):
    """Heatmap of cosine similarities, de novo signatures (rows) against a reference (columns).

    Parameters
    ----------
    cos : pandas.DataFrame of shape (n_denovo, n_reference), or array-like
        Cosine similarities, e.g. ``nmfbio.signatures.match(...).cosine``. Axis labels come
        from the index and column names (default "de novo" and "reference").
    ax : matplotlib Axes, optional
        Default a new Figure sized to the matrix.
    annotate : bool, default True
        Write each value (two decimals) in its cell, when the matrix is at most 30 × 30.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> C = pd.DataFrame([[0.97, 0.31], [0.22, 0.88]], index=["SBSA", "SBSB"],
    ...                  columns=["SBS1", "SBS5"])
    >>> ax = plot_cosine_heatmap(C)
    >>> [t.get_text() for t in ax.texts]
    ['0.97', '0.31', '0.22', '0.88']
    """
    if not isinstance(cos, pd.DataFrame):
        cos = pd.DataFrame(np.asarray(cos, dtype=float))
    values = cos.to_numpy(dtype=float)
    if values.ndim != 2 or 0 in values.shape:
        raise NMFInputError(f"cos must be a non-empty 2-D matrix, got shape {values.shape}")
    nr, nc = values.shape
    ax = ax or new_axes((min(16.0, max(4.5, 0.45 * nc + 2.5)),
                         min(14.0, max(3.0, 0.38 * nr + 1.8))))
    im = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto",
                   interpolation="nearest")
    ax.set_xticks(np.arange(nc), [str(c) for c in cos.columns], rotation=90, fontsize=8)
    ax.set_yticks(np.arange(nr), [str(i) for i in cos.index], fontsize=8)
    ax.set_xlabel(cos.columns.name or "reference")
    ax.set_ylabel(cos.index.name or "de novo")
    if annotate and nr <= _MAX_ANNOTATED and nc <= _MAX_ANNOTATED:
        size = 8 if max(nr, nc) <= 15 else 6
        for i in range(nr):
            for j in range(nc):
                v = values[i, j]
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=size,
                            color="black" if v > 0.6 else "white")
    ax.figure.colorbar(im, ax=ax, label="cosine similarity")
    return ax


# --------------------------------------------------------------------------------------------
# output


def save(fig_or_ax, path: str | os.PathLike, *, dpi: int = 200) -> Path:
    """Write a figure to PNG, PDF or SVG (chosen by the suffix), atomically.

    Parameters
    ----------
    fig_or_ax : matplotlib Figure or Axes
        An Axes saves the whole Figure it is on.
    path : path-like
        Ends in ``.png``, ``.pdf`` or ``.svg``; parent folders are created. The figure is
        written to a temporary file beside it and renamed, so no half-written file is left.
    dpi : int, default 200
        Resolution of PNG output.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> ax = plot_cosine_heatmap([[0.9, 0.1], [0.2, 0.8]])
    >>> out = save(ax, os.path.join(tempfile.mkdtemp(), "cosine.svg"))
    >>> out.stat().st_size > 0
    True
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in SAVE_FORMATS:
        raise NMFInputError(f"path must end in one of {list(SAVE_FORMATS)}, got {str(path)!r}")
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase

    if not isinstance(fig_or_ax, Axes | FigureBase):
        raise NMFInputError("fig_or_ax must be a matplotlib Figure or Axes, got "
                            f"{type(fig_or_ax).__name__}")
    fig = fig_or_ax.figure.figure  # Axes -> (Sub)Figure -> root Figure; Figure -> itself
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt[1:], dpi=dpi)
    return path
