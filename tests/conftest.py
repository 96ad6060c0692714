"""Shared generators for the test suite: planted non-negative models with known factors."""

from __future__ import annotations

import numpy as np
import pytest


def planted(m=40, n=60, r=3, seed=0, scale=50.0, poisson=True):
    """A planted model X ~ Poisson(W H) (or exactly W H) with gamma-distributed factors."""
    rng = np.random.default_rng(seed)
    W = rng.gamma(0.6, size=(m, r))
    W /= W.sum(axis=0)
    H = rng.gamma(0.8, size=(r, n)) * scale
    Y = W @ H
    X = rng.poisson(Y).astype(float) if poisson else Y
    # no all-zero rows/columns (they would raise a DataWarning, an error in the test run)
    X[:, X.sum(axis=0) == 0] += 1.0
    X[X.sum(axis=1) == 0, :] += 1.0
    return X, W, H


def planted_cohort(seed, m=96, n=300, r=5):
    """Poisson counts from a planted rank-r model with spiky parts and ~2000 counts/sample."""
    rng = np.random.default_rng(seed)
    W = rng.dirichlet(np.full(m, 0.3), size=r).T
    H = rng.gamma(0.7, 1.0, size=(r, n))
    H = H / H.sum(axis=0) * rng.lognormal(np.log(2000), 0.7, size=n)
    return rng.poisson(W @ H).astype(float), W, H


def evaluated(history):
    """The entries of an objective history that were evaluated (the fast KL path leaves NaN
    where it skipped the objective)."""
    h = np.asarray(history, dtype=float)
    return h[np.isfinite(h)]


def match_cosine(A, B):
    """Mean cosine of columns of A and B after Hungarian matching (permutation/scale-free)."""
    from scipy.optimize import linear_sum_assignment

    An = A / np.linalg.norm(A, axis=0)
    Bn = B / np.linalg.norm(B, axis=0)
    C = An.T @ Bn
    ri, ci = linear_sum_assignment(-C)
    return C[ri, ci]


@pytest.fixture
def counts():
    return planted()
