"""The AnnData/DataFrame bridge, the result object, and bad input at the public boundary."""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import planted

import nmfbio
from nmfbio.errors import DataWarning, FormatError, NMFInputError


def test_dataframe_names_are_carried():
    X, _, _ = planted(20, 30, 2, seed=1)
    df = pd.DataFrame(X, index=[f"g{i}" for i in range(20)], columns=[f"s{j}" for j in range(30)])
    res = nmfbio.fit(df, 2, loss="kl", seed=0)
    Wf, Hf = res.to_frames()
    assert list(Wf.index) == list(df.index) and list(Wf.columns) == ["C1", "C2"]
    assert list(Hf.columns) == list(df.columns) and list(Hf.index) == ["C1", "C2"]
    np.testing.assert_allclose(Wf.to_numpy().sum(axis=0), 1.0)
    same = nmfbio.fit(X, 2, loss="kl", seed=0)
    np.testing.assert_array_equal(same.W, res.W)


@pytest.mark.parametrize("sparse", [False, True])
def test_anndata_write_back_round_trip(tmp_path, sparse, monkeypatch):
    # the general KL path for both, so a sparse X and its dense copy run the same algorithm
    # (dense unmasked KL otherwise takes the compiled float32 path of solver/_kl_fit.py)
    from nmfbio.solver import _kl_fit

    monkeypatch.setattr(_kl_fit, "ENABLED", False)
    X, _, _ = planted(25, 40, 3, seed=2)  # features × samples
    M = sp.csr_matrix(X.T) if sparse else X.T.copy()
    ad = anndata.AnnData(M)
    ad.obs_names = [f"cell{i}" for i in range(40)]
    ad.var_names = [f"gene{i}" for i in range(25)]
    before = ad.X.copy()
    res = nmfbio.fit(ad, 3, loss="kl", seed=0, key_added="prog")
    # the AnnData bridge transposes: same result as fitting X directly
    np.testing.assert_allclose(res.W, nmfbio.fit(X, 3, loss="kl", seed=0).W, atol=1e-8)
    assert list(res.sample_names) == list(ad.obs_names)
    assert ad.varm["prog"].shape == (25, 3) and ad.obsm["X_prog"].shape == (40, 3)
    assert ad.uns["prog"]["loss"] == pytest.approx(res.loss)
    # the user's data is untouched
    after = ad.X.toarray() if sparse else ad.X
    np.testing.assert_array_equal(after, before.toarray() if sparse else before)
    path = tmp_path / "a.h5ad"
    ad.write_h5ad(path)
    back = anndata.read_h5ad(path)
    np.testing.assert_allclose(back.varm["prog"], res.W)
    np.testing.assert_allclose(back.obsm["X_prog"], res.H.T)
    assert back.uns["prog"]["params"]["loss"] == "kl"
    np.testing.assert_allclose(back.uns["prog"]["history"], res.history)


def test_anndata_layer_and_missing_layer():
    X, _, _ = planted(15, 20, 2, seed=3)
    ad = anndata.AnnData(np.zeros((20, 15)) + 1.0, layers={"counts": X.T.copy()})
    res = nmfbio.fit(ad, 2, loss="kl", seed=0, layer="counts")
    assert res.params["layer"] == "counts"
    np.testing.assert_allclose(res.W, nmfbio.fit(X, 2, loss="kl", seed=0).W)
    with pytest.raises(NMFInputError, match="layer 'raw' not found.*counts"):
        nmfbio.fit(ad, 2, layer="raw")


def test_result_save_load(tmp_path):
    X, _, _ = planted(15, 20, 2, seed=4)
    df = pd.DataFrame(X, index=[f"f{i}" for i in range(15)])
    res = nmfbio.fit(df, 2, loss="kl", seed=3)
    path = tmp_path / "r.h5"
    res.save(path)
    back = nmfbio.NMFResult.load(path)
    np.testing.assert_array_equal(back.W, res.W)
    np.testing.assert_array_equal(back.history, res.history)
    assert back.seed == 3 and back.loss == res.loss and back.params["loss"] == "kl"
    assert list(back.feature_names) == list(df.index)
    assert list(back.sample_names) == [str(c) for c in df.columns]
    assert [p.name for p in tmp_path.iterdir()] == ["r.h5"]  # no temporary file left
    bad = tmp_path / "other.h5"
    import h5py

    with h5py.File(bad, "w") as f:
        f["x"] = 1
    with pytest.raises(FormatError, match="other.h5: not an nmfbio result file"):
        nmfbio.NMFResult.load(bad)


def test_inputs_are_not_modified():
    X, _, _ = planted(15, 20, 2, seed=5)
    X32 = X.astype(np.float32)
    mask = np.ones(X.shape, bool)
    mask[0, 0] = False
    copies = [X.copy(), X32.copy(), mask.copy()]
    nmfbio.fit(X, 2, seed=0, loss="kl", mask=mask)
    nmfbio.fit(X32, 2, seed=0)
    for a, b in zip([X, X32, mask], copies, strict=True):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- bad input
def test_negative_values_say_how_many_and_where():
    X, _, _ = planted(10, 12, 2, seed=6)
    X[3, 5] = -1.0
    X[7, 1] = -2.0
    with pytest.raises(NMFInputError, match=r"2 negative value\(s\); the first at feature 3, "
                                            r"sample 5"):
        nmfbio.fit(X, 2)
    df = pd.DataFrame(X, index=[f"g{i}" for i in range(10)], columns=[f"s{j}" for j in range(12)])
    with pytest.raises(NMFInputError, match="feature 'g3', sample 's5'"):
        nmfbio.fit(df, 2)
    with pytest.raises(NMFInputError, match="negative"):
        nmfbio.fit(sp.csr_matrix(X), 2)


def test_nan_and_inf_unless_masked():
    X, _, _ = planted(10, 12, 2, seed=7)
    X[2, 4] = np.nan
    with pytest.raises(NMFInputError, match=r"1 NaN value\(s\); the first at feature 2, sample 4"):
        nmfbio.fit(X, 2)
    X[2, 4] = np.inf
    with pytest.raises(NMFInputError, match=r"1 infinite value\(s\)"):
        nmfbio.fit(X, 2)
    mask = np.ones(X.shape, bool)
    mask[2, 4] = False
    res = nmfbio.fit(X, 2, mask=mask, seed=0, loss="kl")
    assert np.isfinite(res.loss)


@pytest.mark.parametrize("bad, msg", [
    (np.zeros((0, 5)), "empty"),
    (np.ones(5), "2-D"),
    ([["a", "b"], ["c", "d"]], "numeric"),
])
def test_bad_shapes_and_types(bad, msg):
    with pytest.raises(NMFInputError, match=msg):
        nmfbio.fit(bad, 1)


@pytest.mark.parametrize("rank", [0, -1, 11, 2.5, True, "3"])
def test_rank_out_of_range(rank):
    X = np.ones((10, 12)) + np.arange(12)
    with pytest.raises(NMFInputError, match="rank must be"):
        nmfbio.fit(X, rank)


def test_mask_of_wrong_shape_and_options():
    X, _, _ = planted(10, 12, 2, seed=8)
    with pytest.raises(NMFInputError, match=r"mask must have the shape of X \(10, 12\)"):
        nmfbio.fit(X, 2, mask=np.ones((12, 10), bool))
    with pytest.raises(NMFInputError, match=r"loss must be one of \['frobenius', 'kl'\], got 'l2'"):
        nmfbio.fit(X, 2, loss="l2")
    with pytest.raises(NMFInputError, match=r"init must be one of .*'nndsvda'.*got 'svd'"):
        nmfbio.fit(X, 2, init="svd")
    with pytest.raises(NMFInputError, match="l1_H must be a finite number >= 0"):
        nmfbio.fit(X, 2, l1_H=-1)
    with pytest.raises(NMFInputError, match="max_iter must be an integer >= 1"):
        nmfbio.fit(X, 2, max_iter=0)
    with pytest.raises(NMFInputError, match="a mask is supported only for dense"):
        nmfbio.fit(sp.csr_matrix(X), 2, mask=np.ones(X.shape, bool))
    with pytest.raises(NMFInputError, match=r"W_init must have shape \(10, 2\)"):
        nmfbio.fit(X, 2, W_init=np.ones((3, 2)), H_init=np.ones((2, 12)))


def test_all_zero_rows_and_columns_warn_and_are_kept():
    X, _, _ = planted(10, 12, 2, seed=9)
    X[4] = 0
    X[:, 7] = 0
    with pytest.warns(DataWarning) as rec:
        res = nmfbio.fit(X, 2, loss="kl", seed=0)
    messages = [str(w.message) for w in rec]
    assert any("1 feature(s) of X are all zero (where observed), e.g. 4" in m for m in messages)
    assert any("1 sample(s) of X are all zero (where observed), e.g. 7" in m for m in messages)
    assert res.W.shape == (10, 2)
    assert np.allclose(res.W[4], 0, atol=1e-8) and np.allclose(res.H[:, 7], 0, atol=1e-6)
    with pytest.raises(NMFInputError, match="all zero"):
        nmfbio.fit(np.zeros((4, 5)), 1)


def test_non_ascii_names_survive_save_load(tmp_path):
    X, _, _ = planted(6, 8, 2, seed=10)
    df = pd.DataFrame(X, index=[f"α{i}" for i in range(6)],
                      columns=[f"échantillon{j}" for j in range(8)])
    res = nmfbio.fit(df, 2, loss="kl", seed=0)
    res.save(tmp_path / "r.h5")
    back = nmfbio.NMFResult.load(tmp_path / "r.h5")
    assert list(back.feature_names) == list(df.index)
    assert list(back.sample_names) == list(df.columns)


def test_sparse_stored_zeros_count_as_zero():
    X, _, _ = planted(10, 12, 2, seed=11)
    S = sp.csr_matrix(X)
    S.data[S.indptr[3]:S.indptr[4]] = 0.0  # feature 3 has only stored zeros
    with pytest.warns(DataWarning, match=r"1 feature\(s\) of X are all zero.*e\.g\. 3"):
        nmfbio.fit(S, 2, loss="kl", seed=0)


def test_warnings_point_at_the_callers_line():
    X, _, _ = planted(10, 12, 2, seed=12)
    with pytest.warns(nmfbio.ConvergenceWarning) as rec:
        nmfbio.fit(X, 2, loss="kl", max_iter=2, tol=1e-12, seed=0)
    assert rec[0].filename == __file__


def test_refit_H_for_fixed_parts():
    from nmfbio.solver import refit_H

    X, W, H = planted(30, 40, 3, seed=13, poisson=False)
    for loss in ("frobenius", "kl"):
        Hf, value = refit_H(X, W, loss=loss, tol=1e-12, max_iter=5000)
        np.testing.assert_allclose(Hf, H, rtol=1e-4, atol=1e-4 * H.max())
        assert value < 1e-6 * X.sum()
    with pytest.raises(NMFInputError, match=r"W must have shape \(30, rank\)"):
        refit_H(X, W[:5], loss="kl")
