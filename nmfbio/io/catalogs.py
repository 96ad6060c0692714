"""Mutation catalogs of every registered type (SBS96, DBS78, ID83, …) from matrix text files.

:func:`read_catalog` reads the tables in which catalogs and signatures are exchanged:

* SigProfiler matrices (``MutationType`` column + one column per sample, e.g. the
  ``*.SBS96.all``, ``*.SBS288.all``, ``*.DBS78.all``, ``*.ID83.all`` files of
  SigProfilerMatrixGenerator);
* COSMIC-style signature files (``Type`` column + one column per signature, columns
  summing to 1);
* plain CSV/TSV/whitespace tables with the channel labels as the first column (channels ×
  samples) or as the header (samples × channels), optionally gzipped, including R's
  ``write.table`` layout (a header without a name above the row names).

The mutation type is found from the labels (the registry of
:mod:`nmfbio.io.mutation_types`), or given as ``mutation_type=``. The channels are matched
**by label**, never by position: rows (or columns) may come in SigProfiler/COSMIC order, in
the substitution-major order of plots and MutationalPatterns, or in any order (see
:mod:`nmfbio.io.sbs96`). Variant files (VCF, MAF) are turned into catalogs by
:mod:`nmfbio.io.variants`.

Every catalog AnnData has obs = samples (or signatures), var = the type's channels in its
canonical order (SigProfilerMatrixGenerator's rows; for SBS96 :data:`~nmfbio.io.sbs96.
CHANNELS`), ``var_names`` = labels such as ``A[C>A]T``, one categorical ``var`` column with
each channel's group (``"substitution"`` ``C>A`` for SBS types, ``"dinucleotide"`` ``CC``
for DBS78, ``"indel_class"`` ``1:Del:C`` for ID83), a dense float64 ``X`` and
``uns["catalog"]`` describing the source (``format``, ``kind`` = "counts" or "signatures",
``mutation_type``, ``sources``, and per adapter the orientation, the channel order found, or
the skip summary).

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
from nmfbio.io.mutation_types import (
    MutationType,
    canonical_label,
    detect_mutation_type,
    looks_like_label,
)
from nmfbio.io.mutation_types import mutation_type as _lookup
from nmfbio.io.sbs96 import ALPHABETICAL, COMPLEMENT, SUBSTITUTION_MAJOR

__all__ = ["read_catalog", "catalog_anndata", "CATALOG_KINDS", "LABEL_HELP"]

CATALOG_KINDS = ("auto", "counts", "signatures")
#: What a channel label looks like; quoted by label errors when no type can be told.
LABEL_HELP = ("channel labels are those SigProfilerMatrixGenerator writes: SBS96 'A[C>A]T' (the "
              "5' base, [REF>ALT] with a pyrimidine REF, the 3' base), DBS78 'CC>TT', ID83 "
              "'1:Del:T:5', SBS288 'T:A[C>A]T', SBS1536 'AA[C>A]TT', SBS6 'C>T'; a catalog "
              "holds each label of its type exactly once, in any order")

_LABEL_SHAPE = re.compile(r"^[A-Z]\[[A-Z]>[A-Z]\][A-Z]$")  # SBS96-shaped, any letters
_NA = {"NA", "NAN", "N/A", "NULL", "NONE", "#N/A", "<NA>", "-NAN"}
_SHOW = 5  # how many offending items a message lists
_SIGNATURE_TOL = 0.02  # |column sum - 1| for a `Type` file to count as signatures


def _show(items, n=_SHOW) -> str:
    items = list(items)
    text = ", ".join(str(x) for x in items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")


def catalog_anndata(X, samples, info: dict,
                    mutation_type: str | MutationType = "SBS96") -> anndata.AnnData:
    """Build a catalog AnnData from counts already in a type's canonical channel order.

    Warns (:class:`~nmfbio.errors.DataWarning`) about all-zero samples, which are kept.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_channels)
        Values, columns in the canonical order of ``mutation_type`` (its ``labels``).
    samples : sequence of str
        Sample names (obs_names), unique.
    info : dict
        Stored as ``uns["catalog"]`` (``mutation_type`` is added).
    mutation_type : str or MutationType, default "SBS96"
        A type of :mod:`nmfbio.io.mutation_types`.

    Examples
    --------
    >>> import numpy as np
    >>> ad = catalog_anndata(np.ones((2, 96)), ["s1", "s2"], {"format": "example"})
    >>> ad.shape, ad.var["substitution"].iloc[0], ad.uns["catalog"]["mutation_type"]
    ((2, 96), 'C>A', 'SBS96')
    >>> catalog_anndata(np.ones((1, 83)), ["s1"], {}, "ID83").var["indel_class"].iloc[0]
    '1:Del:C'
    """
    mtype = _type(mutation_type)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(mtype):
        raise NMFInputError(f"{mtype.name} counts need {len(mtype)} columns (one per channel),"
                            f" got shape {X.shape}")
    samples = [str(s) for s in samples]
    empty = [s for s, row in zip(samples, X, strict=True) if not row.any()]
    if empty:
        where = ", ".join(info.get("sources", [])) or "catalog"
        warn(f"{where}: {len(empty)} sample(s) have no mutations (all {len(mtype)} "
             f"{mtype.name} channels are zero) and are kept: "
             f"{_show(repr(s) for s in empty)}. They carry no information for signature "
             "extraction; drop them with adata[adata.X.sum(axis=1) > 0] if unintended",
             DataWarning)
    groups = pd.Categorical(list(mtype.groups), categories=list(dict.fromkeys(mtype.groups)))
    var = pd.DataFrame({mtype.group_title: groups},
                       index=pd.Index(list(mtype.labels), dtype=object))
    obs = pd.DataFrame(index=pd.Index(samples, dtype=object))
    adata = anndata.AnnData(X=X, obs=obs, var=var)
    adata.uns["catalog"] = {**info, "mutation_type": mtype.name}
    return adata


def _type(mtype) -> MutationType:
    return _lookup(mtype)


def read_catalog(path: str | os.PathLike, *, samples_in: str | None = None,
                 kind: str = "auto",
                 mutation_type: str | MutationType | None = None) -> anndata.AnnData:
    """Read a catalog (or signature) table of any mutation type into AnnData.

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
    mutation_type : str or MutationType, optional
        The type the file must hold (``"SBS96"``, ``"DBS78"``, ``"ID83"``, … see
        :func:`nmfbio.io.mutation_types.type_names`). By default it is the registered type
        whose labels the file carries.

    Returns
    -------
    anndata.AnnData
        Shape (n_samples, n_channels): obs = samples (or signatures), var = the type's
        channels in canonical order with one group column (``var["substitution"]`` for SBS
        types); ``X`` float64; ``uns["catalog"]`` = ``{"format": "sigprofiler" | "cosmic" |
        "table", "kind", "mutation_type", "sources", "orientation", "channel_order"}``
        (``channel_order``: "alphabetical" (= canonical), "substitution-major" or "other"
        for SBS96, "canonical" or "other" for the other types, as found in the file).

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
    want = None if mutation_type is None else _type(mutation_type)
    path = check_input_file(path, "a mutation catalog (channel labels with counts)")
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
    mtype, order = _align(path, labels, where, samples_in, want)
    _check_samples(path, samples, sample_where)
    _check_negative(path, values, rows, names)
    aligned = np.empty((len(samples), len(mtype)))
    aligned[:, order] = X

    fmt = {"mutationtype": "sigprofiler", "type": "cosmic"}.get(corner.lower(), "table")
    if kind == "auto":
        sums = aligned.sum(axis=1)
        kind = ("signatures" if fmt == "cosmic" and samples_in == "columns"
                and np.all(np.abs(sums - 1.0) <= _SIGNATURE_TOL) else "counts")
    if kind == "counts":
        _check_whole(path, aligned, samples, mtype)
    info = {
        "format": fmt,
        "kind": kind,
        "sources": [str(path)],
        "orientation": ("channels x samples" if samples_in == "columns"
                        else "samples x channels"),
        "channel_order": _order_name(mtype, order),
    }
    return catalog_anndata(aligned, samples, info, mtype)


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
    # SBS96-shaped with any letters too, so that purine-centred labels are recognised as
    # labels (and corrected in the error) rather than taken for sample names
    return looks_like_label(s) or bool(_LABEL_SHAPE.match(s.upper()))


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
def _align(path, labels, where, samples_in, want=None):
    """The file's type and the canonical position of each of its labels.

    Errors list unknown, duplicate and missing labels with where they are.
    """
    if want is None:
        try:
            mtype, _ = detect_mutation_type(labels)
        except NMFInputError:
            mtype = _type("SBS96")  # the labels are all unknown: say so as for SBS96
    else:
        mtype = want
    seen: dict[str, str] = {}
    unknown, duplicate, order = [], [], []
    for text, at in zip(labels, where, strict=True):
        label = canonical_label(text, mtype)
        if label is None:
            unknown.append((text, at))
        elif label in seen:
            duplicate.append((text, f"{seen[label]} and {at}"))
        else:
            seen[label] = at
            order.append(mtype.index(label))
    missing = [c for c in mtype.labels if c not in seen]
    if not (unknown or duplicate or missing):
        return mtype, order
    problems = []
    if unknown:
        problems.append(f"{len(unknown)} unknown label(s): "
                        + _show(f"{label!r} ({at})" for label, at in unknown))
        purine = [(label, _pyrimidine(label)) for label, _ in unknown if _pyrimidine(label)]
        if purine and mtype.name == "SBS96":
            problems.append("labels must be pyrimidine-centred: write "
                            + _show(f"{a!r} as {b!r}" for a, b in purine[:2]))
    if duplicate:
        problems.append(f"{len(duplicate)} duplicate label(s): "
                        + _show(f"{label!r} ({at})" for label, at in duplicate))
    if missing:
        problems.append(f"{len(missing)} of the {len(mtype)} channels missing: "
                        + _show(repr(c) for c in missing))
    place = "first column" if samples_in == "columns" else "header"
    how = "" if want is None else " (asked for with mutation_type)"
    raise FormatError(f"the channel labels in the {place} are not the {len(mtype)} "
                      f"{mtype.name} channels{how}: " + "; ".join(problems)
                      + f". Note: {mtype.help}", path)


def _order_name(mtype: MutationType, order) -> str:
    canonical = list(order) == list(range(len(mtype)))
    if mtype.name != "SBS96":
        return "canonical" if canonical else "other"
    labels = tuple(mtype.labels[i] for i in order)
    if labels == ALPHABETICAL:
        return "alphabetical"
    return "substitution-major" if labels == SUBSTITUTION_MAJOR else "other"


def _pyrimidine(label: str) -> str | None:
    """The pyrimidine-centred spelling of a purine-centred SBS96 label, else None."""
    label = label.upper()
    if not _LABEL_SHAPE.match(label) or label[2] not in "AG" or label[4] not in "ACGT":
        return None
    if any(b not in "ACGT" for b in (label[0], label[6])):
        return None
    c = COMPLEMENT
    fixed = f"{c[label[6]]}[{c[label[2]]}>{c[label[4]]}]{c[label[0]]}"
    return canonical_label(fixed, "SBS96")


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


def _check_whole(path, X, samples, mtype):
    frac = np.abs(X - np.rint(X)) > 1e-8
    if frac.any():
        i, j = np.argwhere(frac)[0]
        warn(f"{path}: {int(frac.sum())} of {frac.size} values are not whole numbers (e.g. "
             f"sample {samples[i]!r}, channel {mtype.labels[j]} = {X[i, j]:g}); they look like "
             "proportions or normalised values, but KL/Poisson models (loss='kl') expect raw "
             "mutation counts. Use the raw counts if you have them; if the file holds "
             "signatures, pass kind='signatures'", DataWarning)
