"""Gene-expression programs: planted programs recovered, rank chosen, sparse == dense."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import match_cosine
from expression_data import programs_counts

import nmfbio
from nmfbio.programs import overdispersed_genes


@pytest.fixture(scope="module")
def fitted():
    out = {}
    for sparse in (False, True):
        ad, P, U = programs_counts(sparse=sparse)
        with pytest.warns(nmfbio.DataWarning, match="gene\\(s\\) have no counts"):
            res = nmfbio.programs.find(ad, ranks=range(4, 9), n_top_genes=500, restarts=12,
                                       seed=0)
        out[sparse] = (ad, P, U, res)
    return out


def test_programs_recovered_and_rank_chosen(fitted):
    ad, P, U, res = fitted[False]
    assert res.rank == 6, res.table
    assert match_cosine(res.programs.to_numpy(), P).min() >= 0.9
    assert match_cosine(res.usage.to_numpy(), U).min() >= 0.9
    np.testing.assert_allclose(res.usage.sum(axis=1), 1.0)
    # written into the AnnData under one key stem
    assert ad.obsm["X_programs"].shape == (2000, 6) and ad.varm["programs"].shape == (1000, 6)
    assert ad.uns["programs"]["params"]["rank"] == 6
    # top genes of each program are among its planted markers' best
    top = res.top_genes.iloc[:10]
    assert top.shape == (10, 6)


def test_sparse_and_dense_agree(fitted):
    res_d, res_s = fitted[False][3], fitted[True][3]
    assert res_s.rank == res_d.rank
    C = match_cosine(res_s.programs.to_numpy(), res_d.programs.to_numpy())
    assert C.min() > 0.999
    import scipy.sparse as sp

    assert sp.issparse(fitted[True][0].X)  # never densified in the user's object


def test_plots_and_tsv(fitted, tmp_path):
    ad, _, _, res = fitted[True]
    ax = res.plot_rank_selection()
    assert ax.get_xlabel() == "number of programs"
    ax = res.plot_usage(groups=ad.obs["type"])
    assert ax.images[0].get_array().shape[0] == 6
    fig = res.plot_top_genes(n=5)
    assert len(fig.axes) == 6
    paths = res.to_tsv(tmp_path)
    assert {p.name for p in paths} >= {"programs.tsv", "usage.tsv", "top_genes.tsv"}


def test_overdispersed_genes_prefers_variable_genes():
    rng = np.random.default_rng(0)
    means = rng.gamma(0.8, 5.0, size=500)          # genes over a wide range of expression
    C = rng.poisson(np.tile(means, (400, 1))).astype(float)
    marked = rng.choice(500, size=10, replace=False)
    C[:200, marked] = rng.poisson(8 * means[marked] + 5, size=(200, 10))  # group-specific
    assert set(marked) <= set(overdispersed_genes(C, 20))


def test_bad_expression_input():
    import anndata

    ad, _, _ = programs_counts(n_cells=50, n_genes=100, n_types=2, seed=1)
    logged = anndata.AnnData(np.log1p(ad.X))
    with pytest.raises(nmfbio.NMFInputError, match="not integers.*log-normalised"):
        nmfbio.programs.find(logged, ranks=[2])
    scaled = anndata.AnnData(ad.X - ad.X.mean(axis=0))
    with pytest.raises(nmfbio.NMFInputError, match="negative.*scaled or centred"):
        nmfbio.programs.find(scaled, ranks=[2])
    with pytest.raises(nmfbio.NMFInputError, match="needs an AnnData"):
        nmfbio.programs.find(ad.X, ranks=[2])


def test_bad_expression_input_is_found_in_any_block():
    """The raw-count check runs a block of cells at a time: a bad value far from the first
    block, in dense or sparse storage, is still found; non-numeric values are refused."""
    import anndata
    import scipy.sparse as sp

    from nmfbio.programs.select import BLOCK_VALUES

    ad, _, _ = programs_counts(n_cells=50, n_genes=100, n_types=2, seed=1)
    n_cells = 3 * BLOCK_VALUES // 100 + 7      # several blocks of cells
    X = np.tile(ad.X, (n_cells // 50 + 1, 1))[:n_cells].astype(np.float64)
    for value, match in ((np.nan, "non-finite"), (-1.0, "negative"), (0.5, "not integers")):
        bad = X.copy()
        bad[-1, 3] = value
        for M in (bad, sp.csr_matrix(bad)):
            with pytest.raises(nmfbio.NMFInputError, match=match):
                nmfbio.programs.find(anndata.AnnData(M), ranks=[2])
    text = anndata.AnnData(np.ones((5, 3)))
    text.layers["counts"] = np.full((5, 3), "a", dtype=object)
    with pytest.raises(nmfbio.NMFInputError, match="numeric cells × genes matrix"):
        nmfbio.programs.find(text, ranks=[2], layer="counts")


def _kinds_of(X):
    """The same counts as dense int32, float32, float64, CSR and CSC."""
    import scipy.sparse as sp

    return {"int32": X.astype(np.int32), "float32": X.astype(np.float32), "float64": X,
            "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}


def test_input_kinds_agree_and_input_is_not_modified():
    import anndata
    import scipy.sparse as sp

    ad0, _, _ = programs_counts(n_cells=300, n_genes=200, n_types=2, seed=4)
    X = np.asarray(ad0.X).copy()
    X[5] = 0.0  # a cell without counts, left out of the fit
    results = {}
    for name, M in _kinds_of(X).items():
        ad = anndata.AnnData(M)
        before = M.copy()
        with pytest.warns(nmfbio.DataWarning, match="have no counts"):
            res = nmfbio.programs.find(ad, ranks=[3], n_top_genes=100, restarts=4, seed=0)
        after = ad.X
        assert type(after) is type(before) and after.dtype == before.dtype
        if sp.issparse(before):
            assert (after != before).nnz == 0
        else:
            assert np.array_equal(after, before)
        assert np.all(res.usage.iloc[5] == 0)
        results[name] = res
    # dense kinds take one solver path, sparse kinds the other (same programs, not the same
    # floating-point numbers)
    for name, ref in (("int32", "float64"), ("float32", "float64"), ("csc", "csr")):
        res, ref = results[name], results[ref]
        np.testing.assert_allclose(res.programs, ref.programs, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(res.usage, ref.usage, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(res.scores, ref.scores, atol=1e-6, err_msg=name)
    assert match_cosine(results["csr"].programs.to_numpy(),
                        results["float64"].programs.to_numpy()).min() > 0.99


def test_no_temporary_as_large_as_the_input():
    """find works on the counts a block of cells at a time: besides the solver's work on the
    selected genes, nothing the size of the whole cells × genes matrix is allocated."""
    import tracemalloc

    ad, _, _ = programs_counts(n_cells=2000, n_genes=1000, n_types=2, seed=5)
    del ad.layers["counts"]
    nbytes = ad.X.nbytes
    tracemalloc.start()
    try:
        with pytest.warns(nmfbio.DataWarning):
            nmfbio.programs.find(ad, ranks=[3], n_top_genes=50, restarts=4, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * nbytes, (peak, nbytes)


def test_nnls_from_normal_equations_is_exact():
    from scipy.optimize import nnls

    from nmfbio.programs.find import _nnls_gram

    rng = np.random.default_rng(0)
    U = rng.dirichlet(np.full(4, 0.3), size=200)
    U[:, 3] = 0.0  # a program nobody uses: a singular Gram matrix
    X = rng.gamma(0.5, size=(200, 40)) - 0.3  # some columns need the constraint
    S = _nnls_gram(U.T @ U, U.T @ X)
    assert (S >= 0).all()
    for j in range(X.shape[1]):
        ref = nnls(U[:, :3], X[:, j])[0]
        np.testing.assert_allclose(U @ S[:, j], U[:, :3] @ ref, atol=1e-8)
