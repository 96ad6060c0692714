"""Phy / Kilosort output folders as spike AnnData: :func:`read_phy`.

A Phy folder (written by Kilosort 1–4, SpikeInterface's ``export_to_phy`` and curated in
Phy) holds, among other files:

``params.py``
    Python assignments such as ``sample_rate = 30000.0``, ``dat_path = 'rec.bin'``,
    ``n_channels_dat = 384``, ``dtype = 'int16'``, ``offset = 0``. Required (for
    ``sample_rate``). It is parsed, never executed: each top-level ``name = literal`` is
    read with :func:`ast.literal_eval`; anything else is ignored.
``spike_times.npy``
    Each spike's time in **samples** (integers; shape (n_spikes,) or (n_spikes, 1)).
``spike_clusters.npy``
    Each spike's cluster id after curation; when absent, ``spike_templates.npy`` (the
    template each spike was sorted into) is used instead, and ``uns["spikes"]["clusters"]``
    says so.
``cluster_group.tsv``, ``cluster_KSLabel.tsv``, other ``cluster_*.tsv``, ``cluster_info.tsv``
    Per-cluster tables with a ``cluster_id`` (or ``id``) column: Phy's curated ``group``
    (good / mua / noise / unsorted), Kilosort's automatic ``KSLabel`` (good / mua), and any
    other metrics (``ContamPct``, ``Amplitude``, Phy's ``ch``, ``depth`` …), all carried
    into ``var``. Older Phy's ``cluster_groups.csv`` (tab-separated) is read like
    ``cluster_group.tsv``.

Each cluster's label (``var["label"]``) is its Phy ``group`` where curated, else its
``KSLabel``: the curator's word wins. ``include="good"`` (default) keeps the clusters
labelled good, ``include="all"`` every cluster that has spikes, and a list of labels those
labels (case-insensitive). Rows of the label tables for clusters that have no spikes (Phy
keeps rows of merged-away clusters) are ignored.

The recording window defaults to ``(0, n_samples / sample_rate)`` when the raw data file
named by ``dat_path`` is found (relative to the folder or absolute), its length being
``(file size − offset) / (n_channels_dat × itemsize of dtype)``; otherwise it runs from 0 to
the last spike with a :class:`~nmfbio.errors.DataWarning` (pass ``window=``). Binning, the
AnnData layout and the window rules are those of :mod:`nmfbio.io.spikes`.

Errors: a missing folder, ``params.py``, ``spike_times.npy`` or both cluster files is a
``FileNotFoundError`` naming the file; a ``params.py`` without a usable ``sample_rate``, an
unreadable ``.npy``, spike times and clusters of different lengths, or a malformed cluster
table is a :class:`~nmfbio.errors.FormatError` naming the file (and line).
"""

from __future__ import annotations

import ast
import logging
import os
from pathlib import Path

import anndata
import numpy as np
import pandas as pd

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._binning import bin_long, check_bin_width

__all__ = ["read_phy", "read_params"]

log = logging.getLogger(__name__)

_GROUP_FILES = ("cluster_group.tsv", "cluster_groups.csv")
_KSLABEL_FILE = "cluster_KSLabel.tsv"
_INFO_FILE = "cluster_info.tsv"


def read_phy(folder: str | os.PathLike, bin_width, *, window=None, include="good",
             smooth=None) -> anndata.AnnData:
    """Read a Phy/Kilosort folder and bin the spikes of the selected clusters.

    Parameters
    ----------
    folder : path-like
        The Phy folder (the one holding ``params.py``).
    bin_width : float
        Bin width in seconds.
    window : (float, float), optional
        Recording window in seconds; default from the raw data file (see the module
        documentation), else 0 s to the last spike with a ``DataWarning``.
    include : "good", "all", str or list of str, default "good"
        Which clusters become units: those labelled good, every cluster, or those whose
        label is one of the given labels (e.g. ``["good", "mua"]``).
    smooth : float, optional
        Gaussian smoothing sd in seconds, as in :func:`nmfbio.io.bin_spikes`.

    Returns
    -------
    anndata.AnnData
        Shape (n_bins, n_clusters); ``var_names`` are the cluster ids, ``var`` has
        ``n_spikes``, ``rate_hz``, ``label`` and the folder's cluster tables' columns
        (``group``, ``KSLabel`` …); ``uns["spikes"]`` adds ``path``, ``sample_rate``,
        ``include`` and ``clusters`` (the file the cluster ids came from).

    Raises
    ------
    FileNotFoundError
        Missing folder, ``params.py``, ``spike_times.npy`` or cluster file (named).
    nmfbio.errors.FormatError
        Unusable ``params.py``, unreadable arrays, mismatched lengths, malformed tables.
    nmfbio.errors.NMFInputError
        ``include`` other than "all" in a folder without labels (pass ``include="all"``),
        no cluster with the requested labels, and the binning errors.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "params.py").write_text("sample_rate = 1000.0\\n")
    >>> np.save(d / "spike_times.npy", np.array([10, 120, 150, 190], dtype=np.uint64))
    >>> np.save(d / "spike_clusters.npy", np.array([4, 4, 2, 4], dtype=np.int32))
    >>> _ = (d / "cluster_group.tsv").write_text("cluster_id\\tgroup\\n2\\tgood\\n4\\tgood\\n")
    >>> ad = read_phy(d, 0.1, window=(0.0, 0.2))
    >>> list(ad.var_names), ad.X.T.tolist()
    (['2', '4'], [[0.0, 1.0], [1.0, 2.0]])
    """
    check_bin_width(bin_width)
    labels_wanted = _check_include(include)
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"no such Phy folder: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder} (expected a Phy/Kilosort folder)")
    params = read_params(folder / "params.py")
    rate = params.get("sample_rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not np.isfinite(rate) \
            or rate <= 0:
        raise FormatError(f"expected 'sample_rate = <positive number>' (samples per second), "
                          f"found {rate!r}", folder / "params.py")
    samples = _load_vector(folder / "spike_times.npy", "each spike's time in samples")
    clusters_file = folder / "spike_clusters.npy"
    if not clusters_file.exists():
        clusters_file = folder / "spike_templates.npy"
        if not clusters_file.exists():
            raise FileNotFoundError(f"no spike_clusters.npy (nor spike_templates.npy) in "
                                    f"{folder}: each spike's cluster id is needed")
        log.info("%s: no spike_clusters.npy, using spike_templates.npy", folder)
    clusters = _load_vector(clusters_file, "each spike's cluster id")
    if samples.size != clusters.size:
        raise FormatError(f"spike_times.npy has {samples.size} spikes but "
                          f"{clusters_file.name} has {clusters.size} entries; they must have "
                          "one entry per spike (a partly rewritten folder?)", folder)
    if samples.dtype.kind not in "iuf" or clusters.dtype.kind not in "iu":
        raise FormatError(f"expected numeric spike times and integer cluster ids, got dtypes "
                          f"{samples.dtype} and {clusters.dtype}", folder)

    present = np.unique(clusters)
    table = _cluster_table(folder, present)
    if labels_wanted is None:
        chosen = present
    elif "label" not in table:
        raise NMFInputError(
            f"include={include!r} needs cluster labels, but {folder} has neither "
            f"cluster_group.tsv nor cluster_KSLabel.tsv; pass include='all' to keep every "
            "cluster")
    else:
        lower = table["label"].astype("string").str.lower()
        chosen = present[lower.isin(labels_wanted).fillna(False).to_numpy(dtype=bool)]
        if chosen.size == 0:
            found = sorted(set(table["label"].dropna()))
            raise NMFInputError(f"no cluster in {folder} is labelled {sorted(labels_wanted)} "
                                f"(labels found: {found}); pass include='all' or a list of "
                                "labels")
    keep = np.isin(clusters, chosen)
    unit_index = np.searchsorted(chosen, clusters[keep])
    times = samples[keep].astype(np.float64) / float(rate)
    window_from = None
    if window is None:
        n_samples = _recording_samples(folder, params)
        if n_samples is not None:
            window, window_from = (0.0, n_samples / float(rate)), "raw data file"
    var = table.loc[chosen].set_axis([str(c) for c in chosen], axis=0)
    return bin_long(times, unit_index, [str(c) for c in chosen], bin_width, window,
                    smooth=smooth, source="phy", window_from=window_from, var=var,
                    uns={"path": str(folder), "sample_rate": float(rate),
                         "include": include if isinstance(include, str) else list(include),
                         "clusters": clusters_file.name})


def _check_include(include):
    """None for "all", else the set of lower-case labels to keep."""
    if isinstance(include, str):
        return None if include.lower() == "all" else {include.lower()}
    try:
        labels = list(include)
    except TypeError:
        labels = None
    if not labels or not all(isinstance(s, str) for s in labels):
        raise NMFInputError(f"include must be 'good', 'all' or a non-empty list of labels "
                            f"(e.g. ['good', 'mua']), got {include!r}")
    return {s.lower() for s in labels}


def read_params(path: str | os.PathLike) -> dict:
    """The literal assignments of a Phy ``params.py``, without executing it.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "params.py"
    >>> _ = p.write_text("dat_path = 'rec.bin'\\nsample_rate = 3e4\\nx = open('y')\\n")
    >>> read_params(p)
    {'dat_path': 'rec.bin', 'sample_rate': 30000.0}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no params.py in {path.parent} (Phy's parameter file; it "
                                "gives sample_rate, needed to turn samples into seconds)")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8-sig"), filename=str(path))
    except SyntaxError as exc:
        raise FormatError(f"not valid Python assignments ({exc.msg})", path,
                          exc.lineno) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"not a readable text file ({exc})", path) from None
    params = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            params[target.id] = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            log.debug("%s line %d: %s is not a literal; ignored", path, node.lineno, target.id)
    return params


def _load_vector(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"no {path.name} in {path.parent} ({what})")
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable .npy array ({exc})", path) from None
    if a.ndim == 2 and 1 in a.shape:
        a = a.ravel()
    if a.ndim != 1:
        raise FormatError(f"expected a 1-D array ({what}), got shape {a.shape}", path)
    return a


def _cluster_table(folder: Path, present: np.ndarray) -> pd.DataFrame:
    """Per-cluster metadata for the clusters with spikes, with a ``label`` column if any."""
    table = pd.DataFrame(index=pd.Index(present))
    files = [folder / _INFO_FILE] if (folder / _INFO_FILE).is_file() else []
    files += sorted(p for p in folder.glob("cluster_*.tsv")
                    if p.name not in (_INFO_FILE, *_GROUP_FILES))
    group_file = next((folder / g for g in _GROUP_FILES if (folder / g).is_file()), None)
    files += [group_file] if group_file is not None else []  # the curator's groups last
    for path in files:
        frame = _read_cluster_tsv(path)
        frame = frame[~frame.index.duplicated(keep="last")]
        for column in frame.columns:  # a later file's values win where it has one
            values = frame[column].reindex(present)
            if column in table:
                values = values.where(values.notna() & (values != ""), table[column])
            table[column] = values.to_numpy()
    labels = None
    for column in ("KSLabel", "group"):  # group (curated) overrides KSLabel
        if column in table:
            values = table[column].astype("string").str.strip().replace("", pd.NA)
            labels = values if labels is None else values.fillna(labels)
    if labels is not None:
        table.insert(0, "label", pd.Categorical(labels))
    for column in table.columns:
        if table[column].dtype == object:
            table[column] = pd.Categorical(table[column].astype("string").replace("", pd.NA))
    return table


def _read_cluster_tsv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"not a readable tab-separated cluster table ({exc})", path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    id_column = next((c for c in ("cluster_id", "id") if c in frame.columns), None)
    if id_column is None:
        raise FormatError(f"expected a 'cluster_id' (or 'id') column, found "
                          f"{list(frame.columns)}", path, 1)
    ids = pd.to_numeric(frame[id_column].str.strip(), errors="coerce")
    bad = ids.isna() | (ids != ids.round())
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise FormatError(f"{frame[id_column].iloc[row]!r} is not an integer cluster id",
                          path, row + 2, id_column)
    frame = frame.drop(columns=[id_column]).set_axis(ids.astype(np.int64).to_numpy(), axis=0)
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        if numbers.notna().all() and len(frame):
            frame[column] = numbers
    return frame


def _recording_samples(folder: Path, params: dict) -> int | None:
    """Number of samples of the raw recording from ``dat_path``'s size, if it can be known."""
    dat = params.get("dat_path")
    paths = [dat] if isinstance(dat, str) else list(dat) if isinstance(dat, list | tuple) else []
    try:
        itemsize = np.dtype(params.get("dtype", "int16")).itemsize
        n_channels = int(params["n_channels_dat"])
        offset = int(params.get("offset", 0))
    except (KeyError, TypeError, ValueError):
        return None
    files = [Path(p) if Path(p).is_absolute() else folder / p for p in paths
             if isinstance(p, str)]
    if not files or n_channels <= 0 or not all(f.is_file() for f in files):
        log.info("%s: raw data file not found; the window cannot be read from it", folder)
        return None
    size = sum(f.stat().st_size for f in files) - offset * len(files)
    n = size // (n_channels * itemsize)
    return int(n) if n > 0 else None
