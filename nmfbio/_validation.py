"""Validation shared by the public entry points: one path from a seed-like value to the seed
that is used and recorded (scanpy's ``_utils/random.py`` idea), and the independent child
seeds a multi-stage computation draws from it.

Public functions validate here, once; private helpers assume valid input. Array and
AnnData intake lives in :mod:`nmfbio.data` (and :mod:`nmfbio.solver.validate` for arrays).
"""

from __future__ import annotations

import numbers

import numpy as np

from nmfbio.errors import NMFInputError

__all__ = ["check_seed", "child_seeds"]


def check_seed(seed) -> int:
    """The seed to use and record: a non-negative integer as given, or, for None, one drawn
    from fresh OS entropy (record it in the result's params so the run can be repeated).

    Raises
    ------
    nmfbio.errors.NMFInputError
        For a negative number, a float, a bool or anything else.

    Examples
    --------
    >>> check_seed(7)
    7
    >>> isinstance(check_seed(None), int)
    True
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    nmfbio.errors.NMFInputError: seed must be a non-negative integer or None, got -1
    """
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise NMFInputError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def child_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``SeedSequence(seed)`` (one per stage or
    per rank), the same for the same seed whatever else runs.

    Examples
    --------
    >>> child_seeds(0, 2) == child_seeds(0, 2) and len(set(child_seeds(0, 3))) == 3
    True
    """
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
