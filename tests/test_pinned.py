"""Fixed-seed results of fit, consensus, select_rank, signatures.extract, programs.find and
assemblies.detect on small data equal the pins taken before the package was reorganised
(``tests/pinned.py`` says how they were made).

Compared to 1e-9 (relative), not bit for bit: on one machine with the same libraries the
numba kernels give results that differ in the last bits between a cold cache (first run
after an install: compiled in the process) and a warm one (loaded from ``__pycache__``);
measured 2026-12-03, 12 of the 19 pinned arrays differ by up to 2.4e-14 relative. With a warm
cache the pins were reproduced bit for bit after every step of the reorganisation.

On another CPU (the pins' fingerprint names the machine that took them) the float32 sweeps
of the compiled KL path reduce in another order (other vector widths), so KL factors differ
by more than the last bits: measured 2026-12-04 on an AMD EPYC against pins taken on an
Intel Xeon (same numpy/scipy/numba), up to 2.6e-7 of each array's largest value for the KL
fits, consensus and extraction, 1.6e-10 relative for the KL objective, 3.7e-9 for the
stabilities; Frobenius, rank selection, programs and assemblies within 1e-15. The model
name alone does not tell the machines apart: on 2026-12-06 an "AMD EPYC" without AVX-512
differed from the pins of an "AMD EPYC" with it by 3.2e-8 (KL W), so the fingerprint also
names the widest vector extension (avx512f / avx2 / avx / sse). There the
arrays are compared to 1e-5 of their largest value and the objectives to 1e-8 relative: a
moved line of code that changes a result still fails, a CPU does not."""

from __future__ import annotations

import numpy as np
import pytest
from pinned import PINS, compute, fingerprint


@pytest.fixture(scope="module")
def current():
    return compute()


def test_pinned_results_are_unchanged(current):
    pins = np.load(PINS)
    names = [name for name in pins.files if name != "fingerprint"]
    assert sorted(names) == sorted(current)
    same_machine = str(pins["fingerprint"]) == fingerprint()
    for name in names:
        got, want = np.asarray(current[name], float), np.asarray(pins[name], float)
        if same_machine:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)
        elif name.endswith((".loss", ".stability")):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12, err_msg=name)
        else:
            scale = max(float(np.abs(want).max(initial=0.0)), 1e-12)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale, err_msg=name)
