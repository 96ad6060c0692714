"""Spike data of any supported format by name: which format a file or folder is
(:func:`spike_format`) and reading it as spike AnnData, bins × units (:func:`read_spikes`).

The formats themselves are read by their own adapters (:mod:`~nmfbio.io.phy`,
:mod:`~nmfbio.io.nwb`, :mod:`~nmfbio.io.spike_table`, :mod:`~nmfbio.io.spikes`); this module
only chooses one, and keeps the bins of already-binned data that lie inside a window. It is
what ``nmfbio assemblies detect`` and the workflow's assemblies step read with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._textfile import open_text
from nmfbio.io.spike_table import _TIME_NAMES, _UNIT_NAMES

__all__ = ["FORMATS", "spike_format", "read_spikes"]

#: the spike formats, by the name ``format=`` (and ``--format``) takes, and what each reads
FORMATS = {
    "phy": "a Phy/Kilosort folder (spike_times.npy in samples, params.py with sample_rate, "
           "spike_clusters.npy, cluster_group.tsv / cluster_KSLabel.tsv)",
    "nwb": "an NWB file (.nwb) with a Units table (needs pynwb)",
    "spikes-table": "a long CSV/TSV of spikes, one 'unit, time' per line (optionally with a "
                    "header naming the columns; .gz allowed)",
    "binned": "a pre-binned count matrix (.csv/.tsv/.txt with a header and row names, .npy, "
              ".npz, .mtx); --bins-in says whether the bins are the rows or the columns",
    "h5ad": "an .h5ad of binned counts, bins × units (obs = bins, var = units), as the "
            "nmfbio.io spike readers write it",
}


def _formats_listed() -> str:
    return "; ".join(f"{name}: {text}" for name, text in FORMATS.items())


def _text_table_is_long(path: Path) -> bool:
    """Whether a text file looks like a spike table: two columns, or a header naming a unit
    column and a time column. An empty file counts as one (an empty spike table, which its
    reader then refuses with its own message)."""
    try:
        with open_text(path, errors="replace") as f:
            line = next((raw.strip() for raw in f if raw.strip()), None)
    except OSError:
        return False
    if line is None:
        return True
    sep = "\t" if "\t" in line else "," if "," in line else None
    fields = [x.strip().strip('"').lower() for x in line.split(sep)]
    if len(fields) == 2:
        return True
    return bool(set(fields) & set(_UNIT_NAMES)) and bool(set(fields) & set(_TIME_NAMES))


def spike_format(path) -> str:
    """The format ``format="auto"`` picks for ``path``: a folder with spike_times.npy or
    params.py is ``phy``; ``.nwb`` → ``nwb``; ``.h5ad`` → ``h5ad``; ``.csv``/``.tsv``/``.txt``
    with two columns or a header naming a unit and a time column → ``spikes-table``; other
    text and ``.npy``/``.npz``/``.mtx`` → ``binned``.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    FileNotFoundError
        No such file or folder.
    nmfbio.errors.FormatError
        A folder that is not a Phy folder, or a file name that says nothing (the message
        lists the formats).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "spikes.csv"
    >>> _ = p.write_text("unit,time\\n1,0.5\\n")
    >>> spike_format(p)
    'spikes-table'
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        if (path / "spike_times.npy").is_file() or (path / "params.py").is_file():
            return "phy"
        raise FormatError(
            "cannot tell the input format: this folder holds neither spike_times.npy nor "
            f"params.py, so it is not a Phy/Kilosort folder. Accepted inputs: "
            f"{_formats_listed()}", path)
    base = path.name.lower().removesuffix(".gz")
    if base.endswith(".nwb"):
        return "nwb"
    if base.endswith(".h5ad"):
        return "h5ad"
    if base.endswith((".csv", ".tsv", ".txt")):
        return "spikes-table" if _text_table_is_long(path) else "binned"
    if base.endswith((".npy", ".npz", ".mtx")):
        return "binned"
    raise FormatError(f"cannot tell the input format from the file name; pass --format. "
                      f"Accepted inputs: {_formats_listed()}", path)


def _bins_in_window(adata, window, width):
    """The bins of a binned AnnData that lie inside ``window`` (seconds)."""
    start, end = window
    if "t_start" in adata.obs:
        t0 = adata.obs["t_start"].to_numpy(dtype=float)
    else:
        t0 = np.arange(adata.n_obs) * width
    t1 = adata.obs["t_end"].to_numpy(dtype=float) if "t_end" in adata.obs else t0 + width
    eps = 1e-9 * width
    keep = (t0 >= start - eps) & (t1 <= end + eps)
    if not keep.any():
        raise NMFInputError(f"no bin lies inside --window {start:g} {end:g}: the binned data "
                            f"cover {t0[0]:g}-{t1[-1]:g} s in bins of {width:g} s")
    return adata[keep].copy()


def read_spikes(path, bin_width=None, *, format="auto", window=None, include=None,
                time_unit=None, sample_rate=None, bins_in=None):
    """Read spike data of any supported format as AnnData (bins × units).

    Parameters
    ----------
    path : path-like
        A file or folder in one of :data:`FORMATS`.
    bin_width : float, optional
        Seconds per bin; needed for every format but ``h5ad``.
    format : str, default "auto"
        One of :data:`FORMATS`, or ``"auto"`` (:func:`spike_format`).
    window : (float, float), optional
        Recording window in seconds; for binned input, the bins inside it are kept.
    include, time_unit, sample_rate, bins_in
        Passed to the format's reader: ``include`` (phy, default ``"good"``), ``time_unit``
        (spikes-table, default ``"s"``), ``sample_rate`` (spikes-table with
        ``time_unit="samples"``), ``bins_in`` (binned: ``"rows"`` or ``"columns"``).

    Returns
    -------
    anndata.AnnData
        Bins × units counts, as the spike readers write them.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "spikes.csv"
    >>> _ = p.write_text("unit,time\\na,0.01\\na,0.5\\nb,0.7\\n")
    >>> read_spikes(p, 0.25, window=(0, 1)).shape
    (4, 2)
    """
    from nmfbio.io.matrix import read_h5ad_file
    from nmfbio.io.nwb import read_nwb
    from nmfbio.io.phy import read_phy
    from nmfbio.io.spike_table import read_spike_table
    from nmfbio.io.spikes import read_binned

    fmt = spike_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise NMFInputError(f"format must be 'auto' or one of {sorted(FORMATS)}, got {fmt!r}")
    if fmt == "phy":
        return read_phy(path, bin_width, window=window, include=include or "good")
    if fmt == "nwb":
        return read_nwb(path, bin_width, window=window)
    if fmt == "spikes-table":
        return read_spike_table(path, bin_width, window=window, time_unit=time_unit or "s",
                                sample_rate=sample_rate)
    if fmt == "binned":
        adata = read_binned(path, bin_width=bin_width, samples_in=bins_in)
    else:
        adata = read_h5ad_file(path)
    if window is not None:
        width = adata.uns.get("spikes", {}).get("bin_width", bin_width)
        if width is None:
            raise NMFInputError("--window on an .h5ad that records no bin width needs "
                                "--bin-width")
        adata = _bins_in_window(adata, window, float(width))
    return adata
