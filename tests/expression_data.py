"""Negative-binomial counts from known gene-expression programs (for tests and benchmarks)."""

from __future__ import annotations

import anndata
import numpy as np
import scipy.sparse as sp


def planted_programs(n_genes, k, rng):
    """k gene programs (columns sum to 1): a shared gamma baseline, each with 60 marker genes
    boosted ~15× and log-normal noise."""
    base = rng.gamma(0.5, size=n_genes)
    programs = np.empty((n_genes, k))
    for p in range(k):
        boost = np.ones(n_genes)
        marker = rng.choice(n_genes, size=60, replace=False)
        boost[marker] = rng.lognormal(np.log(15), 0.5, size=60)
        programs[:, p] = base * boost * rng.lognormal(0, 0.3, size=n_genes)
    return programs / programs.sum(axis=0)


def programs_counts(n_cells=2000, n_genes=1000, n_types=5, seed=0, sparse=False):
    """Cells of ``n_types`` types, each with its identity program, plus one shared "activity"
    program used by 30 % of cells of every type; NB counts (dispersion 0.2 of the mean²).

    Returns
    -------
    adata : AnnData (cells × genes), raw counts in X and layers["counts"], obs["type"]
    programs : ndarray (n_genes, n_types + 1), columns sum to 1 (identity..., activity)
    usage : ndarray (n_cells, n_types + 1), rows sum to 1
    """
    rng = np.random.default_rng(seed)
    k = n_types + 1
    programs = planted_programs(n_genes, k, rng)
    types = rng.integers(0, n_types, size=n_cells)
    usage = np.zeros((n_cells, k))
    usage[np.arange(n_cells), types] = 1.0
    active = rng.random(n_cells) < 0.3
    a = rng.uniform(0.2, 0.6, size=n_cells) * active
    usage *= (1 - a)[:, None]
    usage[:, -1] = a
    lib = rng.lognormal(np.log(3000), 0.4, size=n_cells)
    mu = (usage @ programs.T) * lib[:, None]
    # NB as a gamma-Poisson mixture, shape 1/0.2
    counts = rng.poisson(rng.gamma(5.0, mu / 5.0)).astype(np.float64)
    X = sp.csr_matrix(counts) if sparse else counts
    ad = anndata.AnnData(X)
    ad.layers["counts"] = X.copy()
    ad.obs_names = [f"cell{i}" for i in range(n_cells)]
    ad.var_names = [f"gene{g}" for g in range(n_genes)]
    ad.obs["type"] = [f"type{t}" for t in types]
    return ad, programs, usage
