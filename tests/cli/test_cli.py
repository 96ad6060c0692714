"""Tests of the ``nmfbio`` command line (``nmfbio.cli.main``); the demo is tested in
``tests/test_demo.py``."""

from __future__ import annotations

import subprocess
import sys

import anndata
import numpy as np
import pandas as pd
import pytest

import nmfbio
from nmfbio.cli import main

N_FEATURES, N_SAMPLES, RANK = 12, 20, 2


@pytest.fixture
def counts():
    """Seeded rank-2 Poisson counts, features × samples, no all-zero row or column."""
    rng = np.random.default_rng(0)
    W = rng.gamma(1.0, 1.0, (N_FEATURES, RANK))
    H = rng.gamma(1.0, 3.0, (RANK, N_SAMPLES))
    X = rng.poisson(W @ H + 0.5).astype(float)
    assert (X.sum(axis=0) > 0).all() and (X.sum(axis=1) > 0).all()
    return pd.DataFrame(X, index=[f"g{i}" for i in range(N_FEATURES)],
                        columns=[f"s{j}" for j in range(N_SAMPLES)])


@pytest.fixture
def csv_path(tmp_path, counts):
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index_label="gene")
    return path


def _fit(path, outdir, *extra):
    return main(["fit", str(path), "--rank", str(RANK), "--loss", "kl", "--seed", "0",
                 "-o", str(outdir), *extra])


def test_fit_end_to_end(tmp_path, csv_path, counts, capsys):
    out = tmp_path / "out"
    assert _fit(csv_path, out) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("\n") == 1
    assert stdout.startswith(f"NMF rank {RANK} (kl) on {N_FEATURES} features × {N_SAMPLES} "
                             "samples")
    assert str(out) in stdout
    for name in ("W.tsv", "H.tsv", "result.h5"):
        assert (out / name).is_file()

    W = pd.read_csv(out / "W.tsv", sep="\t", index_col=0)
    H = pd.read_csv(out / "H.tsv", sep="\t", index_col=0)
    assert W.index.name == "feature" and list(W.index) == list(counts.index)
    assert list(W.columns) == ["C1", "C2"]
    np.testing.assert_allclose(W.sum(axis=0), 1.0)
    assert H.index.name == "component" and list(H.index) == ["C1", "C2"]
    assert H.shape == (RANK, N_SAMPLES) and list(H.columns) == list(counts.columns)

    res = nmfbio.NMFResult.load(out / "result.h5")
    np.testing.assert_allclose(res.W, W.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.H, H.to_numpy(), rtol=1e-12)
    assert res.loss_name == "kl" and res.seed == 0
    assert list(res.feature_names) == list(counts.index)
    # the same fit through the Python API gives the same factors
    direct = nmfbio.fit(counts, RANK, loss="kl", seed=0)
    np.testing.assert_allclose(direct.W, res.W)


def test_samples_in_rows_gives_the_same_fit(tmp_path, csv_path, counts, capsys):
    transposed = tmp_path / "counts_T.tsv"
    counts.T.to_csv(transposed, sep="\t")  # samples × features
    assert _fit(csv_path, tmp_path / "a", "--quiet") == 0
    assert _fit(transposed, tmp_path / "b", "--quiet", "--samples-in", "rows") == 0
    assert capsys.readouterr().out == ""
    a = pd.read_csv(tmp_path / "a" / "W.tsv", sep="\t", index_col=0)
    b = pd.read_csv(tmp_path / "b" / "W.tsv", sep="\t", index_col=0)
    pd.testing.assert_frame_equal(a, b)


def test_h5ad_input_with_layer(tmp_path, counts, capsys):
    ad = anndata.AnnData(np.zeros((N_SAMPLES, N_FEATURES)) + 1.0,
                         obs=pd.DataFrame(index=counts.columns),
                         var=pd.DataFrame(index=counts.index))
    ad.layers["counts"] = counts.to_numpy().T
    path = tmp_path / "data.h5ad"
    ad.write_h5ad(path)
    assert _fit(path, tmp_path / "out", "--layer", "counts") == 0
    W = pd.read_csv(tmp_path / "out" / "W.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(W.to_numpy(), nmfbio.fit(counts, RANK, loss="kl", seed=0).W)
    assert _fit(path, tmp_path / "out", "--layer", "nope") == 2
    assert "layer 'nope' not found" in capsys.readouterr().err


def _assert_clean_error(capsys, *fragments):
    captured = capsys.readouterr()
    assert captured.err.startswith("nmfbio: error: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    for text in fragments:
        assert text in captured.err
    return captured


def test_bad_input_exit_2_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("gene,s1,s2,s3\ng1,1,2,3\ng2,4,x,6\ng3,1,1,1\n")
    assert _fit(path, tmp_path / "out") == 2
    _assert_clean_error(capsys, "bad.csv, line 3, column s2", "'x' is not a number")
    assert not (tmp_path / "out").exists()


def test_missing_input(tmp_path, capsys):
    assert _fit(tmp_path / "nope.csv", tmp_path / "out") == 2
    _assert_clean_error(capsys, "no such file", "nope.csv")


def test_invalid_values_for_the_solver(tmp_path, csv_path, capsys):
    assert main(["fit", str(csv_path), "--rank", "50", "-o", str(tmp_path / "out")]) == 2
    _assert_clean_error(capsys, "rank must be between 1 and")
    path = tmp_path / "neg.csv"
    path.write_text("gene,s1,s2\ng1,1,-2\ng2,3,4\n")
    assert main(["fit", str(path), "--rank", "1", "-o", str(tmp_path / "out")]) == 2
    _assert_clean_error(capsys, "negative value")


def test_refuses_to_write_over_the_input(tmp_path, csv_path, capsys):
    out = tmp_path / "out"
    assert _fit(csv_path, out, "--quiet") == 0
    w_file = out / "W.tsv"  # a table with a header and row names: a valid input
    before = w_file.read_bytes()
    assert main(["fit", str(w_file), "--rank", "1", "-o", str(out)]) == 2
    _assert_clean_error(capsys, "refusing to write", "W.tsv")
    assert w_file.read_bytes() == before


def test_outdir_that_is_a_file(tmp_path, csv_path, capsys):
    assert _fit(csv_path, csv_path) == 2
    _assert_clean_error(capsys, "is not a folder")


@pytest.mark.parametrize("argv", [
    [],
    ["fit"],
    ["fit", "x.csv", "-o", "out"],                            # no --rank
    ["fit", "x.csv", "--rank", "0", "-o", "out"],
    ["fit", "x.csv", "--rank", "2", "-o", "out", "--loss", "poisson"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: nmfbio" in err and "Traceback" not in err


def test_convergence_warning_is_one_line_on_stderr(tmp_path, csv_path, capsys):
    assert _fit(csv_path, tmp_path / "out", "--max-iter", "1") == 0
    captured = capsys.readouterr()
    assert "NOT converged" in captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("nmfbio: warning: ") and "(ConvergenceWarning)" in lines[0]


def test_help_explains_orientation_and_outputs(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert "features × samples" in top and "fit" in top and ".h5ad" in top
    assert main(["fit", "--help"]) == 0
    text = capsys.readouterr().out
    for fragment in ("features × samples", "--samples-in", "W.tsv", "H.tsv", "result.h5",
                     "features × components", "components × samples", "AnnData"):
        assert fragment in text


def test_python_dash_m_nmfbio():
    proc = subprocess.run([sys.executable, "-m", "nmfbio", "fit", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: nmfbio fit")
