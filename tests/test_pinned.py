"""Fixed-seed results of fit, consensus, select_rank, signatures.extract, programs.find and
assemblies.detect on small data equal the pins taken before the package was reorganised
(``tests/pinned.py`` says how they were made): bit for bit on the machine and libraries the
pins were taken with, to 1e-9 on another one (BLAS and CPU may round differently)."""

from __future__ import annotations

import numpy as np
import pytest
from pinned import PINS, compute, fingerprint


@pytest.fixture(scope="module")
def current():
    return compute()


def test_pinned_results_are_unchanged(current):
    pins = np.load(PINS)
    exact = str(pins["fingerprint"]) == fingerprint()
    names = [name for name in pins.files if name != "fingerprint"]
    assert sorted(names) == sorted(current)
    for name in names:
        if exact:
            np.testing.assert_array_equal(current[name], pins[name], err_msg=name)
        else:
            np.testing.assert_allclose(current[name], pins[name], rtol=1e-9, atol=1e-12,
                                       err_msg=name)
