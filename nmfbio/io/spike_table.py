"""Long tables of spikes (one unit, time per line) as spike AnnData: :func:`read_spike_table`.

Format: one spike per line, a unit id column and a time column, comma- (``.csv``), tab-
(``.tsv``) or, for other names, tab-, comma- or whitespace-separated (sniffed from the first
line), optionally gzipped. The first line is a header when none of its fields is a number;
the columns are then found by name (``unit``, ``cluster``, ``neuron``, ``cell``, ``id`` …;
``time``, ``t``, ``spike_time``, ``timestamp`` …) or given with ``unit_column=`` /
``time_column=`` (a header name, or a 0-based position). Without a header a two-column file
is (unit, time). Times are in seconds, or ``time_unit="ms"``, ``"us"`` or ``"samples"``
(with ``sample_rate=``); ``window`` is always in seconds. Units are ordered numerically when
every id is an integer, else as strings.

Binning, the AnnData layout and the window rules are those of :mod:`nmfbio.io.spikes`
(which re-exports :func:`read_spike_table`). Errors: ``FileNotFoundError`` for a missing
file; :class:`~nmfbio.errors.FormatError` naming the file, line and column for an empty
file, a ragged line, an empty unit id or a time that is not a finite number;
:class:`~nmfbio.errors.NMFInputError` for bad arguments (an unknown ``time_unit`` lists the
allowed ones). A time column whose header names another unit than ``time_unit``
(``time_ms``, ``samples``) gives a :class:`~nmfbio.errors.DataWarning`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import anndata
import numpy as np
import pandas as pd

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._binning import bin_long, check_bin_width, show
from nmfbio.io._textfile import check_input_file, is_gzip, open_text
from nmfbio.io.matrix import _is_number, _records, _sep_name

__all__ = ["read_spike_table", "TIME_UNITS"]

#: Time units of :func:`read_spike_table` and their length in seconds ("samples" needs
#: ``sample_rate``).
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "samples": None}
_UNIT_NAMES = ("unit", "unit_id", "units", "unit_ids", "cluster", "cluster_id", "clusters",
               "neuron", "neuron_id", "cell", "cell_id", "id")
_TIME_NAMES = ("time", "times", "t", "spike_time", "spike_times", "spiketime", "spiketimes",
               "timestamp", "timestamps", "time_s", "times_s", "time_ms", "times_ms",
               "sample", "samples", "spike_sample", "spike_samples")
# Header names that say the time unit, to catch a time_unit= that contradicts them.
_HEADER_UNITS = {"ms": re.compile(r"(?:_|\b|\(|\[)ms[)\]]?$", re.IGNORECASE),
                 "samples": re.compile(r"samples?$", re.IGNORECASE)}


def read_spike_table(path: str | os.PathLike, bin_width, *, window=None, unit_column=None,
                     time_column=None, time_unit: str = "s", sample_rate=None,
                     smooth=None) -> anndata.AnnData:
    """Read a long table of spikes (one ``unit, time`` per line) and bin it.

    Parameters
    ----------
    path : path-like
        ``.csv``, ``.tsv`` or other text file, optionally gzipped (format in the module
        documentation).
    bin_width : float
        Bin width in seconds.
    window : (float, float), optional
        Recording window in seconds (whatever ``time_unit``).
    unit_column, time_column : str or int, optional
        The columns by header name or 0-based position; found by name when omitted.
    time_unit : {"s", "ms", "us", "samples"}, default "s"
        Unit of the time column.
    sample_rate : float, optional
        Samples per second; required with ``time_unit="samples"`` and only then.
    smooth : float, optional
        Gaussian smoothing sd in seconds, as in :func:`bin_spikes`.

    Returns
    -------
    anndata.AnnData
        Shape (n_bins, n_units), as :func:`bin_spikes`; ``uns["spikes"]["path"]``.

    Raises
    ------
    FileNotFoundError
        No such file.
    nmfbio.errors.FormatError
        Empty file, ragged line, empty unit id, non-numeric or non-finite time (file, line,
        column), columns that cannot be found.
    nmfbio.errors.NMFInputError
        Unknown ``time_unit``, missing or superfluous ``sample_rate``, a named column not in
        the header, and the binning errors of :func:`bin_spikes`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "spikes.csv"
    >>> _ = p.write_text("unit,time\\n3,120\\n1,40\\n3,260\\n")
    >>> ad = read_spike_table(p, 0.1, window=(0, 0.3), time_unit="ms")
    >>> list(ad.var_names), ad.X.T.tolist()
    (['1', '3'], [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    """
    scale = _time_scale(time_unit, sample_rate)
    check_bin_width(bin_width)
    path = check_input_file(path, "a spike table (one unit, time per line)")
    sep, header, first_line, n_fields = _table_layout(path)
    ucol, tcol = _table_columns(path, header, n_fields, unit_column, time_column)
    label = (lambda j: header[j]) if header else (lambda j: j + 1)
    if header:
        _check_header_unit(path, header[tcol], time_unit)
    codes, names, times = _read_columns(path, sep, header, first_line, n_fields, ucol, tcol,
                                        label, time_unit)
    unit_ids = _order_units(set(names))
    position = {u: k for k, u in enumerate(unit_ids)}
    unit_index = np.array([position[u] for u in names], dtype=np.intp)[codes]
    times = times * scale if scale is not None else times / float(sample_rate)
    return bin_long(times, unit_index, unit_ids, bin_width, window, smooth=smooth,
                    source="table", uns={"path": str(path), "time_unit": time_unit})


def _time_scale(time_unit, sample_rate):
    if time_unit not in TIME_UNITS:
        raise NMFInputError(f"time_unit must be one of {list(TIME_UNITS)}, got {time_unit!r}")
    if time_unit == "samples":
        if sample_rate is None:
            raise NMFInputError("time_unit='samples' needs sample_rate= (samples per second)")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float | np.number) \
                or not np.isfinite(sample_rate) or sample_rate <= 0:
            raise NMFInputError(f"sample_rate must be a positive number of samples per "
                                f"second, got {sample_rate!r}")
    elif sample_rate is not None:
        raise NMFInputError(f"sample_rate applies only to time_unit='samples', not "
                            f"{time_unit!r}")
    return TIME_UNITS[time_unit]


def _check_header_unit(path, name: str, time_unit: str) -> None:
    for unit, pattern in _HEADER_UNITS.items():
        if unit != time_unit and pattern.search(name):
            warn(f"{path}: the time column {name!r} looks like {unit}, but time_unit="
                 f"{time_unit!r}; pass time_unit={unit!r} if it is", DataWarning)


def _table_layout(path: Path):
    """Delimiter, header names (None if none), first line number, fields per line."""
    name = path.name.lower().removesuffix(".gz").removesuffix(".bgz")
    sep = "," if name.endswith(".csv") else "\t" if name.endswith((".tsv", ".tab")) else ""
    try:
        with open_text(path) as f:
            if sep == "":
                first = next((line for line in f if line.strip()), "")
                sep = "\t" if "\t" in first else "," if "," in first else None
                f.seek(0)
            head = next(_records(f, sep), None)
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable UTF-8 text file ({exc})", path) from None
    if head is None:
        raise FormatError("the file holds only blank lines; expected one unit, time per "
                          "line", path)
    line, fields = head
    fields = [s.strip() for s in fields]
    if len(fields) < 2:
        raise FormatError(f"expected at least two fields (unit, time) separated by "
                          f"{_sep_name(sep)}, found {len(fields)}", path, line)
    header = None if any(_is_number(s) for s in fields) else fields
    return sep, header, line, len(fields)


def _table_columns(path, header, n_fields, unit_column, time_column):
    """0-based positions of the unit and time columns."""
    def resolve(given, known, what):
        if given is None:
            if header is not None:
                lower = [h.lower() for h in header]
                for name in known:
                    if name in lower:
                        return lower.index(name)
            if n_fields == 2:
                return 0 if what == "unit" else 1
            raise FormatError(
                f"cannot tell which column holds the {what}s ({n_fields} columns"
                + (f": {show(header, 10)}" if header else ", no header")
                + f"); pass {what}_column= (a header name or a 0-based position)", path)
        if isinstance(given, bool) or not isinstance(given, str | int):
            raise NMFInputError(f"{what}_column must be a header name or a 0-based position, "
                                f"got {given!r}")
        if isinstance(given, str):
            if header is None:
                raise NMFInputError(f"{what}_column={given!r} names a column, but {path} has "
                                    "no header line; pass a 0-based position")
            if given not in header:
                raise NMFInputError(f"{what}_column={given!r} is not in the header of {path}; "
                                    f"columns: {show(header, 10)}")
            return header.index(given)
        if not 0 <= given < n_fields:
            raise NMFInputError(f"{what}_column={given} is out of range for {path}, which has "
                                f"{n_fields} columns (positions 0 to {n_fields - 1})")
        return given

    ucol = resolve(unit_column, _UNIT_NAMES, "unit")
    tcol = resolve(time_column, _TIME_NAMES, "time")
    if ucol == tcol:
        raise NMFInputError(f"the unit and time columns are the same column ({ucol}) in {path}")
    return ucol, tcol


def _read_columns(path, sep, header, first_line, n_fields, ucol, tcol, label, time_unit):
    """Each spike's code into the unit names, the (stripped) unit names, and the times."""
    columns = list(range(n_fields))
    dtype = dict.fromkeys(columns, str)
    dtype[tcol] = np.float64
    problem = None
    try:
        df = pd.read_csv(path, sep=sep if sep is not None else r"\s+", header=None,
                         names=columns, skiprows=first_line if header else 0, dtype=dtype,
                         na_filter=False, skip_blank_lines=True, encoding="utf-8-sig",
                         compression="gzip" if is_gzip(path) else None, engine="c")
        codes, uniques = pd.factorize(df[ucol])  # strip the few distinct ids, not every line
        names = [str(u).strip() for u in uniques]
        times = df[tcol].to_numpy(dtype=np.float64)
        if not np.isfinite(times).all() or "" in names:
            problem = "a bad cell"
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        problem = str(exc)
    if problem is not None:
        _locate_problem(path, sep, header, first_line, n_fields, ucol, tcol, label, time_unit)
        raise FormatError(f"could not read the file as a spike table ({problem})", path)
    if times.size == 0:
        raise FormatError("a header line but no spike lines", path, first_line)
    return codes, names, times


def _locate_problem(path, sep, header, first_line, n_fields, ucol, tcol, label, time_unit):
    """Scan the table line by line; raise a FormatError at the first bad line or cell."""
    with open_text(path) as f:
        for line, fields in _records(f, sep):
            if header is not None and line <= first_line:
                continue
            if len(fields) != n_fields:
                raise FormatError(f"expected {n_fields} fields separated by {_sep_name(sep)} "
                                  f"like line {first_line}, found {len(fields)}", path, line)
            if not fields[ucol].strip():
                raise FormatError("empty unit id", path, line, label(ucol))
            value = fields[tcol].strip()
            if not _is_number(value):
                raise FormatError(f"{value!r} is not a number; spike times must be numeric "
                                  f"(in {time_unit})", path, line, label(tcol))
            if not np.isfinite(float(value)):
                raise FormatError(f"spike time {value!r} is not a finite number", path, line,
                                  label(tcol))


def _order_units(ids) -> list[str]:
    ids = [str(u) for u in ids]
    if all(re.fullmatch(r"[+-]?\d+", u) for u in ids):
        return sorted(ids, key=lambda u: (int(u), u))
    return sorted(ids)
