"""Neurodata Without Borders (NWB) files as spike AnnData: :func:`read_nwb`.

Reads the file's Units table (``nwbfile.units``, as written by ``NWBFile.add_unit``,
SpikeInterface or NeuroConv) with pynwb, an optional dependency imported only when a file is
read (``pip install 'nmfbio[nwb]'``). Each row is a unit: its ``spike_times`` (seconds,
relative to the session's ``timestamps_reference_time``) are binned, the table's ``id``
column gives the ``var_names``, and every other column holding one scalar per unit
(numbers, booleans, strings such as ``quality``, ``location``, ``depth``) is carried into
``var``. Ragged (``obs_intervals``, ``waveforms``), multi-dimensional (``waveform_mean``) and
reference (``electrodes``) columns are not.

The recording window, unless ``window=`` is given, is taken from the file, first found of:
the selected units' ``obs_intervals`` (earliest start to latest end), then the file's time
interval tables (``epochs``, ``trials`` and other ``intervals``; ``invalid_times`` is not
one), each again from earliest start to latest stop; otherwise it runs from 0 to the last
spike with a :class:`~nmfbio.errors.DataWarning`. ``uns["spikes"]["window_from"]`` says
which. Binning, the AnnData layout and the window rules are those of
:mod:`nmfbio.io.spikes`.

Errors: ``ImportError`` naming the install command when pynwb is missing;
``FileNotFoundError`` for a missing file; :class:`~nmfbio.errors.FormatError` for a file
pynwb cannot read or one without a Units table or without ``spike_times``;
:class:`~nmfbio.errors.NMFInputError` for ``units=`` naming ids the table does not hold.
"""

from __future__ import annotations

import os

import anndata
import numpy as np
import pandas as pd

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._binning import bin_long, check_bin_width, check_window, show
from nmfbio.io._textfile import check_input_file

__all__ = ["read_nwb"]

_INSTALL = "pip install 'nmfbio[nwb]'"


def _pynwb():
    try:
        import pynwb
    except ImportError as exc:
        raise ImportError(f"reading NWB files needs pynwb, which is not installed: "
                          f"{_INSTALL} (or pip install pynwb)") from exc
    return pynwb


def read_nwb(path: str | os.PathLike, bin_width, *, window=None, units=None,
             smooth=None) -> anndata.AnnData:
    """Read the Units table of an NWB file and bin its spike times.

    Parameters
    ----------
    path : path-like
        An NWB (HDF5) file with a Units table.
    bin_width : float
        Bin width in seconds.
    window : (float, float), optional
        Recording window in seconds; default from the file (see the module documentation).
    units : sequence, optional
        Ids of the units to keep, in this order (default: every unit, in table order).
        Matched as strings, so ``[3, 7]`` and ``["3", "7"]`` are the same.
    smooth : float, optional
        Gaussian smoothing sd in seconds, as in :func:`nmfbio.io.bin_spikes`.

    Returns
    -------
    anndata.AnnData
        Shape (n_bins, n_units); ``var_names`` are the Units table's ids, ``var`` has
        ``n_spikes``, ``rate_hz`` and the table's scalar columns; ``uns["spikes"]`` adds
        ``path`` and ``window_from``.

    Raises
    ------
    ImportError
        pynwb is not installed.
    FileNotFoundError
        No such file.
    nmfbio.errors.FormatError
        Not a readable NWB file, no Units table, or no ``spike_times`` column.
    nmfbio.errors.NMFInputError
        ``units`` not in the table, and the binning errors of :func:`nmfbio.io.bin_spikes`.

    Examples
    --------
    With an NWB file of your own (``tests/io/test_spikes.py`` writes one with pynwb)::

        ad = read_nwb("session.nwb", 0.025)
        ad.var[["n_spikes", "quality"]]
    """
    check_bin_width(bin_width)
    window = check_window(window)
    pynwb = _pynwb()
    path = check_input_file(path, "an NWB file")
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r", load_namespaces=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"not a readable NWB file ({type(exc).__name__}: {exc})",
                          path) from None
    with io:
        try:
            nwbfile = io.read()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FormatError(f"not a readable NWB file ({type(exc).__name__}: {exc})",
                              path) from None
        table = nwbfile.units
        if table is None or len(table) == 0:
            raise FormatError("the file has no units (nwbfile.units is empty or missing); "
                              "spike-sorted units are needed", path)
        if "spike_times" not in table.colnames:
            raise FormatError("the Units table has no spike_times column", path)
        ids = [str(i) for i in table.id.data[:]]
        rows = _select(ids, units, path)
        times, unit_index = _spike_times(table, rows)
        var = _scalar_columns(table, rows, ids)
        window_from = None
        if window is None:
            window, window_from = _file_window(nwbfile, table, rows)
    return bin_long(times, unit_index, [ids[r] for r in rows], bin_width, window,
                    smooth=smooth, source="nwb", window_from=window_from, var=var,
                    uns={"path": str(path)})


def _select(ids: list[str], units, path) -> list[int]:
    """Row positions of the requested units (all rows by default)."""
    if units is None:
        return list(range(len(ids)))
    wanted = [str(u) for u in units]
    where = {u: k for k, u in enumerate(ids)}
    unknown = [u for u in wanted if u not in where]
    if unknown:
        raise NMFInputError(f"units {show(unknown)} are not in the Units table of {path}; "
                            f"its ids are {show(ids, 10)}")
    if len(set(wanted)) != len(wanted):
        raise NMFInputError(f"units lists some ids more than once: {show(wanted, 10)}")
    if not wanted:
        raise NMFInputError("units is empty; pass None for every unit")
    return [where[u] for u in wanted]


def _ragged(table, name: str, rows: list[int]):
    """The flat values and the per-row slices of a ragged column, for the given rows."""
    index = table[f"{name}_index"]
    ends = np.asarray(index.data[:], dtype=np.int64)
    starts = np.concatenate([[0], ends[:-1]])
    data = np.asarray(index.target.data[:])
    return data, [(int(starts[r]), int(ends[r])) for r in rows]


def _spike_times(table, rows):
    data, spans = _ragged(table, "spike_times", rows)
    data = np.asarray(data, dtype=np.float64)
    times = np.concatenate([data[a:b] for a, b in spans]) if spans else np.empty(0)
    unit_index = np.repeat(np.arange(len(rows)), [b - a for a, b in spans])
    return times, unit_index


def _scalar_columns(table, rows, ids) -> pd.DataFrame:
    """The Units table's columns that hold one scalar per unit, for the selected rows."""
    import hdmf.common

    ragged = {c.target.name for c in table.columns if isinstance(c, hdmf.common.VectorIndex)}
    out = {}
    for column in table.columns:
        if isinstance(column, hdmf.common.VectorIndex | hdmf.common.DynamicTableRegion) \
                or column.name in ragged or column.name == "spike_times":
            continue
        values = np.asarray(column.data[:])
        if values.ndim != 1 or values.shape[0] != len(ids):
            continue
        values = values[rows]
        if values.dtype.kind == "S":
            values = values.astype(str)
        elif values.dtype.kind == "O":
            if not all(isinstance(v, str | bytes) for v in values):
                continue
            values = np.array([v.decode() if isinstance(v, bytes) else v for v in values])
        if values.dtype.kind not in "biufU":
            continue
        out[column.name] = (pd.Categorical(values) if values.dtype.kind == "U" else values)
    return pd.DataFrame(out, index=pd.Index([ids[r] for r in rows], dtype=object))


def _file_window(nwbfile, table, rows):
    """``(window, window_from)`` read from the file, or ``(None, None)``."""
    if "obs_intervals" in table.colnames:
        data, spans = _ragged(table, "obs_intervals", rows)
        data = np.asarray(data, dtype=np.float64).reshape(-1, 2)
        chosen = np.concatenate([data[a:b] for a, b in spans]) if spans else data[:0]
        if chosen.size:
            return (float(chosen[:, 0].min()), float(chosen[:, 1].max())), "obs_intervals"
    starts, stops, names = [], [], []
    for name, intervals in (nwbfile.intervals or {}).items():
        if name == "invalid_times" or len(intervals) == 0:
            continue
        if not {"start_time", "stop_time"} <= set(intervals.colnames):
            continue
        starts.append(float(np.min(intervals["start_time"].data[:])))
        stops.append(float(np.max(intervals["stop_time"].data[:])))
        names.append(name)
    if names and max(stops) > min(starts):
        return (min(starts), max(stops)), "intervals: " + ", ".join(names)
    return None, None
