"""Spike data as AnnData (obs = time bins, var = units): binning and the simple sources.

This module holds :func:`bin_spikes` (spike trains in memory), :func:`read_binned` (a
pre-binned count matrix) and :func:`from_traces` (non-negative calcium or deconvolved
traces), and re-exports :func:`read_spike_table` (a long CSV/TSV of unit, time; format in
:mod:`nmfbio.io.spike_table`). Phy/Kilosort folders are read by :func:`nmfbio.io.read_phy`
(:mod:`nmfbio.io.phy`) and NWB files by :func:`nmfbio.io.read_nwb` (:mod:`nmfbio.io.nwb`);
all give the same layout, and share the binning core in ``nmfbio.io._binning``. Detection
of assemblies is :mod:`nmfbio.assemblies`.

Layout of every result: ``X`` is a dense float64 matrix of shape (n_bins, n_units);
``obs_names`` are ``bin0, bin1, …`` with ``obs["t_start"]``, ``obs["t_end"]`` in seconds;
``var_names`` are the unit ids as strings, with ``var["n_spikes"]`` (spikes in the window)
and ``var["rate_hz"]`` plus any unit metadata of the source; ``uns["spikes"]`` records
``bin_width`` (s), ``window`` ([t0, t1] actually binned, s), ``source``, ``units``
("counts", "smoothed counts", "traces" or "values"), ``window_inferred`` and, per source,
``path``, ``window_from``, ``requested_window``, ``smooth_sd``, ``time_unit``.

Binning rules (the same for every spike source):

* Bins are ``[t0, t0+w), [t0+w, t0+2w), …``; the **last bin is closed**, so a spike exactly
  at ``t1`` is counted. A spike within ``1e-6`` of a bin width below an edge counts as on
  the edge (decimal times such as 0.3 s with 0.1 s bins land where they are written).
* The window is explicit (``window=(t0, t1)``) or taken from the file where the format
  records it. Without either it runs **from 0 s** to the last spike, rounded up to a whole
  bin, with a :class:`~nmfbio.errors.DataWarning` saying that the window was inferred; it is
  never taken from the first to the last spike.
* A window whose length is not a whole number of bins loses its last, partial bin (bins
  stay equal, as a Poisson count model needs): silently (logged) when that partial bin holds
  no spike, with a ``DataWarning`` giving the number of spikes otherwise.
* Spikes outside the window are dropped with a ``DataWarning`` giving how many.
* Spike times may be unsorted and negative (a window may start before 0).
* Units that never fire in the window are kept as all-zero columns, with a ``DataWarning``.
* ``smooth=sd`` convolves each unit's counts with a Gaussian kernel of that sd (seconds):
  values stay non-negative, ``X`` holds the smoothed counts and ``layers["counts"]`` the raw
  ones. Nothing is ever z-scored or centred (NMF needs non-negative data).

Errors: :class:`~nmfbio.errors.NMFInputError` for bad arguments and values (bin width ≤ 0
or longer than the window, ``t1 <= t0``, NaN/infinite times, duplicate unit ids, negative
traces or counts, unknown ``time_unit``); :class:`~nmfbio.errors.FormatError` for malformed
files, naming the file, line and column. Files are only ever read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, NMFInputError
from nmfbio.io._binning import (
    bin_long,
    check_bin_width,
    show,
    spike_anndata,
    unit_ids_unique,
    window_end,
)
from nmfbio.io.matrix import SAMPLES_IN, read_matrix
from nmfbio.io.spike_table import TIME_UNITS, read_spike_table

__all__ = ["bin_spikes", "read_spike_table", "read_binned", "from_traces", "TIME_UNITS"]


def bin_spikes(trains, bin_width, *, window=None, unit_ids=None,
               smooth=None) -> anndata.AnnData:
    """Bin spike trains held in memory into an AnnData of shape (n_bins, n_units).

    Parameters
    ----------
    trains : dict or list of array-like
        ``{unit_id: spike times}`` or a list of 1-D arrays of spike times, in seconds, each
        in any order.
    bin_width : float
        Bin width in seconds (> 0, not longer than the window).
    window : (float, float), optional
        The recording's start and end in seconds. Without it the window is 0 s to the last
        spike, with a :class:`~nmfbio.errors.DataWarning` (see the module documentation).
    unit_ids : sequence, optional
        Ids of the units of a list of trains (default ``"0", "1", …``); not allowed with a
        dict, whose keys are the ids.
    smooth : float, optional
        Sd in seconds of a Gaussian kernel applied along time (``layers["counts"]`` keeps
        the raw counts).

    Returns
    -------
    anndata.AnnData
        ``X`` of shape (n_bins, n_units), counts; ``obs`` = bins with ``t_start``/``t_end``;
        ``var`` = units with ``n_spikes``, ``rate_hz``; ``uns["spikes"]``.

    Raises
    ------
    nmfbio.errors.NMFInputError
        Bad ``bin_width``/``window``/``smooth``, NaN or infinite times, non-numeric or
        multi-dimensional trains, duplicate unit ids.

    Examples
    --------
    >>> ad = bin_spikes({"a": [0.01, 0.12, 0.2], "b": [0.05]}, 0.1, window=(0.0, 0.2))
    >>> ad.X.T.tolist()
    [[1.0, 2.0], [1.0, 0.0]]
    >>> ad.obs["t_end"].tolist()
    [0.1, 0.2]
    """
    if isinstance(trains, Mapping):
        if unit_ids is not None:
            raise NMFInputError("unit_ids applies to a list of trains; the keys of a dict "
                                "are already the unit ids")
        ids, arrays = list(trains.keys()), list(trains.values())
    elif isinstance(trains, list | tuple):
        arrays = list(trains)
        ids = list(range(len(arrays))) if unit_ids is None else list(unit_ids)
        if len(ids) != len(arrays):
            raise NMFInputError(f"unit_ids has {len(ids)} ids for {len(arrays)} trains")
    else:
        raise NMFInputError("trains must be a dict {unit_id: spike times} or a list of "
                            f"arrays of spike times in seconds, got {type(trains).__name__}")
    names = unit_ids_unique(ids, "unit ids")
    if not names:
        raise NMFInputError("trains holds no units")
    parts = []
    for name, train in zip(names, arrays, strict=True):
        a = np.asarray(train)
        if a.ndim != 1:
            raise NMFInputError(f"unit {name!r}: expected a 1-D array of spike times, got "
                                f"shape {a.shape}")
        if a.size and a.dtype.kind not in "biuf":
            raise NMFInputError(f"unit {name!r}: spike times must be numbers (seconds), got "
                                f"dtype {a.dtype}")
        parts.append(a.astype(np.float64))
    times = np.concatenate(parts)
    unit_index = np.repeat(np.arange(len(names)), [p.size for p in parts])
    return bin_long(times, unit_index, names, bin_width, window, smooth=smooth,
                    source="memory")


# --------------------------------------------------------------------------- binned data
def read_binned(path: str | os.PathLike, *, bin_width, samples_in: str,
                t0: float = 0.0) -> anndata.AnnData:
    """Read a pre-binned count matrix (bins × units or units × bins) into spike AnnData.

    Parameters
    ----------
    path : path-like
        Any file :func:`nmfbio.io.read_matrix` reads (``.csv``/``.tsv``/``.txt`` with a
        header and row names, ``.npy``, ``.npz``, ``.mtx``, ``.h5ad``).
    bin_width : float
        Width of each bin in seconds.
    samples_in : {"rows", "columns"}
        Where the time bins are: ``"rows"`` (one line per bin, units across) or
        ``"columns"`` (one line per unit). Required: the orientation cannot be guessed.
        Ignored for ``.h5ad`` (always bins × units).
    t0 : float, default 0.0
        Start time of the first bin in seconds.

    Returns
    -------
    anndata.AnnData
        Shape (n_bins, n_units); the file's bin names, if any, in ``obs["name"]``;
        ``uns["spikes"]["units"]`` is "counts" for whole numbers, else "values".

    Raises
    ------
    nmfbio.errors.NMFInputError
        Bad ``samples_in``/``bin_width``/``t0``, NaN, infinite or negative values (how many
        and the first).
    nmfbio.errors.FormatError
        A malformed file (see :func:`nmfbio.io.read_matrix`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "counts.csv"
    >>> _ = p.write_text("unit,b0,b1,b2\\nu1,0,2,1\\nu2,3,0,0\\n")
    >>> ad = read_binned(p, bin_width=0.025, samples_in="columns")
    >>> ad.shape, list(ad.var_names), ad.obs["t_end"].tolist()
    ((3, 2), ['u1', 'u2'], [0.025, 0.05, 0.075])
    """
    width = check_bin_width(bin_width)
    if samples_in not in SAMPLES_IN:
        raise NMFInputError(f"samples_in must be one of {list(SAMPLES_IN)} (where the time "
                            f"bins are), got {samples_in!r}")
    t0 = _finite(t0, "t0")
    adata = read_matrix(path, samples_in=samples_in)
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    X = X.astype(np.float64)
    unit_ids = unit_ids_unique(adata.var_names, f"unit ids in {path}")
    _check_values(X, list(adata.obs_names), unit_ids, "counts", "bin",
                  "pass the counts themselves, not z-scored or centred values")
    n = X.shape[0]
    integer = bool(np.all(X == np.round(X)))
    var = adata.var.copy()
    if integer:
        n_spikes = X.sum(axis=0).astype(np.int64)
        var.insert(0, "n_spikes", n_spikes)
        var.insert(1, "rate_hz", n_spikes / (n * width))
    else:
        var.insert(0, "mean", X.mean(axis=0))
    record = {"bin_width": width, "window": [t0, window_end(t0, width, n)], "source": "binned",
              "units": "counts" if integer else "values", "window_inferred": False,
              "path": str(path)}
    out = spike_anndata(X, var, t0, width, n, uns=record)
    names = [str(s) for s in adata.obs_names]
    if names != [f"sample{k}" for k in range(n)]:  # read_matrix's default names
        out.obs["name"] = names
    return out


def from_traces(traces, frame_rate, *, unit_ids=None, t0: float = 0.0) -> anndata.AnnData:
    """Wrap non-negative calcium or deconvolved traces (frames × cells) as spike AnnData.

    Parameters
    ----------
    traces : array-like or DataFrame of shape (n_frames, n_cells)
        Non-negative activity per frame: deconvolved spike estimates, or ΔF/F clipped at 0.
        A DataFrame's columns are the cell ids.
    frame_rate : float
        Frames per second; each frame is a bin of ``1 / frame_rate`` seconds.
    unit_ids : sequence, optional
        Cell ids (default: the DataFrame's columns, else ``"0", "1", …``).
    t0 : float, default 0.0
        Time of the first frame's start in seconds.

    Returns
    -------
    anndata.AnnData
        Shape (n_frames, n_cells); ``var["mean"]``; ``uns["spikes"]["units"] = "traces"``
        and ``uns["spikes"]["frame_rate"]``.

    Raises
    ------
    nmfbio.errors.NMFInputError
        Not 2-D or not numeric, NaN/infinite or negative values (how many and the first),
        bad ``frame_rate``, wrong number of or duplicate ``unit_ids``.

    Examples
    --------
    >>> ad = from_traces([[0.0, 1.5], [2.0, 0.0], [0.5, 0.5]], 10.0, unit_ids=["c1", "c2"])
    >>> ad.shape, ad.obs["t_start"].tolist(), ad.uns["spikes"]["units"]
    ((3, 2), [0.0, 0.1, 0.2], 'traces')
    """
    rate = _finite(frame_rate, "frame_rate")
    if rate <= 0:
        raise NMFInputError(f"frame_rate must be positive (frames per second), got "
                            f"{frame_rate!r}")
    t0 = _finite(t0, "t0")
    if unit_ids is None and isinstance(traces, pd.DataFrame):
        unit_ids = list(traces.columns)
    X = np.asarray(traces)
    if X.ndim != 2:
        raise NMFInputError(f"traces must be 2-D (frames × cells), got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise NMFInputError(f"traces must be numeric, got dtype {X.dtype}")
    if 0 in X.shape:
        raise NMFInputError(f"traces are empty (shape {X.shape})")
    X = X.astype(np.float64)
    n, m = X.shape
    ids = list(range(m)) if unit_ids is None else list(unit_ids)
    if len(ids) != m:
        raise NMFInputError(f"unit_ids has {len(ids)} ids for {m} cells (traces are frames × "
                            "cells; transpose them if they are cells × frames)")
    ids = unit_ids_unique(ids, "unit ids")
    _check_values(X, list(range(n)), ids, "traces", "frame",
                  "pass deconvolved spike estimates or ΔF/F clipped at zero "
                  "(np.clip(dff, 0, None)), never z-scored or baseline-subtracted traces")
    silent = [u for u, s in zip(ids, X.sum(axis=0), strict=True) if s == 0]
    if silent:
        warn(f"{len(silent)} of {m} cells are zero in every frame and are kept as all-zero "
             f"columns: {show(silent)}", DataWarning)
    width = 1.0 / rate
    var = pd.DataFrame({"mean": X.mean(axis=0)}, index=pd.Index(ids, dtype=object))
    record = {"bin_width": width, "window": [t0, window_end(t0, width, n)], "source": "traces",
              "units": "traces", "window_inferred": False, "frame_rate": rate}
    return spike_anndata(X, var, t0, width, n, uns=record)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) \
            or not np.isfinite(value):
        raise NMFInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_values(X, rows, cols, what: str, row_word: str, advice: str) -> None:
    """NaN/infinite or negative entries of a bins × units matrix → NMFInputError."""
    for bad, kind in ((~np.isfinite(X), "NaN or infinite"), (X < 0, "negative")):
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise NMFInputError(
                f"{what} must be finite and non-negative: {int(bad.sum())} {kind} value(s), "
                f"the first at {row_word} {rows[i]!r}, unit {cols[j]!r} ({float(X[i, j])!r}); "
                f"{advice}")
