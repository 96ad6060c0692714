"""One seed path (nmfbio/_validation.py): every public entry point validates its seed the
same way and records the seed it used, so a run with seed=None can be repeated exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import planted

import nmfbio
from nmfbio.errors import NMFInputError


def _entry_points():
    from expression_data import programs_counts

    from nmfbio.datasets import breast21
    from nmfbio.datasets.assemblies import planted_assemblies

    X, _, _ = planted(m=20, n=30, r=2, seed=3)
    cat = breast21()
    adata, _, _ = programs_counts(n_cells=150, n_genes=150, n_types=2, seed=4)
    rec = planted_assemblies(n_units=10, n_assemblies=1, duration=60, size_range=(4, 4),
                             seed=1)
    ref = nmfbio.signatures.extract(cat, ranks=[2], restarts=3, repeats=1, cv_restarts=2,
                                    seed=0, max_iter=100).signatures

    def quiet_find(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nmfbio.DataWarning)
            return nmfbio.programs.find(adata.copy(), ranks=[2], n_top_genes=80, restarts=3,
                                        seed=seed, max_iter=80)

    return {
        "fit": (lambda s: nmfbio.fit(X, 2, seed=s, restarts=2, max_iter=80),
                lambda r: r.params["seed"], lambda r: r.W),
        "consensus": (lambda s: nmfbio.consensus(X, 2, restarts=3, seed=s, max_iter=80),
                      lambda r: r.params["seed"], lambda r: r.W),
        "select_rank": (lambda s: nmfbio.select_rank(X, [1, 2], repeats=1, restarts=2,
                                                     seed=s, max_iter=80),
                        lambda r: r.params["seed"], lambda r: r.test_errors),
        "extract": (lambda s: nmfbio.signatures.extract(cat, ranks=[1, 2], restarts=3,
                                                        repeats=1, cv_restarts=2, seed=s,
                                                        max_iter=100),
                    lambda r: r.params["seed"], lambda r: r.signatures.to_numpy()),
        "assign": (lambda s: nmfbio.signatures.assign(cat, ref, bootstrap=3, seed=s),
                   lambda r: r.params["seed"], lambda r: r.lower.to_numpy()),
        "find": (quiet_find, lambda r: r.params["seed"], lambda r: r.usage.to_numpy()),
        "detect": (lambda s: nmfbio.assemblies.detect(rec.trains, bin_width=0.05,
                                                      window=(0, 60), seed=s, n_surrogates=10),
                   lambda r: r.params["seed"], lambda r: r.null_gains),
    }


ENTRY = ["fit", "consensus", "select_rank", "extract", "assign", "find", "detect"]


@pytest.fixture(scope="module")
def entries():
    return _entry_points()


@pytest.mark.parametrize("name", ENTRY)
def test_seed_none_is_drawn_recorded_and_repeatable(entries, name):
    run, seed_of, values = entries[name]
    first = run(None)
    seed = seed_of(first)
    assert isinstance(seed, int) and seed >= 0
    np.testing.assert_array_equal(values(run(seed)), values(first))


@pytest.mark.parametrize("name", ENTRY)
@pytest.mark.parametrize("bad", [-1, 1.5, True, "7"])
def test_bad_seeds_are_refused_alike(entries, name, bad):
    run, _, _ = entries[name]
    with pytest.raises(NMFInputError, match=r"seed must be a non-negative integer or None, "
                                            rf"got {bad!r}"):
        run(bad)
