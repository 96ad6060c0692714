"""The minimum-volume refinement of extract's consensus signatures (volume=λ̃)."""

from __future__ import annotations

import numpy as np
import pytest
from cohorts import flat_cohort, min_matched_cosine

import nmfbio.signatures as sg
from nmfbio.errors import NMFInputError


def test_refinement_tightens_flat_signatures():
    cat, S = flat_cohort()
    kw = dict(ranks=[4], restarts=8, seed=0, normalize="none")
    plain = sg.extract(cat, **kw)  # default volume=0: no refinement
    tight = sg.extract(cat, volume=1.0, **kw)
    # measured: plain 0.985, refined 0.997 (seed 2); 0.951 -> 0.979 on seed 1
    assert min_matched_cosine(S, plain.signatures) < 0.99 < min_matched_cosine(S, tight.signatures)
    p = tight.params
    assert p["volume"] == 1.0 and p["volume_lambda"] > 0 and p["volume_converged"]
    assert "volume" in plain.params and "volume_lambda" not in plain.params
    assert "minimum-volume refit (volume λ̃ = 1" in tight.summary()
    np.testing.assert_allclose(tight.signatures.sum(), 1.0)
    np.testing.assert_allclose(tight.exposures.sum(axis=1), cat.sum(), rtol=0.01)
    with pytest.raises(NMFInputError, match="volume must be a number >= 0"):
        sg.extract(cat, volume=-1, **kw)
