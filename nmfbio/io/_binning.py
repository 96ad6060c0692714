"""The binning core shared by every spike adapter: spike times → a bins × units AnnData.

Each reader in :mod:`nmfbio.io.spikes`, :mod:`nmfbio.io.phy` and :mod:`nmfbio.io.nwb`
turns its source into one flat array of spike times (seconds) with the index of each
spike's unit, and calls :func:`bin_long` here, so that the window rules, the warnings and
the layout of the AnnData (documented in :mod:`nmfbio.io.spikes`) are spelled in one place.
:func:`spike_anndata` builds the same layout from an already binned matrix (pre-binned
counts, calcium traces). File parsing lives in the readers, not here.
"""

from __future__ import annotations

import logging
import math
from numbers import Real

import anndata
import numpy as np
import pandas as pd

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, NMFInputError

__all__ = ["EDGE_TOL", "UNS_KEY", "bin_long", "window_end", "check_bin_width", "check_window",
           "spike_anndata", "show", "unit_ids_unique"]

log = logging.getLogger(__name__)

#: Key of the binning record in ``adata.uns``.
UNS_KEY = "spikes"
#: Spike times within this fraction of a bin width below a bin edge count as on the edge, so
#: that a spike written as 0.3 s lands in the bin [0.3, 0.4) although 0.3 / 0.1 < 3 in
#: floating point (25 ns at 25 ms bins, far below any recording's sampling interval).
EDGE_TOL = 1e-6
_SHOW = 5
_DECIMALS = 12  # bin edges are rounded to picoseconds (see spike_anndata)


def show(items, n: int = _SHOW) -> str:
    """The first ``n`` items as ``'a', 'b', … (12 in all)``."""
    items = list(items)
    head = ", ".join(repr(x) for x in items[:n])
    return head if len(items) <= n else f"{head}, … ({len(items)} in all)"


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | np.number):
        raise NMFInputError(f"{name} must be a number (seconds), got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise NMFInputError(f"{name} must be finite, got {value!r}")
    return value


def check_bin_width(bin_width) -> float:
    """``bin_width`` as a positive float (seconds), else :class:`NMFInputError`."""
    width = _number(bin_width, "bin_width")
    if width <= 0:
        raise NMFInputError(f"bin_width must be a positive number of seconds, got {bin_width!r}")
    return width


def check_window(window) -> tuple[float, float] | None:
    """``window`` as ``(t0, t1)`` floats with ``t1 > t0``, or None."""
    if window is None:
        return None
    try:
        t0, t1 = window
    except (TypeError, ValueError):
        raise NMFInputError(f"window must be a pair (t0, t1) in seconds, got {window!r}") from None
    t0, t1 = _number(t0, "window start"), _number(t1, "window end")
    if t1 <= t0:
        raise NMFInputError(f"window must end after it starts, got ({t0:g}, {t1:g}) s")
    return t0, t1


def check_smooth(smooth) -> float | None:
    """``smooth`` (Gaussian kernel sd, seconds) as a positive float, or None."""
    if smooth is None:
        return None
    sd = _number(smooth, "smooth")
    if sd <= 0:
        raise NMFInputError(f"smooth is the Gaussian kernel's sd in seconds and must be "
                            f"positive, got {smooth!r} (pass None for no smoothing)")
    return sd


def _check_finite(times, unit_index, unit_ids):
    bad = ~np.isfinite(times)
    if bad.any():
        first = int(np.argmax(bad))
        u = unit_index[first]
        k = int(np.count_nonzero(unit_index[:first] == u))
        raise NMFInputError(
            f"{int(bad.sum())} spike time(s) are NaN or infinite (first: unit "
            f"{unit_ids[u]!r}, spike {k}); remove them before binning")


def _resolve_window(times, width, window):
    """``(t0, t1, n_bins, inferred)``; an inferred window runs from 0 to the last spike."""
    if window is not None:
        t0, t1 = window
        n = math.floor((t1 - t0) / width + EDGE_TOL)
        if n < 1:
            raise NMFInputError(f"bin_width={width:g} s is longer than the window "
                                f"[{t0:g}, {t1:g}] ({t1 - t0:g} s); use a shorter bin_width "
                                "or a longer window")
        return t0, t1, n, False
    if times.size == 0:
        raise NMFInputError("there are no spikes to infer the recording window from; pass "
                            "window=(t0, t1), the recording's start and end in seconds")
    last = float(times.max())
    if last <= 0:
        raise NMFInputError(f"every spike is at or before 0 s (last at {last:g} s), so no "
                            "window can be inferred; pass window=(t0, t1) in seconds")
    if width > last * (1 + EDGE_TOL):
        raise NMFInputError(f"bin_width={width:g} s is longer than the spikes' span (the last "
                            f"spike is at {last:g} s), so the inferred window would be one "
                            "bin; use a shorter bin_width (e.g. 0.025 s), or pass "
                            "window=(t0, t1) if the recording really is longer")
    n = max(1, math.ceil(last / width - EDGE_TOL))
    t1 = round(n * width, _DECIMALS)
    warn(f"the window was inferred: binned from 0 s to the last spike at {last:g} s "
         f"(rounded up to a whole bin, {t1:g} s); pass window=(t0, t1), the recording's "
         "start and end, so that silent time at the end of the recording is kept",
         DataWarning)
    return 0.0, t1, n, True


def bin_long(times, unit_index, unit_ids, bin_width, window, *, smooth=None,
             source: str, window_from: str | None = None, var: pd.DataFrame | None = None,
             uns: dict | None = None) -> anndata.AnnData:
    """Bin spikes given as one flat array of times with the index of each spike's unit.

    Parameters
    ----------
    times : ndarray of shape (n_spikes,)
        Spike times in seconds, in any order.
    unit_index : ndarray of int, shape (n_spikes,)
        Each spike's unit, an index into ``unit_ids``.
    unit_ids : list of str
        Unique unit ids, the ``var_names``.
    bin_width : float
        Seconds (validated here).
    window : (float, float) or None
        Recording window in seconds (validated here); None infers (0, last spike) with a
        :class:`DataWarning`.
    smooth : float, optional
        Sd in seconds of a Gaussian kernel applied along time to each unit's counts.
    source : str
        ``uns["spikes"]["source"]``.
    window_from : str, optional
        Where a reader took ``window`` from (recorded in ``uns``); None for a user's window.
    var : DataFrame, optional
        Unit metadata indexed by ``unit_ids``, added after ``n_spikes`` and ``rate_hz``.
    uns : dict, optional
        Extra entries for ``uns["spikes"]``.

    Returns
    -------
    anndata.AnnData
        Shape (n_bins, n_units), laid out as documented in :mod:`nmfbio.io.spikes`.
    """
    width = check_bin_width(bin_width)
    window = check_window(window)
    sd = check_smooth(smooth)
    times = np.asarray(times, dtype=np.float64).ravel()
    unit_index = np.asarray(unit_index, dtype=np.intp).ravel()
    n_units = len(unit_ids)
    _check_finite(times, unit_index, unit_ids)
    t0, t1, n, inferred = _resolve_window(times, width, window)
    span = (t1 - t0) / width  # in bins; > n when the last bin would be partial
    partial = span - n > EDGE_TOL
    t_end = window_end(t0, width, n) if partial else t1

    q = (times - t0) / width
    before = q < -EDGE_TOL
    after = q > span + EDGE_TOL
    tail = (q > n + EDGE_TOL) & ~after if partial else np.zeros_like(before)
    keep = ~(before | after | tail)
    _report_dropped(before, after, tail, unit_index, unit_ids, t0, t1, t_end, width, partial)

    idx = np.clip(np.floor(q[keep] + EDGE_TOL).astype(np.intp), 0, n - 1)
    flat = np.bincount(idx * n_units + unit_index[keep], minlength=n * n_units)
    counts = flat.reshape(n, n_units).astype(np.float64)

    record = {"bin_width": width, "window": [t0, t_end], "source": source,
              "units": "counts", "window_inferred": inferred}
    if window_from is not None:
        record["window_from"] = window_from
    if partial:
        record["requested_window"] = [t0, t1]
    layers = None
    if sd is not None:
        from scipy.ndimage import gaussian_filter1d

        layers = {"counts": counts}
        counts = gaussian_filter1d(counts, sigma=sd / width, axis=0, mode="reflect")
        np.maximum(counts, 0.0, out=counts)  # round-off only: the kernel is non-negative
        record.update(units="smoothed counts", smooth_sd=sd)
    record.update(uns or {})

    n_spikes = (layers["counts"] if layers else counts).sum(axis=0).astype(np.int64)
    frame = pd.DataFrame({"n_spikes": n_spikes, "rate_hz": n_spikes / (n * width)},
                         index=pd.Index(list(unit_ids), dtype=object))
    if var is not None:
        extra = var.drop(columns=[c for c in var.columns if c in frame.columns])
        frame = frame.join(extra)
    silent = [u for u, k in zip(unit_ids, n_spikes, strict=True) if k == 0]
    if silent:
        warn(f"{len(silent)} of {n_units} units have no spikes in the window and are kept as "
             f"all-zero columns: {show(silent)}; drop them with "
             "adata[:, adata.var['n_spikes'] > 0]", DataWarning)
    return spike_anndata(counts, frame, t0, width, n, t_end=t_end, uns=record, layers=layers)


def _report_dropped(before, after, tail, unit_index, unit_ids, t0, t1, t_end, width, partial):
    n_out = int(before.sum() + after.sum())
    total = before.size
    if n_out:
        units = [unit_ids[u] for u in np.unique(unit_index[before | after])]
        warn(f"{n_out} of {total} spikes fall outside the window [{t0:g}, {t1:g}] s and were "
             f"dropped ({int(before.sum())} before, {int(after.sum())} after; units "
             f"{show(units)})", DataWarning)
    if not partial:
        return
    n_tail = int(tail.sum())
    message = (f"the window's length ({t1 - t0:g} s) is not a whole number of bins of "
               f"{width:g} s: the last, partial bin [{t_end:g}, {t1:g}] s was dropped")
    if n_tail:
        warn(f"{message} with its {n_tail} spike(s); pass a window whose length is a multiple "
             "of bin_width to keep them", DataWarning)
    else:
        log.info("%s (it held no spikes)", message)


def window_end(t0: float, width: float, n: int) -> float:
    """End of ``n`` bins of ``width`` from ``t0``, rounded like the bin edges."""
    return round(t0 + n * width, _DECIMALS)


def spike_anndata(X, var: pd.DataFrame, t0: float, width: float, n: int, *,
                  t_end: float | None = None, uns: dict,
                  layers: dict | None = None) -> anndata.AnnData:
    """An AnnData of shape (n_bins, n_units) with the spike adapters' obs/var/uns layout.

    ``X`` (dense, float64) is bins × units; ``var`` is indexed by the unit ids; bin ``k`` is
    ``[t0 + k·width, t0 + (k+1)·width)``, the last one ending at ``t_end`` when given.
    """
    # edges rounded to 1e-12 s so that 3 × 0.025 reads 0.075, as written
    t_start = np.round(t0 + width * np.arange(n, dtype=np.float64), _DECIMALS)
    t_stop = np.round(t_start + width, _DECIMALS)
    if t_end is not None and n:
        t_stop[-1] = t_end
    obs = pd.DataFrame({"t_start": t_start, "t_end": t_stop},
                       index=pd.Index([f"bin{k}" for k in range(n)], dtype=object))
    var = var.copy()
    var.index = pd.Index([str(u) for u in var.index], dtype=object)
    adata = anndata.AnnData(X=np.ascontiguousarray(X, dtype=np.float64), obs=obs, var=var,
                            uns={UNS_KEY: uns})
    for key, value in (layers or {}).items():
        adata.layers[key] = value
    return adata


def unit_ids_unique(ids, what: str) -> list[str]:
    """``ids`` as strings, raising :class:`NMFInputError` when two are the same string."""
    names = [str(u) for u in ids]
    seen, dup = set(), []
    for name in names:
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    if dup:
        raise NMFInputError(f"{what} must be unique (as strings), but {show(dup)} occur more "
                            "than once")
    return names
