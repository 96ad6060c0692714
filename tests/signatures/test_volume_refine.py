"""The minimum-volume refinement of extract's consensus signatures (volume=λ̃)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

import nmfbio.signatures as sg
from nmfbio.errors import NMFInputError
from nmfbio.io.sbs96 import CHANNELS
from nmfbio.model_selection.matching import cosine_matrix


def _flat_cohort(n=120, seed=2):
    """Four flat signatures, every tumour a mix of three (no pure tumour)."""
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(96, 10.0), 4).T
    E = np.zeros((4, n))
    for j in range(n):
        idx = rng.choice(4, 3, replace=False)
        w = rng.uniform(0.15, 1.0, 3)
        E[idx, j] = w / w.sum()
    E *= rng.gamma(4.0, 3000.0, n)
    cat = pd.DataFrame(rng.poisson(S @ E), index=CHANNELS, columns=[f"t{j}" for j in range(n)])
    return cat, S


def _min_cos(S, W):
    C = cosine_matrix(S, W.to_numpy())
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].min())


def test_refinement_tightens_flat_signatures():
    cat, S = _flat_cohort()
    kw = dict(ranks=[4], restarts=8, seed=0, normalize="none")
    plain = sg.extract(cat, volume=0, **kw)
    tight = sg.extract(cat, **kw)  # default volume=1
    # measured: plain 0.985, refined 0.997 (seed 2); 0.951 -> 0.979 on seed 1
    assert _min_cos(S, plain.signatures) < 0.99 < _min_cos(S, tight.signatures)
    p = tight.params
    assert p["volume"] == 1.0 and p["volume_lambda"] > 0 and p["volume_converged"]
    assert "volume" in plain.params and "volume_lambda" not in plain.params
    assert "minimum-volume refit (volume λ̃ = 1" in tight.summary()
    np.testing.assert_allclose(tight.signatures.sum(), 1.0)
    np.testing.assert_allclose(tight.exposures.sum(axis=1), cat.sum(), rtol=0.01)
    with pytest.raises(NMFInputError, match="volume must be a number >= 0"):
        sg.extract(cat, volume=-1, **kw)
