"""Tests of ``nmfbio.io.read_expression``: real 10x files (HDF5 and Matrix Market) give the
same AnnData, generated h5ad/CSV/10x files round-trip with their orientation and names,
sparse stays sparse, and every kind of bad input raises or warns with a clear message."""

from __future__ import annotations

import gzip
import shutil

import anndata
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from nmfbio import datasets
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io import read_expression

TENX = datasets.DATA_DIR / "tenx_chr21"
GENES = [f"G{i}" for i in range(6)]
CELLS = [f"c{j}" for j in range(5)]


@pytest.fixture
def counts():
    """Cells × genes integer counts (5 × 6), no all-zero row or column."""
    rng = np.random.default_rng(0)
    M = rng.poisson(2.0, size=(5, 6)).astype(np.int64)
    M[:, 0] += 1
    M[0, :] += 1
    return M


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _write_tenx_folder(folder, M, genes, cells, types=None, gz=True, prefix=""):
    """A 10x Matrix Market folder for cells × genes ``M`` (the file is genes × cells)."""
    folder.mkdir(parents=True, exist_ok=True)
    types = types or ["Gene Expression"] * len(genes)
    suffix = ".gz" if gz else ""
    opener = gzip.open if gz else open
    mtx = folder / f"{prefix}matrix.mtx"
    scipy.io.mmwrite(mtx, sp.coo_matrix(np.asarray(M).T), field="integer")
    if gz:
        with open(mtx, "rb") as src, gzip.open(f"{mtx}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        mtx.unlink()
    with opener(folder / f"{prefix}features.tsv{suffix}", "wt") as f:
        f.writelines(f"ENSG{i:05d}\t{g}\t{t}\n"
                     for i, (g, t) in enumerate(zip(genes, types, strict=True)))
    with opener(folder / f"{prefix}barcodes.tsv{suffix}", "wt") as f:
        f.writelines(f"{c}\n" for c in cells)
    return folder


def _write_tenx_h5(path, M, genes, cells, types=None, genomes=None, v2_genomes=None):
    """A Cell Ranger HDF5 file (v3 layout, or v2 with one group per name in v2_genomes)."""
    csc = sp.csr_matrix(np.asarray(M, dtype=np.int32))  # cells × genes CSR == genes × cells CSC
    ids = [f"ENSG{i:05d}" for i in range(len(genes))]
    with h5py.File(path, "w") as f:
        for name in v2_genomes or ["matrix"]:
            g = f.create_group(name)
            g["data"], g["indices"], g["indptr"] = csc.data, csc.indices, csc.indptr
            g["shape"] = np.array([len(genes), len(cells)], dtype=np.int32)
            g["barcodes"] = np.array(cells, dtype="S")
            if v2_genomes:
                g["genes"], g["gene_names"] = np.array(ids, "S"), np.array(genes, "S")
                continue
            feats = g.create_group("features")
            feats["id"], feats["name"] = np.array(ids, "S"), np.array(genes, "S")
            feats["feature_type"] = np.array(types or ["Gene Expression"] * len(genes), "S")
            feats["genome"] = np.array(genomes or ["GRCh38"] * len(genes), "S")
    return path


# --------------------------------------------------------------------------- real 10x data
def test_real_tenx_h5_and_mtx_folder_are_identical():
    h5, mtx = datasets.tenx_chr21("h5"), datasets.tenx_chr21("mtx")
    assert h5.shape == mtx.shape == (1107, 507)
    for ad in (h5, mtx):
        assert isinstance(ad.X, sp.csr_matrix)
        assert ad.X.dtype == np.float32
        assert ad.layers["counts"] is ad.X
        assert ad.uns["expression"]["integer"]
    assert (h5.X != mtx.X).nnz == 0
    assert h5.X.sum() == mtx.X.sum() > 0
    assert list(h5.obs_names) == list(mtx.obs_names)
    assert list(h5.var_names) == list(mtx.var_names)
    cols = ["gene_ids", "gene_symbols", "feature_types"]
    pd.testing.assert_frame_equal(h5.var[cols], mtx.var[cols])
    assert h5.var["gene_ids"].iloc[0] == "ENSG00000279493"
    assert h5.uns["expression"]["format"] == "10x_h5"
    assert mtx.uns["expression"]["format"] == "10x_mtx"


def test_real_tenx_warns_about_genes_without_counts_and_keeps_them():
    with pytest.warns(DataWarning, match=r"306 of 507 genes have no counts .* are kept"):
        ad = read_expression(TENX / "matrix.mtx.gz")  # the matrix file itself
    assert ad.shape == (1107, 507)
    with pytest.warns(DataWarning, match="306 of 507 genes"):
        ids = read_expression(TENX / "filtered_feature_bc_matrix.h5", var_names="gene_ids")
    assert ids.var_names[0] == "ENSG00000279493"
    assert ids.var["gene_symbols"].iloc[0] == "CH507-9B2.2"


def test_nothing_is_written_next_to_the_inputs(tmp_path):
    shutil.copytree(TENX, tmp_path / "tenx")
    before = sorted(p.name for p in (tmp_path / "tenx").iterdir())
    with pytest.warns(DataWarning):
        read_expression(tmp_path / "tenx")
    with pytest.warns(DataWarning):
        read_expression(tmp_path / "tenx" / "filtered_feature_bc_matrix.h5")
    assert sorted(p.name for p in (tmp_path / "tenx").iterdir()) == before


# --------------------------------------------------------------------------- generated 10x
@pytest.mark.parametrize("gz, prefix", [(True, ""), (False, ""), (True, "GSM1_")])
def test_tenx_folder_round_trip(tmp_path, counts, gz, prefix):
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS, gz=gz, prefix=prefix)
    ad = read_expression(folder)
    assert isinstance(ad.X, sp.csr_matrix)
    np.testing.assert_array_equal(ad.X.toarray(), counts)
    assert list(ad.obs_names) == CELLS and list(ad.var_names) == GENES
    assert list(ad.var["gene_ids"]) == [f"ENSG{i:05d}" for i in range(6)]


def test_tenx_h5_v3_keeps_gene_expression_and_genome(tmp_path, counts):
    types = ["Gene Expression"] * 4 + ["Antibody Capture"] * 2
    genomes = ["hg", "hg", "mm", "mm", "hg", "hg"]
    path = _write_tenx_h5(tmp_path / "m.h5", counts, GENES, CELLS, types, genomes)
    ad = read_expression(path)
    assert isinstance(ad.X, sp.csr_matrix)
    assert list(ad.var_names) == GENES[:4]
    np.testing.assert_array_equal(ad.X.toarray(), counts[:, :4])
    assert ad.uns["expression"]["n_features_dropped"] == 2
    assert list(read_expression(path, feature_types=None).var["feature_types"]) == types
    hg = read_expression(path, genome="hg")
    assert list(hg.var_names) == GENES[:2] and set(hg.var["genome"]) == {"hg"}
    with pytest.raises(NMFInputError, match=r"genome 'xx' not found .* available: \['hg', 'mm'\]"):
        read_expression(path, genome="xx")
    with pytest.raises(NMFInputError, match="no features of type 'Peaks'"):
        read_expression(path, feature_types="Peaks")


def test_tenx_h5_v2_layout(tmp_path, counts):
    path = _write_tenx_h5(tmp_path / "v2.h5", counts, GENES, CELLS, v2_genomes=["hg19"])
    ad = read_expression(path)
    np.testing.assert_array_equal(ad.X.toarray(), counts)
    assert ad.uns["expression"]["layout"] == "cellranger_v2"
    two = _write_tenx_h5(tmp_path / "two.h5", counts, GENES, CELLS, v2_genomes=["hg19", "mm10"])
    with pytest.raises(NMFInputError, match=r"holds 2 genomes \['hg19', 'mm10'\]; pass genome="):
        read_expression(two)
    assert read_expression(two, genome="mm10").shape == (5, 6)


# --------------------------------------------------------------------------- h5ad
def test_h5ad_counts_in_x(tmp_path, counts):
    path = tmp_path / "a.h5ad"
    anndata.AnnData(X=sp.csr_matrix(counts), obs=pd.DataFrame(index=CELLS),
                    var=pd.DataFrame(index=GENES)).write_h5ad(path)
    ad = read_expression(path)
    assert isinstance(ad.X, sp.csr_matrix)  # sparse stays sparse
    assert ad.X.dtype == np.float32  # integer counts become float32, exactly
    np.testing.assert_array_equal(ad.X.toarray(), counts)
    assert ad.layers["counts"] is ad.X
    assert ad.uns["expression"]["counts_from"] == "X"


def test_h5ad_counts_layer_is_used_and_normalised_x_kept(tmp_path, counts):
    logn = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4)
    path = tmp_path / "a.h5ad"
    anndata.AnnData(X=logn, obs=pd.DataFrame(index=CELLS), var=pd.DataFrame(index=GENES),
                    layers={"counts": sp.csc_matrix(counts.astype(np.float32))}
                    ).write_h5ad(path)
    ad = read_expression(path)
    assert isinstance(ad.X, sp.csr_matrix)  # CSC becomes CSR, still sparse
    np.testing.assert_array_equal(ad.X.toarray(), counts)
    np.testing.assert_allclose(ad.layers["X_original"], logn)
    assert ad.layers["counts"] is ad.X
    assert ad.uns["expression"]["counts_from"] == "layers['counts']"


def test_h5ad_with_h5_extension_is_read_as_h5ad(tmp_path, counts):
    path = tmp_path / "a.h5"
    anndata.AnnData(X=counts.astype(float), obs=pd.DataFrame(index=CELLS),
                    var=pd.DataFrame(index=GENES)).write_h5ad(path)
    ad = read_expression(path)
    assert isinstance(ad.X, np.ndarray) and ad.X.dtype == np.float64
    assert ad.uns["expression"]["format"] == "h5ad"


# --------------------------------------------------------------------------- text tables
@pytest.mark.parametrize("name, sep", [("m.csv", ","), ("m.tsv.gz", "\t")])
def test_text_both_orientations(tmp_path, counts, name, sep):
    frame = pd.DataFrame(counts, index=CELLS, columns=GENES)
    rows, cols = tmp_path / f"rows_{name}", tmp_path / f"cols_{name}"
    frame.to_csv(rows, sep=sep)
    frame.T.to_csv(cols, sep=sep)
    for path, samples_in in ((rows, "rows"), (cols, "columns")):
        ad = read_expression(path, samples_in=samples_in)
        assert list(ad.obs_names) == CELLS and list(ad.var_names) == GENES
        np.testing.assert_array_equal(_dense(ad.X), counts)
        assert ad.layers["counts"] is ad.X
        assert ad.uns["expression"]["samples_in"] == samples_in


def test_text_needs_samples_in(tmp_path, counts):
    path = tmp_path / "m.csv"
    pd.DataFrame(counts, index=CELLS, columns=GENES).to_csv(path)
    with pytest.raises(NMFInputError, match=r"samples_in is required .* samples_in='rows' .*"
                                            r"samples_in='columns'"):
        read_expression(path)


def test_samples_in_refused_for_fixed_layouts():
    with pytest.raises(NMFInputError, match="samples_in applies only to text tables"):
        read_expression(TENX, samples_in="rows")


# --------------------------------------------------------------------------- bad values
def _h5ad(path, X):
    anndata.AnnData(X=X, obs=pd.DataFrame(index=CELLS),
                    var=pd.DataFrame(index=GENES)).write_h5ad(path)
    return path


def test_scaled_data_is_refused(tmp_path, counts):
    z = (counts - counts.mean(axis=0)) / counts.std(axis=0)
    path = _h5ad(tmp_path / "z.h5ad", z)
    with pytest.raises(NMFInputError, match=r"negative values .* looks like scaled or centred "
                                            r"data .* raw .*layers\['counts'\].*adata\.raw"):
        read_expression(path)


def test_log_normalised_data_is_refused_unless_allowed(tmp_path, counts):
    logn = sp.csr_matrix(np.log1p(counts.astype(float)))
    path = _h5ad(tmp_path / "log.h5ad", logn)
    with pytest.raises(NMFInputError, match=r"not whole numbers .* looks like log-normalised "
                                            r".*layers\['counts'\].*allow_noninteger=True"):
        read_expression(path)
    ad = read_expression(path, allow_noninteger=True)
    assert isinstance(ad.X, sp.csr_matrix)
    assert not ad.uns["expression"]["integer"]


def test_missing_values_are_refused(tmp_path, counts):
    path = tmp_path / "m.csv"
    frame = pd.DataFrame(counts.astype(float), index=CELLS, columns=GENES)
    frame.iloc[1, 2] = np.nan
    frame.to_csv(path, na_rep="NA")
    with pytest.raises(NMFInputError, match=r"1 missing or infinite values \(e\.g\. nan at "
                                            r"sample 'c1', gene 'G2'\)"):
        read_expression(path, samples_in="rows")


def test_all_zero_genes_and_cells_warn_and_are_kept(tmp_path, counts):
    counts[:, 3] = 0
    counts[2, :] = 0
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS)
    with pytest.warns(DataWarning) as record:
        ad = read_expression(folder)
    messages = [str(w.message) for w in record]
    assert any("1 of 6 genes have no counts (zero in all cells)" in m and "'G3'" in m
               for m in messages)
    assert any("1 of 5 cells have no counts" in m and "'c2'" in m for m in messages)
    assert ad.shape == (5, 6)


# --------------------------------------------------------------------------- names
def test_duplicate_gene_names_made_unique_with_a_warning(tmp_path, counts):
    genes = ["A", "B", "A", "C", "A", "B"]
    folder = _write_tenx_folder(tmp_path / "f", counts, genes, CELLS)
    with pytest.warns(DataWarning, match=r"2 gene names occur more than once \(5 genes in all: "
                                         r"'A' ×3, 'B' ×2\); made unique .*'A-1', 'A-2', "
                                         r"'B-1'.*var_names='gene_ids'"):
        ad = read_expression(folder)
    assert list(ad.var_names) == ["A", "B", "A-1", "C", "A-2", "B-1"]
    assert list(ad.var["gene_symbols"]) == genes
    assert ad.var_names.is_unique
    with pytest.raises(FormatError, match=r"2 gene names occur more than once .* pass "
                                          r"make_unique=True"):
        read_expression(folder, make_unique=False)
    assert read_expression(folder, var_names="gene_ids").var_names.is_unique  # no warning


# --------------------------------------------------------------------------- malformed files
def _lines(path, keep):
    with gzip.open(path, "rt") as f:
        lines = f.readlines()
    with gzip.open(path, "wt") as f:
        f.writelines(keep(lines))


def test_features_file_not_matching_the_matrix(tmp_path):
    folder = shutil.copytree(TENX, tmp_path / "t")
    _lines(folder / "features.tsv.gz", lambda lines: lines[:-1])
    with pytest.raises(FormatError, match=r"matrix\.mtx\.gz: the matrix is 507 × 1107 but "
                                          r"features\.tsv\.gz has 506 lines but the matrix "
                                          r"has 507 rows \(genes\)"):
        read_expression(folder)


def test_barcodes_file_not_matching_the_matrix(tmp_path):
    folder = shutil.copytree(TENX, tmp_path / "t")
    _lines(folder / "barcodes.tsv.gz", lambda lines: lines + ["EXTRA-1\n"])
    with pytest.raises(FormatError, match=r"barcodes\.tsv\.gz has 1108 lines but the matrix "
                                          r"has 1107 columns \(cells\)"):
        read_expression(folder)


def test_transposed_matrix_is_detected(tmp_path, counts):
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS, gz=False)
    scipy.io.mmwrite(folder / "matrix.mtx", sp.coo_matrix(counts), field="integer")  # cells×genes
    with pytest.warns(DataWarning, match=r"5 × 6, i\.e\. cells × genes .* transpose of the 10x"):
        ad = read_expression(folder)
    np.testing.assert_array_equal(ad.X.toarray(), counts)
    assert ad.uns["expression"]["transposed"]


def test_missing_folder_member_is_named(tmp_path, counts):
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS)
    (folder / "barcodes.tsv.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing barcodes\.tsv\.gz"):
        read_expression(folder)
    with pytest.raises(FileNotFoundError, match=r"no matrix\.mtx\.gz"):
        read_expression(tmp_path)  # a folder without a matrix


@pytest.mark.parametrize("name", ["m.csv", "m.h5", "m.h5ad", "matrix.mtx"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).touch()
    with pytest.raises(FormatError, match="the file is empty"):
        read_expression(tmp_path / name, samples_in="rows" if name == "m.csv" else None)


def test_empty_features_file(tmp_path, counts):
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS)
    _lines(folder / "features.tsv.gz", lambda lines: [])
    with pytest.raises(FormatError, match=r"features\.tsv\.gz: the file is empty"):
        read_expression(folder)


def test_unknown_extension_and_bad_arguments(tmp_path):
    (tmp_path / "x.loom").write_text("x")
    with pytest.raises(FormatError, match=r"unknown file extension '\.loom'; supported: \.h5ad"):
        read_expression(tmp_path / "x.loom")
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(FormatError, match="not a readable HDF5 file"):
        read_expression(tmp_path / "x.h5")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_expression(tmp_path / "nope.h5ad")
    with pytest.raises(NMFInputError, match="var_names must be one of"):
        read_expression(TENX, var_names="symbols")
    with pytest.raises(NMFInputError, match="genome= applies only to 10x HDF5"):
        read_expression(TENX, genome="GRCh38")


def test_matrix_file_with_another_name_uses_the_plain_member_names(tmp_path, counts):
    folder = _write_tenx_folder(tmp_path / "f", counts, GENES, CELLS)
    (folder / "matrix.mtx.gz").rename(folder / "counts.mtx.gz")
    ad = read_expression(folder / "counts.mtx.gz")
    np.testing.assert_array_equal(ad.X.toarray(), counts)
