"""Mutation catalogs (96 SBS channels) from matrix text files, as AnnData.

:func:`read_catalog` reads the tables in which catalogs and signatures are exchanged:

* SigProfiler matrices (``MutationType`` column + one column per sample, e.g. the
  ``*.SBS96.all`` files of SigProfilerMatrixGenerator);
* COSMIC-style signature files (``Type`` column + one column per signature, columns
  summing to 1);
* plain CSV/TSV/whitespace tables with the channel labels as the first column (channels ×
  samples) or as the header (samples × channels), optionally gzipped, including R's
  ``write.table`` layout (a header without a name above the row names).

The channels are matched **by label**, never by position: rows (or columns) may come in the
alphabetical order of SigProfiler/COSMIC, in the substitution-major order of plots and
MutationalPatterns, or in any order (see :mod:`nmfbio.io.sbs96`). Variant files (VCF, MAF)
are turned into catalogs by :mod:`nmfbio.io.variants`.

Every catalog AnnData has obs = samples (or signatures), var = the 96 channels in
:data:`~nmfbio.io.sbs96.CHANNELS` order (``var_names`` = labels such as ``A[C>A]T``,
``var["substitution"]`` = the class such as ``C>A``, categorical), a dense float64 ``X`` and
``uns["catalog"]`` describing the source (``format``, ``kind`` = "counts" or "signatures",
``sources``, and per adapter the orientation, the channel order found, or the skip summary).

Policies: non-numeric, empty, missing (NA) or infinite cells, negative values, and missing,
duplicate or unknown channel labels are :class:`~nmfbio.errors.FormatError` naming the file,
line and column. Values that are not whole numbers in a counts file are kept but raise a
:class:`~nmfbio.errors.DataWarning` (they look like proportions or normalised values, and
the KL/Poisson model expects counts). All-zero samples are kept with a ``DataWarning``.
"""

from __future__ import annotations

import csv
import os
import re

import anndata
import numpy as np
import pandas as pd

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, open_text
from nmfbio.io.sbs96 import (
    ALPHABETICAL,
    CHANNELS,
    COMPLEMENT,
    SUBSTITUTION_MAJOR,
    SUBSTITUTIONS,
    substitution_of,
)

__all__ = ["read_catalog", "catalog_anndata", "CATALOG_KINDS", "LABEL_HELP"]

CATALOG_KINDS = ("auto", "counts", "signatures")
#: What a channel label looks like; quoted by every label error.
LABEL_HELP = ("a channel label is the 5' base, [REF>ALT] with a pyrimidine REF (C or T), then "
              "the 3' base, e.g. 'A[C>A]T'; a catalog holds each of the 96 labels exactly "
              "once, in any order")

_CHANNEL_INDEX = {label: i for i, label in enumerate(CHANNELS)}
_LABEL_SHAPE = re.compile(r"^[A-Z]\[[A-Z]>[A-Z]\][A-Z]$")
_NA = {"NA", "NAN", "N/A", "NULL", "NONE", "#N/A", "<NA>", "-NAN"}
_SHOW = 5  # how many offending items a message lists
_SIGNATURE_TOL = 0.02  # |column sum - 1| for a `Type` file to count as signatures


def _show(items, n=_SHOW) -> str:
    items = list(items)
    text = ", ".join(str(x) for x in items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")


def catalog_anndata(X, samples, info: dict) -> anndata.AnnData:
    """Build a catalog AnnData from counts already aligned to ``CHANNELS``.

    Warns (:class:`~nmfbio.errors.DataWarning`) about all-zero samples, which are kept.

    Parameters
    ----------
    X : array-like of shape (n_samples, 96)
        Values, columns in :data:`~nmfbio.io.sbs96.CHANNELS` order.
    samples : sequence of str
        Sample names (obs_names), unique.
    info : dict
        Stored as ``uns["catalog"]``.

    Examples
    --------
    >>> import numpy as np
    >>> ad = catalog_anndata(np.ones((2, 96)), ["s1", "s2"], {"format": "example"})
    >>> ad.shape, ad.var["substitution"].iloc[0]
    ((2, 96), 'C>A')
    """
    X = np.asarray(X, dtype=np.float64)
    samples = [str(s) for s in samples]
    empty = [s for s, row in zip(samples, X, strict=True) if not row.any()]
    if empty:
        where = ", ".join(info.get("sources", [])) or "catalog"
        warn(f"{where}: {len(empty)} sample(s) have no mutations (all 96 channels are zero) "
             f"and are kept: {_show(repr(s) for s in empty)}. They carry no information for "
             "signature extraction; drop them with adata[adata.X.sum(axis=1) > 0] if "
             "unintended", DataWarning)
    classes = pd.Categorical([substitution_of(c) for c in CHANNELS], categories=SUBSTITUTIONS)
    var = pd.DataFrame({"substitution": classes},
                       index=pd.Index(list(CHANNELS), dtype=object))
    obs = pd.DataFrame(index=pd.Index(samples, dtype=object))
    adata = anndata.AnnData(X=X, obs=obs, var=var)
    adata.uns["catalog"] = info
    return adata


def read_catalog(path: str | os.PathLike, *, samples_in: str | None = None,
                 kind: str = "auto") -> anndata.AnnData:
    """Read a 96-channel SBS catalog (or signature) table into AnnData (samples × channels).

    Parameters
    ----------
    path : path-like
        A SigProfiler matrix (``MutationType`` + samples), a COSMIC-style signature file
        (``Type`` + signatures), or a CSV/TSV/whitespace table with the channel labels as its
        first column or as its header; plain or gzipped (detected from the content). The
        delimiter is the first of tab, comma found in the header line, else whitespace.
    samples_in : {"columns", "rows"}, optional
        Where the samples are. By default this is detected from where the channel labels
        are: labels in the first column (or a ``MutationType``/``Type`` first header) mean
        channels × samples (``"columns"``); labels in the header mean samples × channels
        (``"rows"``). Give it to force the orientation.
    kind : {"auto", "counts", "signatures"}, default "auto"
        ``"auto"`` makes a file whose first header is ``Type`` and whose columns all sum to 1
        (± 0.02) a signature file; anything else is counts. Counts that are not whole
        numbers raise a DataWarning; signatures do not.

    Returns
    -------
    anndata.AnnData
        Shape (n_samples, 96): obs = samples (or signatures), var = channels in
        ``CHANNELS`` order with ``var["substitution"]``; ``X`` float64;
        ``uns["catalog"]`` = ``{"format": "sigprofiler" | "cosmic" | "table", "kind",
        "sources", "orientation", "channel_order"}`` (``channel_order`` is
        "alphabetical", "substitution-major" or "other", as found in the file).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    nmfbio.errors.FormatError
        No channel labels found; missing, duplicate or unknown labels (listed, with where
        they are); rows of different lengths; duplicate or empty sample names; a
        non-numeric, empty, NA or infinite cell, or a negative value (file, line, column).
    nmfbio.errors.NMFInputError
        Bad ``samples_in`` or ``kind``.

    Warns
    -----
    nmfbio.errors.DataWarning
        Counts that are not whole numbers (kept as they are; they look like proportions or
        normalised values, while ``loss="kl"`` models counts), and all-zero samples (kept).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from nmfbio.io.sbs96 import SUBSTITUTION_MAJOR
    >>> p = Path(tempfile.mkdtemp()) / "cat.tsv"
    >>> rows = [f"{c}\\t{i}\\t1" for i, c in enumerate(SUBSTITUTION_MAJOR)]
    >>> _ = p.write_text("MutationType\\tS1\\tS2\\n" + "\\n".join(rows) + "\\n")
    >>> ad = read_catalog(p)
    >>> ad.shape, ad.uns["catalog"]["channel_order"], ad["S1", "T[T>G]T"].X.item()
    ((2, 96), 'substitution-major', 95.0)
    """
    if samples_in not in (None, "columns", "rows"):
        raise NMFInputError(f"samples_in must be None, 'columns' or 'rows', got {samples_in!r}")
    if kind not in CATALOG_KINDS:
        raise NMFInputError(f"kind must be one of {list(CATALOG_KINDS)}, got {kind!r}")
    path = check_input_file(path, "a mutation catalog (96 channel labels with counts)")
    header_line, header, rows, sep = _read_table(path)
    names, corner = _layout(path, header_line, header, rows, sep)
    row_names = [fields[0] for _, fields in rows]
    samples_in = _orientation(path, header_line, corner, names, row_names, samples_in)
    values = _numbers(path, rows, names)
    if samples_in == "columns":
        labels, where = row_names, [f"line {line}" for line, _ in rows]
        samples, X = names, values.T
        sample_where = [f"line {header_line}, column {j + 2}" for j in range(len(names))]
    else:
        labels, where = names, [f"column {j + 2}" for j in range(len(names))]
        samples, X = row_names, values
        sample_where = [f"line {line}" for line, _ in rows]
    order = _align(path, labels, where, samples_in)
    _check_samples(path, samples, sample_where)
    _check_negative(path, values, rows, names)
    aligned = np.empty((len(samples), len(CHANNELS)))
    aligned[:, order] = X

    fmt = {"mutationtype": "sigprofiler", "type": "cosmic"}.get(corner.lower(), "table")
    if kind == "auto":
        sums = aligned.sum(axis=1)
        kind = ("signatures" if fmt == "cosmic" and samples_in == "columns"
                and np.all(np.abs(sums - 1.0) <= _SIGNATURE_TOL) else "counts")
    if kind == "counts":
        _check_whole(path, aligned, samples)
    info = {
        "format": fmt,
        "kind": kind,
        "sources": [str(path)],
        "orientation": ("channels x samples" if samples_in == "columns"
                        else "samples x channels"),
        "channel_order": _order_name(tuple(CHANNELS[i] for i in order)),
    }
    return catalog_anndata(aligned, samples, info)


# --------------------------------------------------------------------------- table layout
def _read_table(path):
    """``(header_line, header, [(line, fields), ...], sep)`` of the non-blank lines."""
    try:
        with open_text(path) as f:
            first = next((line for line in f if line.strip()), "")
            sep = "\t" if "\t" in first else "," if "," in first else None
            f.seek(0)
            if sep is None:
                records = [(n, [_unquote(x) for x in line.split()])
                           for n, line in enumerate(f, 1) if line.strip()]
            else:
                reader = csv.reader(f, delimiter=sep)
                records = [(reader.line_num, [x.strip() for x in fields])
                           for fields in reader if any(x.strip() for x in fields)]
    except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
        raise FormatError(f"not a readable UTF-8 text table ({exc})", path) from None
    if not records:
        raise FormatError("the file holds only blank lines; expected a header line and one "
                          "line per channel or sample", path)
    # columns left empty on every line (a trailing delimiter, as spreadsheets write)
    width = max(len(fields) for _, fields in records)
    while width > 1 and all(len(f) < width or not f[width - 1] for _, f in records):
        width -= 1
    records = [(n, fields[:width]) for n, fields in records]
    (header_line, header), rows = records[0], records[1:]
    if not rows:
        raise FormatError("a header line but no data lines", path, header_line)
    return header_line, header, rows, sep


def _unquote(s: str) -> str:
    return s[1:-1] if len(s) > 1 and s[0] == s[-1] and s[0] in "\"'" else s


def _sep_name(sep) -> str:
    return {",": "commas", "\t": "tabs", None: "whitespace"}[sep]


def _layout(path, header_line, header, rows, sep):
    """Value-column names and the header's first cell; checks that all rows have one length."""
    first_line, first = rows[0]
    n = len(first)
    if n < 2:
        raise FormatError(f"expected a label or sample name followed by values, found one "
                          f"field (the file is read as separated by {_sep_name(sep)}; is that "
                          "the delimiter?)", path, first_line)
    for line, fields in rows:
        if len(fields) != n:
            raise FormatError(f"expected {n} fields separated by {_sep_name(sep)} like line "
                              f"{first_line}, found {len(fields)}", path, line)
    if len(header) == n:
        return header[1:], header[0]
    if len(header) == n - 1:  # R's write.table: no name above the row names
        return header, ""
    raise FormatError(f"the header has {len(header)} fields but the data lines have {n} (a "
                      f"name and {n - 1} values); expected {n} or {n - 1} header fields",
                      path, header_line)


def _looks_like_label(s: str) -> bool:
    return bool(_LABEL_SHAPE.match(s.upper()))


def _orientation(path, header_line, corner, names, row_names, samples_in):
    in_rows = sum(map(_looks_like_label, row_names))
    in_header = sum(map(_looks_like_label, names))
    if samples_in == "columns" and not in_rows:
        raise FormatError(f"samples_in='columns' means the channel labels are the first "
                          f"column, but none of its values looks like one (first: "
                          f"{_show(map(repr, row_names), 3)}); {LABEL_HELP}", path)
    if samples_in == "rows" and not in_header:
        raise FormatError(f"samples_in='rows' means the channel labels are the header, but "
                          f"none of its names looks like one (first: "
                          f"{_show(map(repr, names), 3)}); {LABEL_HELP}", path, header_line)
    if samples_in is not None:
        return samples_in
    if corner.lower() in ("mutationtype", "type") or (in_rows and not in_header):
        return "columns"
    if in_header and not in_rows:
        return "rows"
    if in_rows and in_header:
        raise FormatError(f"channel labels both in the first column ({in_rows}) and in the "
                          f"header ({in_header}); pass samples_in='columns' (labels in the "
                          "first column) or samples_in='rows' (labels in the header)", path)
    raise FormatError(f"no channel labels found in the first column (first values: "
                      f"{_show(map(repr, row_names), 3)}) or in the header (first names: "
                      f"{_show(map(repr, names), 3)}); {LABEL_HELP}", path)


# --------------------------------------------------------------------------- checks
def _align(path, labels, where, samples_in):
    """Column positions in ``CHANNELS`` of the file's labels; errors list what is wrong."""
    seen: dict[str, str] = {}
    unknown, duplicate = [], []
    for text, at in zip(labels, where, strict=True):
        label = text.upper()
        if label not in _CHANNEL_INDEX:
            unknown.append((text, at))
        elif label in seen:
            duplicate.append((text, f"{seen[label]} and {at}"))
        else:
            seen[label] = at
    missing = [c for c in CHANNELS if c not in seen]
    if not (unknown or duplicate or missing):
        return [_CHANNEL_INDEX[label.upper()] for label in labels]
    problems = []
    if unknown:
        problems.append(f"{len(unknown)} unknown label(s): "
                        + _show(f"{label!r} ({at})" for label, at in unknown))
        purine = [(label, _pyrimidine(label)) for label, _ in unknown if _pyrimidine(label)]
        if purine:
            problems.append("labels must be pyrimidine-centred: write "
                            + _show(f"{a!r} as {b!r}" for a, b in purine[:2]))
    if duplicate:
        problems.append(f"{len(duplicate)} duplicate label(s): "
                        + _show(f"{label!r} ({at})" for label, at in duplicate))
    if missing:
        problems.append(f"{len(missing)} of the 96 channels missing: "
                        + _show(repr(c) for c in missing))
    place = "first column" if samples_in == "columns" else "header"
    raise FormatError(f"the channel labels in the {place} are not the 96 SBS channels: "
                      + "; ".join(problems) + f". Note: {LABEL_HELP}", path)


def _order_name(labels: tuple) -> str:
    if labels == ALPHABETICAL:
        return "alphabetical"
    return "substitution-major" if labels == SUBSTITUTION_MAJOR else "other"


def _pyrimidine(label: str) -> str | None:
    """The pyrimidine-centred spelling of a purine-centred label, else None."""
    label = label.upper()
    if not _LABEL_SHAPE.match(label) or label[2] not in "AG" or label[4] not in "ACGT":
        return None
    if any(b not in "ACGT" for b in (label[0], label[6])):
        return None
    c = COMPLEMENT
    fixed = f"{c[label[6]]}[{c[label[2]]}>{c[label[4]]}]{c[label[0]]}"
    return fixed if fixed in _CHANNEL_INDEX else None


def _check_samples(path, samples, where):
    for name, at in zip(samples, where, strict=True):
        if not name:
            raise FormatError(f"empty sample name ({at}); every sample needs a name", path)
    counts = pd.Series(samples).value_counts()
    dup = list(counts.index[counts > 1])
    if dup:
        raise FormatError(f"{len(dup)} duplicate sample name(s): {_show(map(repr, dup))}; "
                          "sample names must be unique", path)


def _numbers(path, rows, names):
    """The value cells as a float array (file layout); FormatError at the first bad cell."""
    block = [fields[1:] for _, fields in rows]
    try:
        values = np.array(block, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values
    for line, fields in rows:
        for j, cell in enumerate(fields[1:]):
            column = names[j] or j + 2
            if not cell:
                raise FormatError("empty cell; every cell after the first column must be a "
                                  "count (write 0 for none)", path, line, column)
            if cell.upper() in _NA:
                raise FormatError(f"missing value {cell!r}; a catalog needs a number in every "
                                  "cell (write 0 for none)", path, line, column)
            try:
                value = float(cell)
            except ValueError:
                raise FormatError(f"{cell!r} is not a number; every cell after the first "
                                  "column must be a count", path, line, column) from None
            if not np.isfinite(value):
                raise FormatError(f"{cell!r} is not a finite number", path, line, column)
    raise FormatError("could not read the values as numbers", path)  # pragma: no cover


def _check_negative(path, values, rows, names):
    neg = np.argwhere(values < 0)
    if len(neg):
        i, j = neg[0]
        raise FormatError(f"negative value {values[i, j]:g} ({len(neg)} negative cell(s) in "
                          "all); mutation counts and signatures are non-negative",
                          path, rows[i][0], names[j] or j + 2)


def _check_whole(path, X, samples):
    frac = np.abs(X - np.rint(X)) > 1e-8
    if frac.any():
        i, j = np.argwhere(frac)[0]
        warn(f"{path}: {int(frac.sum())} of {frac.size} values are not whole numbers (e.g. "
             f"sample {samples[i]!r}, channel {CHANNELS[j]} = {X[i, j]:g}); they look like "
             "proportions or normalised values, but KL/Poisson models (loss='kl') expect raw "
             "mutation counts. Use the raw counts if you have them; if the file holds "
             "signatures, pass kind='signatures'", DataWarning)
