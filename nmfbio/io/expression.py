"""Gene-expression counts (single-cell or bulk RNA-seq) as AnnData: :func:`read_expression`.

Every format gives the same AnnData: obs = cells (or samples), var = genes, ``X`` = the raw
counts and ``layers["counts"]`` = the **same object** (no copy; see the note below), and
``uns["expression"]`` describing the source. Formats, chosen by the path:

``.h5ad``
    AnnData. The counts are ``layers["counts"]`` when the file has that layer (the file's
    ``X``, often log-normalised, is then kept as ``layers["X_original"]``), else ``X``.
    Everything else in the file (obs, var, obsm, raw …) is kept.
``.h5`` / ``.hdf5``
    10x Genomics Cell Ranger HDF5 (``filtered_feature_bc_matrix.h5``), Cell Ranger 3+
    (group ``matrix``) or Cell Ranger 2 (one group per genome) layout. An AnnData file with
    this extension is read as ``.h5ad``.
a folder, or its ``matrix.mtx(.gz)``
    10x Matrix Market: ``matrix.mtx(.gz)`` (genes × cells), ``features.tsv(.gz)`` (id, name,
    type) or ``genes.tsv(.gz)`` (id, name) and ``barcodes.tsv(.gz)``; a shared file prefix
    (``GSM1_matrix.mtx.gz``, as on GEO) is accepted.
``.csv`` / ``.tsv`` / ``.txt`` (each optionally ``.gz``)
    A table with a header line and a first column of names (as ``pandas.DataFrame.to_csv``
    writes it; parsed by :func:`nmfbio.io.read_matrix`). The orientation cannot be guessed
    reliably, so ``samples_in="rows"`` or ``"columns"`` is **required**.

10x files keep only "Gene Expression" features by default (``feature_types=``), use the
gene symbols as ``var_names`` (``var_names="gene_ids"`` for Ensembl ids) and record
``var["gene_ids"]``, ``var["gene_symbols"]``, ``var["feature_types"]`` (and
``var["genome"]`` from Cell Ranger HDF5).

Values: sparse matrices stay sparse (CSR, cells × genes; 10x's genes × cells CSC arrays are
exactly that, so they are not copied) and are never densified; dense tables stay dense.
Integer counts become float32 (exact up to 2**24; float64 if any count is larger); float
values keep their dtype.

Policies (checked on the counts, in this order):

* missing or infinite values → :class:`~nmfbio.errors.NMFInputError`;
* negative values → ``NMFInputError``: the data look scaled or centred, pass raw counts;
* values that are not whole numbers → ``NMFInputError`` by default: the data look
  normalised or log-transformed, and gene programs are fitted to counts with a count
  likelihood. ``allow_noninteger=True`` accepts them silently (e.g. expected counts from
  salmon or RSEM) and records ``uns["expression"]["integer"] = False``;
* genes or cells that are zero everywhere → :class:`~nmfbio.errors.DataWarning` with the
  number and examples; they are kept (:mod:`nmfbio.programs` filters them);
* duplicate gene (or cell) names → made unique as anndata's ``var_names_make_unique`` does
  (``-1``, ``-2`` … appended to the repeats) with a ``DataWarning``, or a
  :class:`~nmfbio.errors.FormatError` when ``make_unique=False``.

Malformed files raise ``FormatError`` naming the file (and line): unknown extension, empty
file, features/barcodes line counts that disagree with the matrix (a cells × genes
``matrix.mtx`` whose sizes fit only transposed is read with a ``DataWarning`` saying so);
a missing folder member is a ``FileNotFoundError`` naming it. Files are only ever read.

Note: ``X`` and ``layers["counts"]`` are one object, to keep memory at one copy of the
counts. Functions that modify ``X`` in place (``scanpy.pp.normalize_total``, ``log1p``)
would change the counts too: do ``adata.X = adata.X.copy()`` before such steps.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._tenx import TenxData, read_10x_h5, read_10x_mtx, sniff_h5
from nmfbio.io._textfile import check_input_file
from nmfbio.io.matrix import _read_text

__all__ = ["read_expression", "EXPRESSION_FORMATS", "VAR_NAMES"]

#: Extensions (case-insensitive) and the reader for each; folders are 10x Matrix Market.
EXPRESSION_FORMATS = {
    ".h5ad": "h5ad", ".h5": "10x_h5", ".hdf5": "10x_h5",
    ".mtx": "10x_mtx", ".mtx.gz": "10x_mtx",
    ".csv": "text", ".tsv": "text", ".txt": "text",
    ".csv.gz": "text", ".tsv.gz": "text", ".txt.gz": "text",
}
VAR_NAMES = ("gene_symbols", "gene_ids")
_SAMPLES_IN = ("rows", "columns")
_FLOAT32_EXACT = 2**24  # largest integer count float32 holds exactly
_CHUNK = 1 << 24  # values checked at a time, to bound the temporaries on big matrices
_SHOW = 5
_CELLS, _SAMPLES, _CELLS_OR_SAMPLES = ("cell", "cells"), ("sample", "samples"), ("cell/sample",
                                                                                "cells/samples")
_RAW_HINT = ("pass the raw (integer) counts instead, e.g. an AnnData whose layers['counts'] "
             "or X holds them (adata.layers['counts'], or adata.raw.to_adata() if adata.raw "
             "holds counts), or Cell Ranger's filtered_feature_bc_matrix")


def read_expression(path: str | os.PathLike, *, samples_in: str | None = None,
                    genome: str | None = None, var_names: str = "gene_symbols",
                    make_unique: bool = True, feature_types="Gene Expression",
                    allow_noninteger: bool = False) -> anndata.AnnData:
    """Read gene-expression counts into an AnnData of shape (n_cells, n_genes).

    Parameters
    ----------
    path : path-like
        A ``.h5ad`` file, a 10x Genomics ``.h5`` file, a 10x Matrix Market folder (or its
        ``matrix.mtx(.gz)``), or a ``.csv``/``.tsv``/``.txt`` table (optionally gzipped).
        See the module documentation for each format.
    samples_in : {"rows", "columns"}, optional
        Required for text tables, where the cells or samples are: ``"rows"`` (one line per
        cell, genes across the header) or ``"columns"`` (genes down the first column, as
        bulk RNA-seq count tables usually are). Not allowed for the other formats, whose
        orientation is fixed.
    genome : str, optional
        10x HDF5 only: keep this genome's features (Cell Ranger 3+, e.g. one species of a
        barnyard experiment) or read this genome's group (Cell Ranger 2, required when the
        file holds several).
    var_names : {"gene_symbols", "gene_ids"}, default "gene_symbols"
        What names the genes: symbols, or the (unique) Ensembl ids. For ``.h5ad``,
        ``"gene_ids"`` uses ``var["gene_ids"]``; text tables have only their own names.
    make_unique : bool, default True
        Make duplicate gene or cell names unique (``-1``, ``-2`` … appended, with a
        DataWarning); if False, duplicates are a FormatError.
    feature_types : str or list of str or None, default "Gene Expression"
        10x only: the feature types kept (``None`` keeps all, e.g. "Antibody Capture").
    allow_noninteger : bool, default False
        Accept counts that are not whole numbers (estimated counts, ambient-corrected
        counts). By default they are an error, as they usually mean normalised data.

    Returns
    -------
    anndata.AnnData
        ``X``: counts, float32 or float64, CSR for sparse sources, dense otherwise;
        ``layers["counts"]``: the same object; ``uns["expression"]``: ``{"format",
        "path", "counts_from", "integer", ...}`` plus the layout and kept feature types
        for 10x files.

    Raises
    ------
    FileNotFoundError
        The path, or a member of a 10x folder, does not exist (the message names it).
    nmfbio.errors.FormatError
        Unknown extension, empty or malformed file, features/barcodes files that do not
        match the matrix, duplicate names with ``make_unique=False``.
    nmfbio.errors.NMFInputError
        Bad arguments (``samples_in`` missing for a text table …), or values that are not
        counts: missing, negative (scaled data) or fractional (normalised data).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "counts.csv"
    >>> _ = p.write_text("gene,s1,s2,s3\\nACTB,10,0,3\\nGAPDH,4,5,1\\n")
    >>> ad = read_expression(p, samples_in="columns")
    >>> ad.shape, list(ad.var_names), ad.layers["counts"] is ad.X
    ((3, 2), ['ACTB', 'GAPDH'], True)
    """
    if var_names not in VAR_NAMES:
        raise NMFInputError(f"var_names must be one of {list(VAR_NAMES)}, got {var_names!r}")
    if samples_in is not None and samples_in not in _SAMPLES_IN:
        raise NMFInputError(f"samples_in must be one of {list(_SAMPLES_IN)}, got "
                            f"{samples_in!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    kind = "10x_mtx" if path.is_dir() else _kind(path)
    if kind is None:
        raise FormatError(f"unknown file extension {''.join(path.suffixes[-2:]) or '(none)'!r}"
                          f"; supported: {', '.join(EXPRESSION_FORMATS)}, or a 10x Matrix "
                          "Market folder", path)
    if kind == "text" and samples_in is None:
        raise NMFInputError(
            f"samples_in is required for text tables ({path.name}): pass samples_in='rows' "
            "if each row is a cell or sample (genes across the header), or "
            "samples_in='columns' if each column is one (genes down the first column)")
    if kind != "text" and samples_in is not None:
        raise NMFInputError(f"samples_in applies only to text tables; {path.name} is "
                            f"{kind.replace('_', ' ')}, whose orientation is fixed: leave it "
                            "out")
    if path.is_file():
        check_input_file(path, f"a {kind.replace('_', ' ')} file")
    if kind == "10x_h5" and sniff_h5(path) == "anndata":
        kind = "h5ad"
    if genome is not None and kind != "10x_h5":
        raise NMFInputError(f"genome= applies only to 10x HDF5 files, not to {path.name}")

    if kind == "h5ad":
        return _from_h5ad(path, var_names, make_unique, allow_noninteger)
    if kind == "text":
        return _from_text(path, samples_in, var_names, make_unique, allow_noninteger)
    if kind == "10x_h5":
        data = read_10x_h5(path, genome=genome, feature_types=feature_types)
    else:
        data = read_10x_mtx(path, feature_types=feature_types)
    return _from_tenx(data, path, kind, var_names, make_unique, allow_noninteger)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for ext in sorted(EXPRESSION_FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return EXPRESSION_FORMATS[ext]
    return None


# --------------------------------------------------------------------------- readers
def _from_tenx(data: TenxData, path, kind, var_names, make_unique, allow_noninteger):
    X = _as_float(data.X)
    names = data.names if var_names == "gene_symbols" else data.ids
    info = {"format": kind, "path": str(path), "counts_from": "matrix", **data.info}
    integer = _check_counts(X, data.barcodes, names, path, allow_noninteger, _CELLS)
    var = pd.DataFrame({"gene_ids": data.ids, "gene_symbols": data.names,
                        "feature_types": data.types})
    if data.genomes is not None:
        var["genome"] = data.genomes
    var.index = _unique(names, "gene", make_unique, path,
                        "var_names='gene_ids' gives unique Ensembl ids")
    obs = pd.DataFrame(index=_unique(data.barcodes, "barcode", make_unique, path))
    adata = anndata.AnnData(X=X, obs=obs, var=var, layers={"counts": X})
    adata.uns["expression"] = {**info, "integer": integer}
    return adata


def _from_text(path: Path, samples_in, var_names, make_unique, allow_noninteger):
    if var_names != "gene_symbols":
        raise NMFInputError(f"var_names={var_names!r} needs gene ids, which only 10x files "
                            f"and .h5ad files with var['gene_ids'] hold; {path.name} has one "
                            "column of names, used as they are (leave var_names out)")
    ext = next(e for e in sorted(EXPRESSION_FORMATS, key=len, reverse=True)
               if path.name.lower().endswith(e))
    M, row_names, col_names = _read_text(path, ext)
    if samples_in == "rows":
        X, obs_names, genes = M, row_names, col_names
    else:
        X, obs_names, genes = np.ascontiguousarray(M.T), col_names, row_names
    integer = _check_counts(X, obs_names, genes, path, allow_noninteger, _SAMPLES)
    obs = pd.DataFrame(index=_unique(obs_names, "sample", make_unique, path))
    var = pd.DataFrame(index=_unique(genes, "gene", make_unique, path))
    adata = anndata.AnnData(X=X, obs=obs, var=var, layers={"counts": X})
    adata.uns["expression"] = {"format": "text", "path": str(path), "counts_from": "table",
                               "samples_in": samples_in, "integer": integer}
    return adata


def _from_h5ad(path: Path, var_names, make_unique, allow_noninteger):
    try:
        with warnings.catch_warnings():  # duplicates are handled below, by our policy
            warnings.filterwarnings("ignore", r"(Variable|Observation) names are not unique",
                                    UserWarning)
            adata = anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise FormatError(f"not a readable .h5ad file ({type(exc).__name__}: {exc})",
                          path) from None
    if "counts" in adata.layers:
        counts, source = adata.layers["counts"], "layers['counts']"
        if adata.X is not None:
            adata.layers["X_original"] = adata.X
    elif adata.X is not None:
        counts, source = adata.X, "X"
    else:
        raise FormatError("the file has neither X nor layers['counts']; expected raw counts "
                          f"in one of them (layers: {sorted(adata.layers)})", path)
    counts = _as_float(counts)
    hint = ""
    if adata.raw is not None:
        hint = (f" (this file also holds adata.raw with {adata.raw.n_vars} genes; if it holds "
                "counts, save adata.raw.to_adata() and read that)")
    if var_names == "gene_ids":
        if "gene_ids" not in adata.var:
            raise NMFInputError(f"var_names='gene_ids', but {path} has no var['gene_ids'] "
                                f"(var columns: {list(adata.var.columns)}); leave var_names "
                                "out to keep the file's var_names")
        if "gene_symbols" not in adata.var:
            adata.var["gene_symbols"] = adata.var_names.to_numpy()
        genes = adata.var["gene_ids"].astype(str).to_numpy()
    else:
        genes = adata.var_names.to_numpy()
    integer = _check_counts(counts, adata.obs_names.to_numpy(), genes, path,
                            allow_noninteger, _CELLS_OR_SAMPLES, f"from {source}", hint)
    adata.var_names = _unique(genes, "gene", make_unique, path)
    adata.obs_names = _unique(adata.obs_names.to_numpy(), "cell/sample", make_unique, path)
    adata.X = counts
    adata.layers["counts"] = adata.X
    adata.uns["expression"] = {"format": "h5ad", "path": str(path), "counts_from": source,
                               "integer": integer}
    return adata


# --------------------------------------------------------------------------- values
def _as_float(X):
    """Counts as float (integers → float32, or float64 beyond 2**24); sparse → CSR."""
    if sp.issparse(X):
        X = X if isinstance(X, sp.csr_matrix) else sp.csr_matrix(X)
        if X.dtype.kind == "f" and X.dtype.itemsize >= 4:
            return X
        data = X.data.astype(_float_for(X.data), copy=False)
        return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape, copy=False)
    X = np.asarray(X)
    if X.dtype.kind == "f" and X.dtype.itemsize >= 4:
        return X
    return X.astype(_float_for(X))


def _float_for(values) -> type:
    if values.dtype.kind not in "biuf":
        raise NMFInputError(f"expected numeric counts, got dtype {values.dtype}")
    if values.dtype.kind in "iu" and values.size and values.max() > _FLOAT32_EXACT:
        return np.float64
    return np.float32


def _check_counts(X, obs_names, var_names, path, allow_noninteger, obs_word,
                  source: str = "", hint: str = "") -> bool:
    """Raise for missing, negative or (unless allowed) fractional values; warn on zeros.

    Returns whether every value is a whole number.
    """
    values = X.data if sp.issparse(X) else X.reshape(-1)
    first = {"nonfinite": None, "negative": None, "fraction": None}
    n = dict.fromkeys(first, 0)
    lowest = 0.0
    for start in range(0, values.size, _CHUNK):
        v = values[start:start + _CHUNK]
        tests = {"nonfinite": ~np.isfinite(v)}
        finite = np.where(tests["nonfinite"], 0, v)
        tests["negative"] = finite < 0
        tests["fraction"] = np.abs(finite - np.rint(finite)) > 1e-6 * np.maximum(1, finite)
        for key, mask in tests.items():
            count = int(np.count_nonzero(mask))
            if count and first[key] is None:
                first[key] = start + int(np.argmax(mask))
            n[key] += count
        if v.size:
            lowest = min(lowest, float(finite.min()))
    total = values.size
    what = f"the counts {source}".strip()

    def at(key):
        k = first[key]
        if sp.issparse(X):
            i, j = int(np.searchsorted(X.indptr, k, side="right")) - 1, int(X.indices[k])
        else:
            i, j = np.unravel_index(k, X.shape)
        return f"{values[k]:g} at {obs_word[0]} {str(obs_names[i])!r}, gene {str(var_names[j])!r}"

    if n["nonfinite"]:
        raise NMFInputError(
            f"{path}: {what} hold {n['nonfinite']} missing or infinite values (e.g. "
            f"{at('nonfinite')}); counts cannot be missing: write 0 for genes not detected")
    if n["negative"]:
        raise NMFInputError(
            f"{path}: {what} hold {n['negative']} negative values (min {lowest:g}; e.g. "
            f"{at('negative')}): this looks like scaled or centred data (z-scores, "
            "sc.pp.scale, regressed-out values), not counts. NMF needs raw, non-negative "
            f"counts: {_RAW_HINT}{hint}")
    if n["fraction"] and not allow_noninteger:
        raise NMFInputError(
            f"{path}: {n['fraction']} of {total} stored values of {what} are not whole "
            f"numbers (e.g. {at('fraction')}): this looks like log-normalised or normalised "
            "data (sc.pp.normalize_total, log1p, CPM/TPM), not counts. Gene programs are "
            f"fitted to counts: {_RAW_HINT}{hint}. If these are genuine non-integer counts "
            "(e.g. expected counts from salmon or RSEM), pass allow_noninteger=True")
    _warn_all_zero(X, obs_names, var_names, path, obs_word)
    return n["fraction"] == 0


def _warn_all_zero(X, obs_names, var_names, path, obs_word):
    gene_totals = np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
    cell_totals = np.asarray(X.sum(axis=1, dtype=np.float64)).ravel()
    for totals, names, what, other, axis in (
            (gene_totals, var_names, "genes", obs_word[1], "var"),
            (cell_totals, obs_names, obs_word[1], "genes", "obs")):
        empty = np.flatnonzero(totals == 0)
        if empty.size:
            warn(f"{path}: {empty.size} of {totals.size} {what} have no counts (zero in all "
                 f"{other}) and are kept: {_show(names[i] for i in empty)}. They carry no "
                 "information; nmfbio.programs filters them before fitting (or drop them: "
                 f"adata[{'' if axis == 'obs' else ':, '}"
                 f"np.ravel(adata.X.sum(axis={1 if axis == 'obs' else 0})) > 0])",
                 DataWarning)


# --------------------------------------------------------------------------- names
def _show(items, n=_SHOW) -> str:
    items = list(items)
    text = ", ".join(repr(str(x)) for x in items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")


def _unique(names, what: str, make_unique: bool, path, advice: str = "") -> pd.Index:
    """``names`` as an Index, duplicates made unique (with a warning) or refused."""
    index = pd.Index([str(s) for s in names], dtype=object)
    if index.is_unique:
        return index
    repeats = Counter(index[index.duplicated(keep=False)])
    examples = ", ".join(f"{name!r} ×{k}" for name, k in list(repeats.items())[:_SHOW])
    more = f", … ({len(repeats) - _SHOW} more)" if len(repeats) > _SHOW else ""
    summary = (f"{len(repeats)} {what} names occur more than once "
               f"({sum(repeats.values())} {what}s in all: {examples}{more})")
    advice = f"; {advice}" if advice else ""
    if not make_unique:
        raise FormatError(f"{summary}; AnnData needs unique names: pass make_unique=True to "
                          f"append -1, -2, … to the repeats{advice}", path)
    values = index.to_list()
    seen, counter = set(values), Counter()
    renamed = []
    for i in np.flatnonzero(index.duplicated(keep="first")):
        base = values[i]
        while True:  # anndata's make_index_unique: skip names that already exist
            counter[base] += 1
            candidate = f"{base}-{counter[base]}"
            if candidate not in seen:
                break
        seen.add(candidate)
        values[i] = candidate
        renamed.append(candidate)
    warn(f"{path}: {summary}; made unique by appending -1, -2, … to the repeats, as "
         f"anndata's var_names_make_unique does (e.g. {_show(renamed)}){advice}",
         DataWarning)
    return pd.Index(values, dtype=object)
