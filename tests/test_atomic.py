"""Atomic output: the rename, cleanup on failure, and the permission bits of the result."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

import nmfbio
from nmfbio._atomic import _umask, atomic_path


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda m: os.umask(m)
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_mode_follows_the_umask(tmp_path, umask, mask, expected):
    # mkstemp's temporary file is 0o600: every output used to stay private
    umask(mask)
    assert _umask() == mask
    with atomic_path(tmp_path / "a.tsv") as tmp:
        tmp.write_text("x\n")
    assert mode(tmp_path / "a.tsv") == expected
    # the same for a writer that goes through the library (HDF5 via h5py)
    res = nmfbio.fit(np.array([[1.0, 2.0], [3.0, 1.0]]), 1, seed=0)
    res.save(tmp_path / "res.h5")
    assert mode(tmp_path / "res.h5") == expected


def test_replacing_a_file_and_failure_leave_no_temporary(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and mode(target) == 0o644
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
