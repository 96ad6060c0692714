"""Tests of ``nmfbio.io.read_matrix``: every format round-trips with its orientation and
names, and malformed files raise FormatError naming the file, line and column."""

from __future__ import annotations

import gzip
import re

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io import SUPPORTED_EXTENSIONS, read_matrix

FEATURES = [f"g{i}" for i in range(4)]
SAMPLES = [f"s{j}" for j in range(5)]


@pytest.fixture
def M():
    """A features × samples matrix (4 × 5) with distinct entries."""
    return np.arange(1.0, 21.0).reshape(4, 5) * 1.5


@pytest.fixture
def frame(M):
    return pd.DataFrame(M, index=FEATURES, columns=SAMPLES)


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _check_default(ad, M, features=FEATURES, samples=SAMPLES):
    """AnnData is samples × features: X = M.T, obs = samples, var = features."""
    assert isinstance(ad, anndata.AnnData)
    assert ad.shape == (M.shape[1], M.shape[0])
    np.testing.assert_allclose(_dense(ad.X), M.T)
    assert list(ad.obs_names) == samples
    assert list(ad.var_names) == features


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name, sep", [
    ("m.csv", ","), ("m.tsv", "\t"), ("m.txt", "\t"), ("m.txt", ","), ("m.txt", " "),
    ("m.csv.gz", ","), ("m.tsv.gz", "\t"),
])
def test_text_round_trip(tmp_path, frame, M, name, sep):
    path = tmp_path / name
    frame.to_csv(path, sep=sep, index_label="gene")
    _check_default(read_matrix(path), M)


@pytest.mark.parametrize("name, sep", [("m.csv", ","), ("m.tsv", "\t")])
def test_text_samples_in_rows(tmp_path, frame, M, name, sep):
    path = tmp_path / name
    frame.T.to_csv(path, sep=sep)  # samples × features
    _check_default(read_matrix(path, samples_in="rows"), M)
    # the same file read the other way round gives the transposed AnnData
    other = read_matrix(path, samples_in="columns")
    assert other.shape == (4, 5)
    np.testing.assert_allclose(other.X, M)
    assert list(other.obs_names) == FEATURES and list(other.var_names) == SAMPLES


def test_text_header_without_row_name_cell(tmp_path, M):
    """R's write.table leaves out the header cell above the row names (and quotes names)."""
    path = tmp_path / "r.txt"
    lines = [" ".join(f'"{s}"' for s in SAMPLES)]
    lines += [f'"{g}" ' + " ".join(str(float(v)) for v in row)
              for g, row in zip(FEATURES, M, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    _check_default(read_matrix(path), M)


def test_text_names_kept_as_strings(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,007,1.50\n001,1,2\n002,3,4\n")
    ad = read_matrix(path)
    assert list(ad.var_names) == ["001", "002"]
    assert list(ad.obs_names) == ["007", "1.50"]


def test_text_blank_lines_and_crlf(tmp_path, M):
    path = tmp_path / "m.csv"
    rows = ["gene," + ",".join(SAMPLES)]
    rows += [g + "," + ",".join(str(v) for v in row) for g, row in zip(FEATURES, M, strict=True)]
    path.write_bytes(("\r\n".join(rows[:3]) + "\r\n\r\n" + "\r\n".join(rows[3:])).encode())
    _check_default(read_matrix(path), M)


def test_text_na_strings_become_nan(tmp_path):
    """NA/NaN are the solver's business: read as NaN, not a format error."""
    path = tmp_path / "m.csv"
    path.write_text("gene,s1,s2\ng1,1,NA\ng2,nan,4\n")
    X = read_matrix(path).X
    assert np.isnan(X).sum() == 2 and X[0, 0] == 1.0


@pytest.mark.parametrize("samples_in", ["columns", "rows"])
def test_npy_round_trip(tmp_path, M, samples_in):
    path = tmp_path / "m.npy"
    np.save(path, M)
    ad = read_matrix(path, samples_in=samples_in)
    if samples_in == "columns":
        _check_default(ad, M, [f"feature{i}" for i in range(4)],
                       [f"sample{j}" for j in range(5)])
    else:
        assert ad.shape == M.shape
        np.testing.assert_allclose(ad.X, M)
        assert list(ad.obs_names) == [f"sample{i}" for i in range(4)]
        assert list(ad.var_names) == [f"feature{j}" for j in range(5)]


def test_npz_single_array(tmp_path, M):
    path = tmp_path / "m.npz"
    np.savez(path, counts=M)
    _check_default(read_matrix(path), M, [f"feature{i}" for i in range(4)],
                   [f"sample{j}" for j in range(5)])


def test_npz_array_named_X(tmp_path, M):
    path = tmp_path / "m.npz"
    np.savez(path, X=M, other=np.zeros(3))
    np.testing.assert_allclose(read_matrix(path, samples_in="rows").X, M)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_npz_sparse_stays_sparse(tmp_path, M, fmt):
    S = sp.random(6, 9, density=0.3, format=fmt, random_state=0) * 10
    path = tmp_path / "m.npz"
    sp.save_npz(path, S)
    ad = read_matrix(path)
    assert sp.issparse(ad.X) and ad.X.format == "csr"
    assert ad.shape == (9, 6)
    np.testing.assert_allclose(ad.X.toarray(), S.toarray().T)
    ad_rows = read_matrix(path, samples_in="rows")
    assert ad_rows.X.format == "csr"
    np.testing.assert_allclose(ad_rows.X.toarray(), S.toarray())


@pytest.mark.parametrize("name", ["m.mtx", "m.mtx.gz"])
def test_mtx_round_trip(tmp_path, name):
    S = sp.random(7, 5, density=0.4, format="csr", random_state=1) * 5
    plain = tmp_path / "plain.mtx"
    scipy.io.mmwrite(plain, S)
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(plain.read_bytes())
    else:
        path = plain
    ad = read_matrix(path)  # genes × cells on disk, like 10x
    assert sp.issparse(ad.X) and ad.X.format == "csr"
    assert ad.shape == (5, 7)
    np.testing.assert_allclose(ad.X.toarray(), S.toarray().T)
    assert ad.obs_names[0] == "sample0" and ad.var_names[-1] == "feature6"
    np.testing.assert_allclose(read_matrix(path, samples_in="rows").X.toarray(), S.toarray())


def test_h5ad_orientation_and_layer(tmp_path, M):
    ad = anndata.AnnData(M.T.copy(), obs=pd.DataFrame(index=SAMPLES),
                         var=pd.DataFrame(index=FEATURES))
    ad.layers["counts"] = 2 * M.T
    path = tmp_path / "m.h5ad"
    ad.write_h5ad(path)
    _check_default(read_matrix(path), M)
    _check_default(read_matrix(path, samples_in="rows"), M)  # ignored for h5ad
    with_layer = read_matrix(path, layer="counts")
    np.testing.assert_allclose(with_layer.X, 2 * M.T)
    with pytest.raises(NMFInputError, match=r"layer 'nope' not found.*available: \['counts'\]"):
        read_matrix(path, layer="nope")


def test_reading_never_modifies_the_file(tmp_path, frame):
    path = tmp_path / "m.csv"
    frame.to_csv(path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_matrix(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --------------------------------------------------------------------------- errors
def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_non_numeric_cell_names_file_line_and_column(tmp_path):
    path = _write(tmp_path, "bad.csv", "gene,s1,s2,s3\ng1,1,2,3\ng2,4,x,6\n")
    with pytest.raises(FormatError,
                       match=re.escape(f"{path}, line 3, column s2: 'x' is not a number")) as e:
        read_matrix(path)
    assert (e.value.line, e.value.column) == (3, "s2")


def test_non_numeric_cell_in_tsv(tmp_path):
    path = _write(tmp_path, "bad.tsv", "gene\ts1\ts2\ng1\t1\t2\ng2\t3\t4\ng3\tfive\t6\n")
    with pytest.raises(FormatError, match=r"bad\.tsv, line 4, column s1: 'five' is not a num"):
        read_matrix(path)


def test_empty_cell_names_line_and_column(tmp_path):
    path = _write(tmp_path, "gap.csv", "gene,s1,s2,s3\ng1,1,2,3\ng2,4,5,\n")
    with pytest.raises(FormatError, match=r"gap\.csv, line 3, column s3: empty cell") as e:
        read_matrix(path)
    assert e.value.path == path


@pytest.mark.parametrize("body, line, found", [
    ("g1,1,2\ng2,3,4,5\ng3,1,1\n", 3, 4),  # a row too long
    ("g1,1,2\ng2,3,4\ng3,1\n", 4, 2),      # a row too short
])
def test_ragged_rows(tmp_path, body, line, found):
    path = _write(tmp_path, "ragged.csv", "gene,s1,s2\n" + body)
    with pytest.raises(FormatError, match=rf"ragged\.csv, line {line}: expected 3 fields .*"
                                          rf"found {found}"):
        read_matrix(path)


def test_first_row_disagreeing_with_header(tmp_path):
    path = _write(tmp_path, "ragged.csv", "gene,s1,s2,s3\ng1,1\n")
    with pytest.raises(FormatError, match=r"line 2: expected 4 fields like the header"):
        read_matrix(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path, "empty.csv", text)
    with pytest.raises(FormatError, match=r"empty\.csv: the file is empty"):
        read_matrix(path)


@pytest.mark.parametrize("name", ["empty.npy", "empty.mtx", "empty.h5ad"])
def test_empty_binary_file(tmp_path, name):
    path = _write(tmp_path, name, "")
    with pytest.raises(FormatError, match="the file is empty"):
        read_matrix(path)


def test_header_only(tmp_path):
    path = _write(tmp_path, "head.csv", "gene,s1,s2\n")
    with pytest.raises(FormatError, match=r"line 1: a header line but no data rows"):
        read_matrix(path)


def test_headerless_numeric_text(tmp_path, M):
    path = tmp_path / "bare.csv"
    np.savetxt(path, M, delimiter=",")
    with pytest.raises(FormatError, match=r"line 1: this line is numbers, not a header"):
        read_matrix(path)


def test_unknown_extension_lists_supported(tmp_path):
    path = _write(tmp_path, "m.xlsx", "whatever")
    with pytest.raises(FormatError, match=r"unknown file extension '\.xlsx'; supported: "
                                          r"\.h5ad, \.csv, .*\.mtx\.gz"):
        read_matrix(path)
    assert ".mtx.gz" in SUPPORTED_EXTENSIONS


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no such file: {path}")):
        read_matrix(path)


def test_directory(tmp_path):
    with pytest.raises(FormatError, match="is a directory"):
        read_matrix(tmp_path)


@pytest.mark.parametrize("name", ["junk.npy", "junk.npz", "junk.mtx", "junk.h5ad"])
def test_corrupt_binary(tmp_path, name):
    path = _write(tmp_path, name, "this is not a matrix\n")
    with pytest.raises(FormatError, match=re.escape(str(path)) + ": not a readable"):
        read_matrix(path)


def test_npy_not_2d(tmp_path):
    path = tmp_path / "v.npy"
    np.save(path, np.arange(4.0))
    with pytest.raises(FormatError, match=r"expected a 2-D matrix, got an array of shape \(4,\)"):
        read_matrix(path)


def test_npz_ambiguous_archive(tmp_path, M):
    path = tmp_path / "two.npz"
    np.savez(path, a=M, b=M)
    with pytest.raises(FormatError, match=r"holds 2 arrays \['a', 'b'\]"):
        read_matrix(path)


def test_bad_arguments(tmp_path, frame):
    path = tmp_path / "m.csv"
    frame.to_csv(path)
    with pytest.raises(NMFInputError, match=r"samples_in must be one of \['columns', 'rows'\]"):
        read_matrix(path, samples_in="cols")
    with pytest.raises(NMFInputError, match=r"layer='counts' applies only to \.h5ad"):
        read_matrix(path, layer="counts")
