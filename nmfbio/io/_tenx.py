"""Readers for 10x Genomics count matrices (Cell Ranger HDF5 and Matrix Market folders).

Private helpers of :mod:`nmfbio.io.expression`: they return the matrix as stored (cells ×
features CSR, integer or float values, never densified) with the barcodes and the feature
table; the public reader checks the counts and builds the AnnData.

Layouts
-------
HDF5, Cell Ranger 3 and later
    Group ``matrix`` with ``data``, ``indices``, ``indptr``, ``shape`` (= genes, cells),
    ``barcodes`` and ``features/{id, name, feature_type, genome}``.
HDF5, Cell Ranger 2
    One group per genome (e.g. ``GRCh38``) with ``data``, ``indices``, ``indptr``, ``shape``,
    ``barcodes``, ``genes`` (ids) and ``gene_names``.
Matrix Market folder
    ``matrix.mtx(.gz)`` (genes × cells), ``features.tsv(.gz)`` (id, name, type; Cell Ranger 3)
    or ``genes.tsv(.gz)`` (id, name; Cell Ranger 2) and ``barcodes.tsv(.gz)``, all without a
    header. A common prefix (``GSM123_matrix.mtx.gz``, as GEO serves them) is accepted.

10x stores genes × cells in compressed sparse *columns*: the same three arrays read as
compressed sparse *rows* are cells × genes, so no data is copied or transposed.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import scipy.io
import scipy.sparse as sp

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, is_gzip, open_text

__all__ = ["TenxData", "sniff_h5", "read_10x_h5", "read_10x_mtx", "MTX_SUFFIXES"]

log = logging.getLogger(__name__)

GENE_EXPRESSION = "Gene Expression"
MTX_SUFFIXES = ("matrix.mtx.gz", "matrix.mtx")
_FEATURE_FILES = ("features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv")
_BARCODE_FILES = ("barcodes.tsv.gz", "barcodes.tsv")
_SHOW = 5


def _show(items, n=_SHOW) -> str:
    items = list(items)
    text = ", ".join(repr(str(x)) for x in items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")


@dataclass
class TenxData:
    """A 10x matrix as stored: ``X`` is cells × features (CSR), names as string arrays."""

    X: sp.csr_matrix
    barcodes: np.ndarray
    ids: np.ndarray
    names: np.ndarray
    types: np.ndarray
    genomes: np.ndarray | None = None
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- HDF5
def sniff_h5(path: Path) -> str:
    """``"v3"``, ``"v2"`` or ``"anndata"``: the layout of an HDF5 file, else FormatError."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise FormatError(f"not a readable HDF5 file ({exc}); expected a 10x Genomics .h5 "
                          "file (Cell Ranger's filtered_feature_bc_matrix.h5)", path) from None
    with f:
        if f.attrs.get("encoding-type") in ("anndata", b"anndata") or {"X", "obs", "var"} <= set(f):
            return "anndata"
        if "matrix" in f and isinstance(f["matrix"], h5py.Group):
            return "v3"
        groups = [k for k in f if isinstance(f[k], h5py.Group)]
        if groups and all("genes" in f[k] and "indptr" in f[k] for k in groups):
            return "v2"
        raise FormatError(
            f"an HDF5 file but not in a 10x Genomics layout (top-level members: "
            f"{_show(f)}); expected a group 'matrix' with data, indices, indptr, shape, "
            "barcodes and features (Cell Ranger 3+) or one group per genome with genes and "
            "gene_names (Cell Ranger 2). AnnData files should end in .h5ad", path)


def _strings(ds) -> np.ndarray:
    """A dataset of byte or text strings as an object array of ``str``."""
    return np.asarray(ds.asstr()[()], dtype=object)


def _need(group, names, path, where):
    missing = [n for n in names if n not in group]
    if missing:
        raise FormatError(f"the 10x group {where!r} lacks {_show(missing)} (it holds "
                          f"{_show(group)})", path)


def _csr(group, path, where) -> sp.csr_matrix:
    """The cells × features CSR from a 10x group holding genes × cells CSC arrays."""
    n_features, n_cells = (int(v) for v in group["shape"][()])
    data, indices, indptr = group["data"][()], group["indices"][()], group["indptr"][()]
    if len(indptr) != n_cells + 1 or len(indices) != len(data) or indptr[-1] != len(data):
        raise FormatError(
            f"inconsistent sparse arrays in {where!r}: shape says {n_features} features × "
            f"{n_cells} cells, so indptr should have {n_cells + 1} entries (it has "
            f"{len(indptr)}) ending at len(data) = {len(data)} (it ends at {indptr[-1]}), and "
            f"indices ({len(indices)}) should be as long as data", path)
    try:
        X = sp.csr_matrix((data, indices, indptr), shape=(n_cells, n_features), copy=False)
        X.check_format(full_check=True)
    except ValueError as exc:
        raise FormatError(f"invalid sparse matrix in {where!r} ({exc})", path) from None
    return X


def _check_length(path, where, name, n, expected, what):
    if n != expected:
        raise FormatError(f"{where}/{name} has {n} entries but the matrix has {expected} "
                          f"{what} (shape in {where}/shape)", path)


def read_10x_h5(path: Path, *, genome: str | None, feature_types) -> TenxData:
    """Read a Cell Ranger HDF5 file (layout from :func:`sniff_h5`), keeping ``feature_types``."""
    layout = sniff_h5(path)
    with h5py.File(path, "r") as f:
        if layout == "v3":
            g = f["matrix"]
            _need(g, ("data", "indices", "indptr", "shape", "barcodes", "features"), path,
                  "matrix")
            _need(g["features"], ("id", "name"), path, "matrix/features")
            X = _csr(g, path, "matrix")
            feats = g["features"]
            ids, names = _strings(feats["id"]), _strings(feats["name"])
            types = (_strings(feats["feature_type"]) if "feature_type" in feats
                     else np.full(len(ids), GENE_EXPRESSION, dtype=object))
            genomes = _strings(feats["genome"]) if "genome" in feats else None
            barcodes = _strings(g["barcodes"])
            where = "matrix"
            info = {"layout": "cellranger_v3"}
            if "chemistry_description" in f.attrs:
                value = f.attrs["chemistry_description"]
                info["chemistry"] = value.decode() if isinstance(value, bytes) else str(value)
        else:
            groups = [k for k in f if isinstance(f[k], h5py.Group)]
            if genome is None and len(groups) > 1:
                raise NMFInputError(f"{path} holds {len(groups)} genomes {groups}; pass "
                                    "genome= one of them")
            if genome is not None and genome not in groups:
                raise NMFInputError(f"genome {genome!r} not found in {path}; available: "
                                    f"{groups}")
            where = genome if genome is not None else groups[0]
            g = f[where]
            _need(g, ("data", "indices", "indptr", "shape", "barcodes", "genes", "gene_names"),
                  path, where)
            X = _csr(g, path, where)
            ids, names = _strings(g["genes"]), _strings(g["gene_names"])
            types = np.full(len(ids), GENE_EXPRESSION, dtype=object)
            genomes = np.full(len(ids), where, dtype=object)
            barcodes = _strings(g["barcodes"])
            info = {"layout": "cellranger_v2"}
            genome = None  # the group is the genome; nothing left to select
        n_cells, n_features = X.shape
        _check_length(path, where, "barcodes", len(barcodes), n_cells, "cells (columns)")
        feature_where = f"{where}/features" if layout == "v3" else where
        for name, arr in (("id" if layout == "v3" else "genes", ids),
                          ("name" if layout == "v3" else "gene_names", names),
                          ("feature_type", types), ("genome", genomes)):
            if arr is not None:
                _check_length(path, feature_where, name, len(arr), n_features,
                              "features (rows)")
    data = TenxData(X, barcodes, ids, names, types, genomes, info)
    return _select(data, path, feature_types=feature_types, genome=genome)


# --------------------------------------------------------------------------- Matrix Market
def _members(path: Path) -> tuple[Path, Path, Path]:
    """The matrix, features/genes and barcodes files for a folder or a matrix file."""
    if path.is_dir():
        folder = path
        found = sorted(p.name for p in folder.iterdir()
                       if p.is_file() and p.name.lower().endswith(MTX_SUFFIXES))
        prefixes = sorted({_strip(name, MTX_SUFFIXES) for name in found})
        if not found:
            raise FileNotFoundError(
                f"{folder}: no matrix.mtx.gz (or matrix.mtx) in this folder; a 10x Matrix "
                "Market folder holds matrix.mtx(.gz), features.tsv(.gz) (or genes.tsv(.gz)) "
                f"and barcodes.tsv(.gz) (found: {_show(p.name for p in folder.iterdir())})")
        if len(prefixes) > 1:
            raise FormatError(f"several matrices in this folder ({_show(found)}); pass the "
                              "path of the matrix file to read", folder)
        prefix = prefixes[0]
        matrix = next(folder / (prefix + s) for s in MTX_SUFFIXES
                      if (folder / (prefix + s)).is_file())
    else:
        folder, matrix = path.parent, path
        prefix = _strip(path.name, MTX_SUFFIXES)
    found = {}
    for key, candidates in (("features", _FEATURE_FILES), ("barcodes", _BARCODE_FILES)):
        hit = next((folder / (prefix + c) for c in candidates
                    if (folder / (prefix + c)).is_file()), None)
        if hit is None:
            names = " or ".join(prefix + c for c in candidates)
            raise FileNotFoundError(
                f"{folder}: missing {prefix + candidates[0]} (looked for {names}) next to "
                f"{matrix.name}; a 10x Matrix Market folder holds matrix.mtx(.gz), "
                "features.tsv(.gz) (or genes.tsv(.gz)) and barcodes.tsv(.gz). A bare Matrix "
                "Market file without them can be read with nmfbio.io.read_matrix")
        found[key] = hit
    return matrix, found["features"], found["barcodes"]


def _strip(name: str, suffixes) -> str:
    """The prefix before ``matrix.mtx(.gz)``; "" for other names (``counts.mtx``)."""
    lower = name.lower()
    for s in suffixes:
        if lower.endswith(s):
            return name[: len(name) - len(s)]
    return ""


def _table(path: Path, what: str) -> tuple[list[list[str]], int]:
    """Tab-separated lines without a header: the rows and the number of fields per row."""
    check_input_file(path, what)
    try:
        with open_text(path) as f:
            text = f.read()
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable UTF-8 text file ({exc}); expected {what}",
                          path) from None
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise FormatError(f"the file is empty; expected {what}", path)
    rows = [line.rstrip("\r").split("\t") for line in lines]
    n = len(rows[0])
    for number, row in enumerate(rows, 1):
        if not row[0].strip():
            raise FormatError(f"empty line or empty first field; expected {what}", path,
                              number)
        if len(row) != n:
            raise FormatError(f"expected {n} tab-separated fields like line 1, found "
                              f"{len(row)}", path, number)
    return rows, n


def _mtx_header(path: Path) -> tuple[int, int, str, str]:
    """Rows, columns, format and field of a Matrix Market file, from its first lines.

    (Parsed here rather than with ``scipy.io.mminfo``, whose stream reader can abort the
    interpreter when it is closed after the header.)
    """
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="ascii", errors="replace") as f:
            banner = f.readline().split()
            if len(banner) != 5 or banner[0].lower() != "%%matrixmarket":
                raise FormatError("expected the Matrix Market banner '%%MatrixMarket matrix "
                                  "coordinate integer general'", path, 1)
            fmt, field = banner[2].lower(), banner[3].lower()
            for number, line in enumerate(f, 2):
                if line.strip() and not line.startswith("%"):
                    sizes = line.split()
                    if len(sizes) not in (2, 3) or not all(v.isdigit() for v in sizes):
                        raise FormatError(f"expected the sizes 'rows columns entries', found "
                                          f"{line.strip()[:40]!r}", path, number)
                    return int(sizes[0]), int(sizes[1]), fmt, field
    except (OSError, EOFError) as exc:
        raise FormatError(f"not a readable Matrix Market file ({exc})", path) from None
    raise FormatError("no size line after the Matrix Market banner", path)


def _mmread(path: Path):
    """``scipy.io.mmread`` of a plain or gzipped file (detected from the content)."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as f:
                return scipy.io.mmread(f)
        if path.name.lower().endswith((".gz", ".bz2")):  # misnamed: not compressed
            with open(path, "rb") as f:
                return scipy.io.mmread(f)
        return scipy.io.mmread(str(path))
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"not a readable Matrix Market file ({exc})", path) from None


def read_10x_mtx(path: Path, *, feature_types) -> TenxData:
    """Read a 10x Matrix Market folder (or its matrix file), keeping ``feature_types``."""
    matrix, features_path, barcodes_path = _members(path)
    check_input_file(matrix, "a Matrix Market file (10x matrix.mtx)")
    n_rows, n_cols, fmt, value_field = _mtx_header(matrix)
    if value_field not in ("integer", "real", "double", "pattern"):
        raise FormatError(f"{value_field} values; expected integer counts", matrix, 1)
    feature_rows, n_fields = _table(features_path, "one line per gene (id, name, type)")
    barcodes = np.array([row[0] for row in _table(barcodes_path, "one barcode per line")[0]],
                        dtype=object)
    n_genes, n_cells = len(feature_rows), len(barcodes)
    transposed = _orientation(matrix, features_path, barcodes_path, (n_rows, n_cols),
                              n_genes, n_cells)
    M = _mmread(matrix)
    if M.shape != (n_rows, n_cols):  # pragma: no cover - scipy reads the same header
        raise FormatError(f"read a {M.shape} matrix, header says {(n_rows, n_cols)}", matrix)
    X = sp.csr_matrix(M if transposed else M.T)  # cells × genes
    ids = np.array([row[0] for row in feature_rows], dtype=object)
    names = np.array([row[1] if n_fields > 1 else row[0] for row in feature_rows], dtype=object)
    types = np.array([row[2] if n_fields > 2 else GENE_EXPRESSION for row in feature_rows],
                     dtype=object)
    info = {"layout": "cellranger_v3" if n_fields > 2 else "cellranger_v2",
            "files": [str(matrix), str(features_path), str(barcodes_path)],
            "transposed": bool(transposed), "mtx_format": f"{fmt} {value_field}"}
    return _select(TenxData(X, barcodes, ids, names, types, None, info), matrix,
                   feature_types=feature_types, genome=None)


def _orientation(matrix, features_path, barcodes_path, shape, n_genes, n_cells) -> bool:
    """Whether the matrix is cells × genes (transposed); FormatError if the sizes disagree."""
    n_rows, n_cols = shape
    if (n_rows, n_cols) == (n_genes, n_cells):
        return False
    if (n_rows, n_cols) == (n_cells, n_genes):
        warn(f"{matrix}: the matrix is {n_rows} × {n_cols}, i.e. cells × genes ({n_cells} "
             f"lines in {barcodes_path.name}, {n_genes} in {features_path.name}), the "
             "transpose of the 10x layout (genes × cells); read as cells × genes",
             DataWarning)
        return True
    problems = []
    if n_genes not in (n_rows, n_cols):
        problems.append(f"{features_path.name} has {n_genes} lines but the matrix has "
                        f"{n_rows} rows (genes)")
    if n_cells not in (n_rows, n_cols):
        problems.append(f"{barcodes_path.name} has {n_cells} lines but the matrix has "
                        f"{n_cols} columns (cells)")
    if not problems:  # each size appears, but not in either consistent orientation
        problems.append(f"{features_path.name} has {n_genes} lines and {barcodes_path.name} "
                        f"{n_cells}, which fit neither genes × cells nor cells × genes")
    raise FormatError(f"the matrix is {n_rows} × {n_cols} but {'; '.join(problems)}. The "
                      "files must come from the same run, with one line per matrix row "
                      "(gene) and column (cell)", matrix)


# --------------------------------------------------------------------------- selection
def _select(data: TenxData, path, *, feature_types, genome) -> TenxData:
    """Keep the features of the requested types (and genome, for Cell Ranger 3 HDF5)."""
    keep = np.ones(len(data.ids), dtype=bool)
    found_types = sorted(set(data.types))
    if feature_types is not None:
        wanted = [feature_types] if isinstance(feature_types, str) else list(feature_types)
        keep &= np.isin(data.types, wanted)
        if not keep.any():
            raise NMFInputError(f"no features of type {_show(wanted)} in {path} (it holds "
                                f"{_show(found_types)}); pass feature_types= one of these, "
                                "or None to keep all")
    if genome is not None:
        if data.genomes is None:
            raise NMFInputError(f"genome={genome!r}, but {path} records no genome per feature")
        found = sorted(set(data.genomes))
        if genome not in found:
            raise NMFInputError(f"genome {genome!r} not found in {path}; available: {found}")
        keep &= data.genomes == genome
    data.info["feature_types"] = sorted(set(data.types[keep]))
    data.info["n_features_dropped"] = int((~keep).sum())
    if keep.all():
        return data
    dropped = sorted(set(data.types[~keep]))
    log.info("%s: kept %d of %d features (dropped types: %s)", path, keep.sum(), keep.size,
             ", ".join(dropped))
    data.X = data.X[:, keep]
    data.ids, data.names, data.types = data.ids[keep], data.names[keep], data.types[keep]
    if data.genomes is not None:
        data.genomes = data.genomes[keep]
    return data
