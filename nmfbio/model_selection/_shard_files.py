"""The shard files of :mod:`nmfbio.model_selection._shards`: :class:`ConsensusRuns` (the runs
of one consensus shard) and :class:`RankShard` (the scores of one rank-selection shard), their
HDF5 format (written atomically, read back by :func:`load_shard`), and
:func:`data_fingerprint`, the sha256 of the data that lets combining refuse shards of
different inputs. Running and combining shards is in :mod:`nmfbio.model_selection._shards`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from nmfbio._atomic import atomic_path
from nmfbio.errors import FormatError

__all__ = ["ConsensusRuns", "RankShard", "load_shard", "data_fingerprint"]

_RUNS_FORMAT = "nmfbio.ConsensusRuns"
_RANK_FORMAT = "nmfbio.RankShard"


def data_fingerprint(X) -> str:
    """sha256 of a matrix as the solver sees it (shape and float64 values; for a sparse
    matrix its CSR structure), so that shards can check that they saw the same data.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_features, n_samples)

    Returns
    -------
    str
        ``"sha256:<hex>"``.

    Examples
    --------
    >>> import numpy as np
    >>> data_fingerprint(np.eye(2)) == data_fingerprint(np.eye(2, dtype=int))
    True
    """
    h = hashlib.sha256()
    h.update(repr(tuple(int(s) for s in X.shape)).encode())
    if sp.issparse(X):
        csr = sp.csr_matrix(X)
        h.update(b"csr")
        for part in (csr.indptr.astype(np.int64), csr.indices.astype(np.int64),
                     csr.data.astype(np.float64)):
            h.update(np.ascontiguousarray(part).tobytes())
    else:
        A = np.asarray(X)
        step = max(1, 2**22 // max(A.shape[1], 1))  # rows per block: ~32 MB of float64
        for lo in range(0, A.shape[0], step):
            h.update(np.ascontiguousarray(A[lo:lo + step], dtype=np.float64).tobytes())
    return "sha256:" + h.hexdigest()


# --------------------------------------------------------------------------- HDF5 helpers
def _write_common(f, shard, params, fingerprint, fnames, snames, source):
    import h5py

    f.attrs["shard"] = np.array(shard, dtype=np.int64)
    f.attrs["params"] = json.dumps(params, default=str)
    f.attrs["fingerprint"] = fingerprint
    f.attrs["source"] = json.dumps(source or {})
    for key, names in (("feature_names", fnames), ("sample_names", snames)):
        if names is not None:
            f.create_dataset(key, data=[str(x) for x in names], dtype=h5py.string_dtype("utf-8"))


def _read_common(f):
    names = {k: (list(f[k].asstr()[()]) if k in f else None)
             for k in ("feature_names", "sample_names")}
    return dict(shard=tuple(int(v) for v in f.attrs["shard"]),
                params=json.loads(f.attrs["params"]), fingerprint=str(f.attrs["fingerprint"]),
                source=json.loads(f.attrs["source"]), **names)


@dataclass
class ConsensusRuns:
    """The runs of one consensus shard (see :func:`consensus_runs`).

    Attributes
    ----------
    W : ndarray of shape (n_runs, n_features, rank)
        Each run's parts, columns summing to 1, ordered by contribution.
    H : ndarray of shape (n_runs, rank, n_samples)
        Each run's recipes.
    loss, objective : ndarray of shape (n_runs,)
        Data-fit loss and penalised objective of each run.
    converged : ndarray of bool, shape (n_runs,)
    n_iter : ndarray of int, shape (n_runs,)
    run_ids : ndarray of int, shape (n_runs,)
        Restart index of each run: run b comes from child b of ``SeedSequence(seed)``.
    shard : (int, int)
        ``(i, n)``.
    params : dict
        ``rank``, ``restarts`` (of all shards together), ``loss``, ``resample``, ``l1_W``,
        ``l1_H``, ``seed``, ``max_iter``, ``tol``, ``threshold``.
    fingerprint : str
        :func:`data_fingerprint` of the data.
    feature_names, sample_names : list of str or None
    source : dict
        Where the data came from (the command line records path and reading options).
    """

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    objective: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    run_ids: np.ndarray
    shard: tuple
    params: dict
    fingerprint: str
    feature_names: list | None = None
    sample_names: list | None = None
    source: dict = field(default_factory=dict)

    _ARRAYS = ("W", "H", "loss", "objective", "converged", "n_iter", "run_ids")

    def save(self, path: str | os.PathLike) -> None:
        """Write to HDF5 (atomically); read back with :meth:`load` or :func:`load_shard`."""
        import h5py

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["format"] = _RUNS_FORMAT
            for key in self._ARRAYS:
                f.create_dataset(key, data=np.asarray(getattr(self, key)))
            _write_common(f, self.shard, self.params, self.fingerprint, self.feature_names,
                          self.sample_names, self.source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ConsensusRuns:
        """Read a file written by :meth:`save`."""
        shard = load_shard(path)
        if not isinstance(shard, cls):
            raise FormatError("a rank-selection shard, not consensus runs", path)
        return shard


@dataclass
class RankShard:
    """The ranks of one rank-selection shard (see :func:`select_rank_shard`).

    Attributes
    ----------
    scores : list of dict
        One :func:`nmfbio.model_selection.rank.score_rank` result per rank of this shard.
    shard : (int, int)
    params : dict
        ``RankPlan.params`` (``ranks`` lists the ranks of all shards together).
    fingerprint : str
    feature_names, sample_names : list of str or None
    source : dict
    """

    scores: list
    shard: tuple
    params: dict
    fingerprint: str
    feature_names: list | None = None
    sample_names: list | None = None
    source: dict = field(default_factory=dict)

    def save(self, path: str | os.PathLike) -> None:
        """Write to HDF5 (atomically); read back with :func:`load_shard`."""
        import h5py

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["format"] = _RANK_FORMAT
            f.create_dataset("rank", data=np.array([s["rank"] for s in self.scores], np.int64))
            for key in ("train", "test"):
                f.create_dataset(key, data=np.stack([s[key] for s in self.scores]))
            f.create_dataset("stability", data=np.array([s["stability"] for s in self.scores]))
            for key in ("n_stable", "unconverged", "poor"):
                f.create_dataset(key, data=np.array([s[key] for s in self.scores], np.int64))
            _write_common(f, self.shard, self.params, self.fingerprint, self.feature_names,
                          self.sample_names, self.source)


def load_shard(path: str | os.PathLike) -> ConsensusRuns | RankShard:
    """Read a shard file (consensus runs or a rank-selection shard).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    ConsensusRuns or RankShard

    Raises
    ------
    FormatError
        When the file is not an nmfbio shard file.

    Examples
    --------
    A shard written by ``nmfbio consensus --shard 1/4``::

        load_shard("runs-1-of-4.h5")  # a ConsensusRuns
    """
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        if not Path(path).exists():
            raise FileNotFoundError(f"shard file {path} not found") from None
        raise FormatError(f"not an HDF5 file ({exc}); expected a shard written by "
                          "'nmfbio consensus/rank --shard'", path) from None
    with f:
        kind = f.attrs.get("format")
        if kind == _RUNS_FORMAT:
            arrays = {k: f[k][()] for k in ConsensusRuns._ARRAYS}
            return ConsensusRuns(**arrays, **_read_common(f))
        if kind == _RANK_FORMAT:
            cols = {k: f[k][()] for k in ("rank", "train", "test", "stability", "n_stable",
                                          "unconverged")}
            # "poor" (runs in a poor local minimum) is absent from older shard files
            poor = f["poor"][()] if "poor" in f else np.zeros(len(cols["rank"]), np.int64)
            scores = [dict(rank=int(cols["rank"][j]), train=cols["train"][j],
                           test=cols["test"][j], stability=float(cols["stability"][j]),
                           n_stable=int(cols["n_stable"][j]),
                           unconverged=int(cols["unconverged"][j]), poor=int(poor[j]))
                      for j in range(len(cols["rank"]))]
            return RankShard(scores=scores, **_read_common(f))
    raise FormatError("not an nmfbio shard file (expected one written by 'nmfbio consensus "
                      "--shard' or 'nmfbio rank --shard')", path)
