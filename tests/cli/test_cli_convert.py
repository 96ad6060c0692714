"""``nmfbio convert``: each reader's file becomes one .h5ad (samples × features) with the same
values and names as the reader gives; bad requests exit 2 with a clear message."""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest

from nmfbio.cli import main
from nmfbio.datasets import DATA_DIR
from nmfbio.io import read_catalog

CATALOG = DATA_DIR / "breast21_sbs96.tsv"


def test_catalog_to_h5ad(tmp_path, capsys):
    out = tmp_path / "data.h5ad"
    assert main(["convert", str(CATALOG), "--reader", "catalog", "-o", str(out)]) == 0
    assert "21 samples × 96 features" in capsys.readouterr().out
    got, want = anndata.read_h5ad(out), read_catalog(CATALOG)
    assert list(got.obs_names) == list(want.obs_names)
    assert list(got.var_names) == list(want.var_names)
    np.testing.assert_array_equal(np.asarray(got.X), np.asarray(want.X))


def test_matrix_rows_and_columns(tmp_path):
    X = np.arange(12, dtype=float).reshape(3, 4)  # 3 features × 4 samples
    df = pd.DataFrame(X, index=["f1", "f2", "f3"], columns=["s1", "s2", "s3", "s4"])
    df.to_csv(tmp_path / "x.csv")
    df.T.to_csv(tmp_path / "xt.csv")
    assert main(["convert", str(tmp_path / "x.csv"), "-q", "-o", str(tmp_path / "a.h5ad")]) == 0
    assert main(["convert", str(tmp_path / "xt.csv"), "--samples-in", "rows", "-q", "-o",
                 str(tmp_path / "b.h5ad")]) == 0
    for name in ("a.h5ad", "b.h5ad"):
        ad = anndata.read_h5ad(tmp_path / name)
        assert ad.shape == (4, 3) and list(ad.var_names) == ["f1", "f2", "f3"]
        np.testing.assert_array_equal(np.asarray(ad.X), X.T)


@pytest.mark.parametrize("extra, message", [
    (["-o", "out.tsv"], "-o/--output must end in .h5ad, got 'out.tsv'"),
    (["--reader", "catalog", "--layer", "counts", "-o", "out.h5ad"],
     "--layer is for the matrix reader only"),
])
def test_bad_requests_exit_2(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main(["convert", str(CATALOG), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_never_overwrites_its_input(tmp_path, capsys):
    path = tmp_path / "in.h5ad"
    assert main(["convert", str(CATALOG), "--reader", "catalog", "-q", "-o", str(path)]) == 0
    before = path.read_bytes()
    assert main(["convert", str(path), "-o", str(path)]) == 2
    assert "it is one of the inputs" in capsys.readouterr().err
    assert path.read_bytes() == before
