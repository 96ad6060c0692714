"""Read a data matrix from a common file format into AnnData (obs = samples, var = features).

Supported formats, chosen by the file's extension (case-insensitive):

``.h5ad``
    AnnData, already samples × features; ``layer=`` copies one of its layers into ``X``.
``.csv``, ``.tsv``, ``.txt`` (each optionally ``.gz``)
    A table with a header line of column names and a first column of row names, as written
    by ``pandas.DataFrame.to_csv``. ``.txt`` may be tab-, comma- or whitespace-separated. A
    header with one name fewer than the data rows (as R's ``write.table`` writes it) names
    the value columns. Every other cell must be a number; ``NA``/``NaN`` are read as NaN
    (the solver rejects or masks them), an empty cell is a format error.
``.npy``
    One 2-D numeric array (``numpy.save``).
``.npz``
    A sparse matrix (``scipy.sparse.save_npz``), or a ``numpy.savez`` archive holding a
    single 2-D array or an array named ``"X"``.
``.mtx``, ``.mtx.gz``
    Matrix Market (``scipy.io.mmwrite``; 10x Genomics writes genes × cells); kept sparse
    (CSR).

Orientation: nmfbio's X is features × samples, so for every format except ``.h5ad`` the
samples are the file's **columns** by default (``samples_in="columns"``: rows = features);
pass ``samples_in="rows"`` for samples × features files. Unnamed rows and columns are named
``feature0, feature1, …`` and ``sample0, sample1, …``. Files are only ever read.

Errors: :class:`~nmfbio.errors.FormatError` (a ``ValueError``) names the file and, for
tables, the 1-based line (the header is line 1) and the column's header name;
``FileNotFoundError`` for a missing file; :class:`~nmfbio.errors.NMFInputError` for bad
arguments (``samples_in``, ``layer``).
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._textfile import is_gzip, open_text, reading

__all__ = ["read_matrix", "SUPPORTED_EXTENSIONS", "SAMPLES_IN"]

#: Extensions :func:`read_matrix` understands, and the reader used for each.
_KINDS = {
    ".h5ad": "h5ad",
    ".csv": "text", ".tsv": "text", ".txt": "text",
    ".csv.gz": "text", ".tsv.gz": "text", ".txt.gz": "text",
    ".npy": "npy", ".npz": "npz",
    ".mtx": "mtx", ".mtx.gz": "mtx",
}
SUPPORTED_EXTENSIONS = tuple(_KINDS)
SAMPLES_IN = ("columns", "rows")

# Strings read as NaN in text tables (the solver then reports them). The empty string is
# deliberately not among them: an empty cell is reported by the reader.
_NA_STRINGS = ("NA", "NaN", "nan", "-nan", "-NaN", "N/A", "n/a", "NULL", "null", "None",
               "#N/A", "<NA>")
_INDEX = "__nmfbio_row_names__"


def read_matrix(path: str | os.PathLike, *, samples_in: str = "columns",
                layer: str | None = None) -> anndata.AnnData:
    """Read a matrix file into an AnnData of shape (n_samples, n_features).

    Parameters
    ----------
    path : path-like
        A ``.h5ad``, ``.csv``/``.tsv``/``.txt`` (optionally gzipped), ``.npy``, ``.npz`` or
        ``.mtx``/``.mtx.gz`` file (see the module documentation for each format).
    samples_in : {"columns", "rows"}, default "columns"
        Where the samples are in a text, ``.npy``, ``.npz`` or ``.mtx`` file. The default
        follows nmfbio's X (features × samples): rows are features, columns are samples.
        Ignored for ``.h5ad``, which is samples × features by AnnData convention.
    layer : str, optional
        For ``.h5ad`` only: copy ``adata.layers[layer]`` into ``X``.

    Returns
    -------
    anndata.AnnData
        obs = samples, var = features; ``X`` is a dense float array, or a CSR matrix for
        sparse files (``.mtx``, sparse ``.npz``, sparse ``.h5ad``).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    nmfbio.errors.FormatError
        Unknown extension (the message lists the supported ones), an empty file, a
        non-numeric or empty cell, a row with the wrong number of fields, an unreadable
        binary file or an array that is not 2-D.
    nmfbio.errors.NMFInputError
        ``samples_in`` not "columns"/"rows", ``layer`` not in the file or given for a
        format without layers.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "counts.csv"
    >>> _ = p.write_text("gene,s1,s2,s3\\ng1,1,0,2\\ng2,3,4,0\\n")
    >>> ad = read_matrix(p)
    >>> ad.shape, list(ad.obs_names), list(ad.var_names)
    ((3, 2), ['s1', 's2', 's3'], ['g1', 'g2'])
    """
    if samples_in not in SAMPLES_IN:
        raise NMFInputError(f"samples_in must be one of {list(SAMPLES_IN)}, got {samples_in!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise FormatError(f"is a directory; expected a matrix file ({_supported()})", path)
    ext = _extension(path)
    if ext is None:
        raise FormatError(f"unknown file extension {''.join(path.suffixes[-2:]) or '(none)'!r}; "
                          f"supported: {_supported()}", path)
    if path.stat().st_size == 0:
        raise FormatError("the file is empty; expected a matrix", path)
    kind = _KINDS[ext]
    if kind == "h5ad":
        return _read_h5ad(path, layer)
    if layer is not None:
        raise NMFInputError(f"layer={layer!r} applies only to .h5ad files, not to {path.name}")
    with reading(path, "a matrix"):
        M, row_names, col_names = _ARRAY_READERS[kind](path, ext)
    _check_unique(row_names, "row", path)
    _check_unique(col_names, "column", path)
    return _to_anndata(M, row_names, col_names, samples_in)


def _check_unique(names, what: str, path) -> None:
    """Refuse a name given to two rows (or columns): their results could not be told apart."""
    if names is None:
        return
    first: dict[str, int] = {}
    for i, name in enumerate(map(str, names)):
        if name in first:
            where = (f"rows {first[name] + 1} and {i + 1} of the data" if what == "row" else
                     f"columns {first[name] + 2} and {i + 2} of the header")
            raise FormatError(f"the {what} name {name!r} appears twice ({where}); every "
                              f"{what} needs its own name: rename or merge them", path)
        first[name] = i


def _supported() -> str:
    return ", ".join(SUPPORTED_EXTENSIONS)


def _extension(path: Path) -> str | None:
    name = path.name.lower()
    for ext in sorted(_KINDS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return None


def _to_anndata(M, row_names, col_names, samples_in) -> anndata.AnnData:
    """Build the AnnData from the file's matrix (rows × columns as stored)."""
    if samples_in == "columns":
        X, obs_names, var_names = M.T, col_names, row_names
    else:
        X, obs_names, var_names = M, row_names, col_names
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    n_obs, n_var = X.shape
    obs_names = [f"sample{i}" for i in range(n_obs)] if obs_names is None else obs_names
    var_names = [f"feature{i}" for i in range(n_var)] if var_names is None else var_names
    return anndata.AnnData(
        X=X,
        obs=pd.DataFrame(index=pd.Index([str(s) for s in obs_names], dtype=object)),
        var=pd.DataFrame(index=pd.Index([str(s) for s in var_names], dtype=object)),
    )


def _check_array(M, path):
    """A 2-D, numeric, non-empty dense or sparse matrix, else FormatError."""
    if M.ndim != 2:
        raise FormatError(f"expected a 2-D matrix, got an array of shape {M.shape}", path)
    if M.dtype.kind not in "biuf":
        raise FormatError(f"expected a numeric matrix, got dtype {M.dtype}", path)
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise FormatError(f"the matrix is empty (shape {M.shape})", path)
    return sp.csr_matrix(M) if sp.issparse(M) else M


# --------------------------------------------------------------------------- binary formats
def read_h5ad_file(path) -> anndata.AnnData:
    """An .h5ad file as it is, or a located :class:`FormatError` when it cannot be read."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"not a readable .h5ad file ({type(exc).__name__}: {exc})",
                          path) from None


def _read_h5ad(path: Path, layer):
    adata = read_h5ad_file(path)
    if layer is not None:
        if layer not in adata.layers:
            raise NMFInputError(
                f"layer {layer!r} not found in {path}; available: {sorted(adata.layers)}"
            )
        M = adata.layers[layer]
        adata.X = M.copy()
    elif adata.X is None:
        raise FormatError(f"the file has no X matrix; pass a layer (available: "
                          f"{sorted(adata.layers)})", path)
    return adata


def _read_npy(path: Path, ext):
    try:
        M = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable .npy file of numbers (numpy: {exc})", path) from None
    return _check_array(M, path), None, None


def _read_npz(path: Path, ext):
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"not a readable .npz archive (numpy: {exc})", path) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):  # np.load sniffs content, not names
        return _check_array(archive, path), None, None
    with archive:
        keys = list(archive.files)
        try:
            if {"format", "shape", "data"} <= set(keys):  # scipy.sparse.save_npz
                M = sp.load_npz(path)
            elif "X" in keys:
                M = archive["X"]
            elif len(keys) == 1:
                M = archive[keys[0]]
            else:
                raise FormatError(
                    f"the archive holds {len(keys)} arrays {keys}; expected a scipy.sparse "
                    "save_npz file, a single array, or an array named 'X'", path)
        except (ValueError, OSError, KeyError) as exc:
            raise FormatError(f"could not read the archive's matrix ({exc})", path) from None
    return _check_array(M, path), None, None


def _read_mtx(path: Path, ext):
    try:
        M = scipy.io.mmread(path)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable Matrix Market file ({exc})", path) from None
    return _check_array(M, path), None, None


# --------------------------------------------------------------------------- text tables
def _records(f, sep):
    """Yield ``(line_number, fields)`` for the non-blank lines of an open text file."""
    if sep is None:  # runs of whitespace; strip the quotes R puts around names
        for number, line in enumerate(f, 1):
            fields = line.split()
            if fields:
                yield number, [s[1:-1] if len(s) > 1 and s[0] == s[-1] == '"' else s
                               for s in fields]
        return
    reader = csv.reader(f, delimiter=sep)
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):  # blank lines
            yield reader.line_num, fields


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _text_layout(path: Path, ext: str):
    """Delimiter, header line number, number of fields per row and the value columns' names."""
    sep = {".csv": ",", ".tsv": "\t"}.get(ext.removesuffix(".gz"))
    try:
        with open_text(path) as f:
            if ext.startswith(".txt"):
                first = next((line for line in f if line.strip()), "")
                sep = "\t" if "\t" in first else "," if "," in first else None
                f.seek(0)
            records = _records(f, sep)
            head = next(records, None)
            if head is None:
                raise FormatError("the file is empty (blank lines only); expected a header "
                                  "line and rows of numbers", path)
            first_row = next(records, None)
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable UTF-8 text file ({exc})", path) from None
    header_line, header = head
    header = [h.strip() for h in header]
    if first_row is None:
        raise FormatError("a header line but no data rows", path, header_line)
    line, fields = first_row
    n = len(fields)
    if n < 2:
        raise FormatError("expected a row name followed by at least one value (is the "
                          f"delimiter right? this .{ext.lstrip('.')} file is read with "
                          f"{_sep_name(sep)})", path, line)
    if len(header) == n:
        if header[0] and all(_is_number(h) for h in header):
            raise FormatError(
                "this line is numbers, not a header: a text matrix needs a header line of "
                "column names and a first column of row names (as written by "
                "pandas.DataFrame.to_csv); save a bare numeric array as .npy instead",
                path, header_line)
        names = header[1:]
    elif len(header) == n - 1:  # R's write.table: no header cell above the row names
        names = header
    else:
        raise FormatError(
            f"expected {len(header)} fields like the header on line {header_line} (a row "
            f"name and {len(header) - 1} values), found {n}", path, line)
    return sep, header_line, n, names


def _sep_name(sep) -> str:
    return {",": "commas", "\t": "tabs", None: "whitespace"}[sep]


def _read_text(path: Path, ext):
    sep, header_line, n, names = _text_layout(path, ext)
    cols = [f"v{j}" for j in range(n - 1)]
    dtype = dict.fromkeys(cols, np.float64)
    dtype[_INDEX] = str
    try:
        df = pd.read_csv(
            path, sep=sep if sep is not None else r"\s+", header=None, skiprows=header_line,
            names=[_INDEX, *cols], index_col=0, dtype=dtype, keep_default_na=False,
            na_values=list(_NA_STRINGS), encoding="utf-8-sig", skip_blank_lines=True,
            compression="gzip" if is_gzip(path) else None,
            engine="c",
        )
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        _locate_problem(path, sep, header_line, n, names, len(names) == n - 1)
        raise FormatError(f"could not read the file as a numeric table ({exc})",
                          path) from None
    if df.shape[0] == 0:
        raise FormatError("a header line but no data rows", path, header_line)
    return df.to_numpy(dtype=np.float64), [str(i) for i in df.index], names


def _locate_problem(path, sep, header_line, n, names, short_header):
    """Scan the table line by line and raise a FormatError at the first bad line or cell."""
    like = (f"the first data row (its header on line {header_line} has one name fewer, for "
            "the value columns only)" if short_header else f"the header on line {header_line}")
    with open_text(path) as f:
        for line, fields in _records(f, sep):
            if line <= header_line:
                continue
            if len(fields) != n:
                raise FormatError(
                    f"expected {n} fields (a row name and {n - 1} values, separated by "
                    f"{_sep_name(sep)}) like {like}, found {len(fields)}", path, line)
            for j, cell in enumerate(fields[1:]):
                column = names[j] if names[j] else j + 2
                value = cell.strip()
                if not value:
                    raise FormatError("empty cell; every value must be a number (write 0 "
                                      "for zero, NA for a missing value)", path, line, column)
                if value not in _NA_STRINGS and not _is_number(value):
                    raise FormatError(f"{value!r} is not a number; every cell after the "
                                      "row names must be numeric", path, line, column)


_ARRAY_READERS = {"text": _read_text, "npy": _read_npy, "npz": _read_npz, "mtx": _read_mtx}
