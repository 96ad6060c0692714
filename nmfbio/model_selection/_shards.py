"""Model selection in shards: a share of the restarts (consensus) or of the ranks (rank
selection) per job, saved to HDF5, and the shards combined into the unsharded result.

A shard ``i/n`` (1-based, ``1 <= i <= n``) takes the items ``i-1, i-1+n, i-1+2n, …`` of the
restarts or of the sorted ranks. Every restart is drawn from its own child of
``numpy.random.SeedSequence(seed)`` and every rank from its own seed and the shared hold-out
masks, so the runs of shard ``i/n`` are exactly the runs with those indices in one
unsharded call: combining all ``n`` shards gives the :class:`~nmfbio.ConsensusResult` of
:func:`nmfbio.consensus` (or the :class:`~nmfbio.RankSelection` of :func:`nmfbio.select_rank`)
with the same seed. A seed is therefore required whenever ``n > 1``. Each shard records its
parameters and a fingerprint (sha256) of the data; combining refuses shards of different
data, parameters or shard counts, and missing or repeated shards. This is what the
Snakemake workflow in ``workflows/`` and ``nmfbio consensus/rank --shard i/n`` run; the
science lives in :mod:`nmfbio.model_selection.consensus` and
:mod:`nmfbio.model_selection.rank`, the shard files (re-exported here) in
:mod:`nmfbio.model_selection._shard_files`.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

from nmfbio._progress import progress
from nmfbio.data import as_matrix
from nmfbio.errors import NMFInputError
from nmfbio.model_selection._shard_files import (
    ConsensusRuns,
    RankShard,
    data_fingerprint,
    load_shard,
)
from nmfbio.model_selection.consensus import (
    DEFAULT_THRESHOLD,
    ConsensusResult,
    check_consensus_args,
    combine_runs,
)
from nmfbio.model_selection.rank import (
    RankPlan,
    RankSelection,
    decide_rank,
    plan_rank_selection,
    score_rank,
)
from nmfbio.solver import get_loss, nmf_runs

__all__ = ["parse_shard", "shard_items", "consensus_runs", "consensus_from_runs",
           "select_rank_shard", "select_rank_from_shards", "ConsensusRuns", "RankShard",
           "load_shard", "data_fingerprint"]

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(spec) -> tuple[int, int]:
    """Read a shard spec ``"i/n"`` (1-based: the i-th of n shards).

    Parameters
    ----------
    spec : str or (int, int)

    Returns
    -------
    (i, n) : tuple of int, with ``1 <= i <= n``

    Raises
    ------
    NMFInputError
        When the spec is not of that form.

    Examples
    --------
    >>> parse_shard("2/4")
    (2, 4)
    """
    if isinstance(spec, str):
        m = _SHARD_RE.match(spec)
        pair = (int(m.group(1)), int(m.group(2))) if m else None
    else:
        try:
            i, n = spec
            ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (i, n))
            pair = (int(i), int(n)) if ok else None
        except (TypeError, ValueError):
            pair = None
    if pair is None or not 1 <= pair[0] <= pair[1]:
        raise NMFInputError(f"a shard must be I/N with 1 <= I <= N (e.g. 2/4: the second of "
                            f"four shards), got {spec!r}")
    return pair


def shard_items(n_items: int, shard) -> list[int]:
    """Indices of the items (restarts or ranks) that shard ``i/n`` runs: ``i-1, i-1+n, …``.

    Parameters
    ----------
    n_items : int
    shard : str or (int, int)
        ``"i/n"`` or ``(i, n)``.

    Returns
    -------
    list of int

    Examples
    --------
    >>> shard_items(10, "2/4")
    [1, 5, 9]
    """
    i, n = parse_shard(shard)
    if n > n_items:
        raise NMFInputError(f"{n} shards of {n_items} items leave some shards empty: use at "
                            f"most {n_items} shards")
    return list(range(i - 1, n_items, n))


def _names(names):
    return None if names is None else [str(x) for x in names]


# --------------------------------------------------------------------------- consensus
def consensus_runs(X, rank, *, shard="1/1", restarts=100, loss="kl", resample=None, l1_W=0.0,
                   l1_H=0.0, seed=None, max_iter=500, tol=1e-4, threshold=DEFAULT_THRESHOLD,
                   layer=None, source=None, volume=0.0) -> ConsensusRuns:
    """Fit shard ``i/n`` of the runs of :func:`nmfbio.consensus` and return them unclustered.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix, pandas.DataFrame or anndata.AnnData
        Features × samples (AnnData: samples × features), as for :func:`nmfbio.consensus`.
    rank : int
    shard : str or (int, int), default "1/1"
        This job's share: restarts ``i-1, i-1+n, …`` of ``range(restarts)``.
    restarts : int, default 100
        Runs of all shards together (at least 2, and at least ``n``).
    loss, resample, l1_W, l1_H, max_iter, tol, threshold, layer, volume
        As in :func:`nmfbio.consensus` (``threshold`` is recorded and used when combining).
    seed : int
        Required when ``n > 1``: every shard must draw from the same seeds.
    source : dict, optional
        Recorded as is (e.g. the input path and how it was read).

    Returns
    -------
    ConsensusRuns

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> parts = [consensus_runs(X, 2, shard=(i, 2), restarts=6, seed=0) for i in (1, 2)]
    >>> [p.run_ids.tolist() for p in parts]
    [[0, 2, 4], [1, 3, 5]]
    >>> res = consensus_from_runs(parts, X)  # == nmfbio.consensus(X, 2, restarts=6, seed=0)
    """
    check_consensus_args(restarts, threshold)
    i, n = parse_shard(shard)
    if n > 1 and seed is None:
        raise NMFInputError("a shard needs a seed (e.g. --seed 0) so that every shard draws "
                            "its runs from the same seeds")
    ids = shard_items(int(restarts), (i, n))
    Xm, _, fnames, snames = as_matrix(X, layer=layer)
    runs = nmf_runs(Xm, rank, loss=loss, l1_W=l1_W, l1_H=l1_H, restarts=int(restarts),
                    init="random", max_iter=max_iter, tol=tol, seed=seed, resample=resample,
                    feature_names=fnames, sample_names=snames, run_ids=ids, volume=volume,
                    _warn=False)
    params = dict(rank=int(rank), restarts=int(restarts), loss=get_loss(loss).name,
                  resample=resample or "none", l1_W=l1_W, l1_H=l1_H, seed=runs[0].seed,
                  max_iter=max_iter, tol=tol, threshold=float(threshold),
                  volume=float(volume))
    return ConsensusRuns(
        W=np.stack([r.W for r in runs]), H=np.stack([r.H for r in runs]),
        loss=np.array([r.loss for r in runs]), objective=np.array([r.objective for r in runs]),
        converged=np.array([r.converged for r in runs]),
        n_iter=np.array([r.n_iter for r in runs]), run_ids=np.array(ids, dtype=np.int64),
        shard=(i, n), params=params, fingerprint=data_fingerprint(Xm),
        feature_names=_names(fnames), sample_names=_names(snames), source=dict(source or {}),
    )


def _load_all(shards, kind):
    items = []
    for s in shards:
        obj = load_shard(s) if isinstance(s, (str, os.PathLike)) else s
        if not isinstance(obj, kind):
            what = {ConsensusRuns: "consensus runs", RankShard: "rank-selection shards"}
            raise NMFInputError(
                f"cannot combine {what[kind]} with {what[type(obj)]} "
                f"({s if isinstance(s, (str, os.PathLike)) else 'object'}): combine the shards "
                "of one 'nmfbio consensus --shard' or one 'nmfbio rank --shard' run at a time")
        items.append((str(s) if isinstance(s, (str, os.PathLike)) else f"shard {obj.shard[0]}/"
                      f"{obj.shard[1]}", obj))
    if not items:
        raise NMFInputError("no shards to combine")
    return items


def _param_diff(a: dict, b: dict) -> list:
    """The keys whose values differ between two parameter dicts (compared as JSON, as they
    are stored)."""
    return sorted(k for k in set(a) | set(b)
                  if json.dumps(a.get(k), default=str) != json.dumps(b.get(k), default=str))


def _check_compatible(items):
    """Same parameters, data, names and shard count; every shard exactly once."""
    name0, first = items[0]
    for name, obj in items[1:]:
        diff = _param_diff(first.params, obj.params)
        if diff:
            detail = "; ".join(f"{k}: {first.params.get(k)!r} vs {obj.params.get(k)!r}"
                               for k in diff)
            raise NMFInputError(f"cannot combine {name0} and {name}: they were run with "
                                f"different parameters ({detail})")
        if obj.fingerprint != first.fingerprint:
            raise NMFInputError(f"cannot combine {name0} and {name}: they were fitted to "
                                "different data (the data fingerprints differ)")
        if obj.feature_names != first.feature_names or obj.sample_names != first.sample_names:
            raise NMFInputError(f"cannot combine {name0} and {name}: their feature or sample "
                                "names differ")
        if obj.shard[1] != first.shard[1]:
            raise NMFInputError(f"cannot combine {name0} (shard {first.shard[0]}/"
                                f"{first.shard[1]}) and {name} (shard {obj.shard[0]}/"
                                f"{obj.shard[1]}): different numbers of shards")
    n = first.shard[1]
    seen = {}
    for name, obj in items:
        if obj.shard[0] in seen:
            raise NMFInputError(f"shard {obj.shard[0]}/{n} given twice: {seen[obj.shard[0]]} "
                                f"and {name}")
        seen[obj.shard[0]] = name
    missing = [f"{i}/{n}" for i in range(1, n + 1) if i not in seen]
    if missing:
        raise NMFInputError(f"shard(s) {', '.join(missing)} missing: pass every shard of the "
                            f"run (got {', '.join(f'{i}/{n}' for i in sorted(seen))})")
    return first


def consensus_from_runs(runs, X, *, layer=None) -> ConsensusResult:
    """Combine every shard of a consensus into the result of one :func:`nmfbio.consensus`.

    Parameters
    ----------
    runs : sequence of ConsensusRuns or paths to their files
        All ``n`` shards of one run, in any order.
    X : ndarray, scipy.sparse matrix, pandas.DataFrame or anndata.AnnData
        The data the shards were fitted to (H is refitted to it); checked against the
        shards' fingerprint.
    layer : str, optional
        AnnData layer.

    Returns
    -------
    ConsensusResult
        Equal to ``nmfbio.consensus(X, rank, restarts=..., seed=..., ...)`` with the shards'
        parameters.

    Raises
    ------
    NMFInputError
        When shards differ in parameters, data, names or shard count, when a shard is
        missing or repeated, or when ``X`` is not the data they were fitted to.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> parts = [consensus_runs(X, 2, shard=f"{i}/3", restarts=6, seed=0) for i in (1, 2, 3)]
    >>> consensus_from_runs(parts, X).rank
    2
    """
    items = _load_all(runs, ConsensusRuns)
    first = _check_compatible(items)
    Xm, _, fnames, snames = as_matrix(X, layer=layer)
    if data_fingerprint(Xm) != first.fingerprint:
        raise NMFInputError(f"the data given to combine are not the data the runs in "
                            f"{items[0][0]} were fitted to (the fingerprints differ); pass the "
                            "same input, read the same way")
    objs = [obj for _, obj in items]
    ids = np.concatenate([o.run_ids for o in objs])
    order = np.argsort(ids, kind="stable")
    cat = {k: np.concatenate([getattr(o, k) for o in objs])[order]
           for k in ("W", "loss", "objective", "converged")}
    params = dict(first.params)
    threshold = params.pop("threshold")
    return combine_runs(Xm, cat["W"], cat["loss"], cat["objective"], cat["converged"],
                        params=params, threshold=threshold, feature_names=fnames,
                        sample_names=snames)


# --------------------------------------------------------------------------- rank selection
def select_rank_shard(X, ranks=range(1, 11), *, shard="1/1", loss="kl", holdout=0.1,
                      repeats=3, restarts=5, seed=None, threshold=DEFAULT_THRESHOLD,
                      max_iter=500, tol=1e-4, layer=None, source=None,
                      choose="smallest") -> RankShard:
    """Score shard ``i/n`` of the ranks of :func:`nmfbio.select_rank`.

    Parameters
    ----------
    X, ranks, loss, holdout, repeats, restarts, threshold, max_iter, tol, layer, choose
        As in :func:`nmfbio.select_rank`; ``ranks`` are those of all shards together.
    shard : str or (int, int), default "1/1"
        This job's share of the sorted ranks: ranks ``i-1, i-1+n, …``.
    seed : int
        Required when ``n > 1``.
    source : dict, optional
        Recorded as is.

    Returns
    -------
    RankShard

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> parts = [select_rank_shard(X, [1, 2, 3], shard=(i, 2), repeats=2, restarts=2, seed=0)
    ...          for i in (1, 2)]
    >>> [[s["rank"] for s in p.scores] for p in parts]
    [[1, 3], [2]]
    """
    i, n = parse_shard(shard)
    if n > 1 and seed is None:
        raise NMFInputError("a shard needs a seed (e.g. --seed 0) so that every shard uses "
                            "the same hold-out masks and seeds")
    plan = plan_rank_selection(X, ranks, loss=loss, holdout=holdout, repeats=repeats,
                               restarts=restarts, seed=seed, threshold=threshold,
                               max_iter=max_iter, tol=tol, layer=layer, choose=choose)
    share = shard_items(len(plan.ranks), (i, n))
    scores = [score_rank(plan, k) for k in progress(share, f"select_rank shard {i}/{n}: rank")]
    return RankShard(scores=scores, shard=(i, n), params=plan.params,
                     fingerprint=data_fingerprint(plan.X),
                     feature_names=_names(plan.feature_names),
                     sample_names=_names(plan.sample_names), source=dict(source or {}))


def select_rank_from_shards(shards, *, plan: RankPlan | None = None) -> RankSelection:
    """Combine every shard of a rank selection into the result of one
    :func:`nmfbio.select_rank`.

    Parameters
    ----------
    shards : sequence of RankShard or paths to their files
        All ``n`` shards, in any order.
    plan : RankPlan, optional
        The selection the shards must belong to (a caller that knows its data and options,
        e.g. :func:`nmfbio.signatures.extract`): shards with other parameters or data are
        refused.

    Returns
    -------
    RankSelection

    Raises
    ------
    NMFInputError
        As :func:`consensus_from_runs`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30)).astype(float)
    >>> parts = [select_rank_shard(X, [1, 2, 3], shard=(i, 2), repeats=2, restarts=2, seed=0)
    ...          for i in (1, 2)]
    >>> select_rank_from_shards(parts).table.index.tolist()
    [1, 2, 3]
    """
    items = _load_all(shards, RankShard)
    first = _check_compatible(items)
    if plan is not None:
        diff = _param_diff(plan.params, first.params)
        if diff:
            detail = "; ".join(f"{k}: {first.params.get(k)!r} in the shards, "
                               f"{plan.params.get(k)!r} here" for k in diff)
            raise NMFInputError(
                f"the rank-selection shards ({items[0][0]}, …) were run with other options "
                f"than this run ({detail}): run the shards and the run that combines them "
                "with the same options (ranks, seed, rank rule, …)")
        if first.fingerprint != data_fingerprint(plan.X):
            raise NMFInputError(
                f"the rank-selection shards ({items[0][0]}, …) were computed from other data "
                "(the data fingerprints differ): score them from this input, with the same "
                "normalisation")
    by_rank = {s["rank"]: s for _, obj in items for s in obj.scores}
    ranks = first.params["ranks"]
    if sorted(by_rank) != sorted(ranks):
        raise NMFInputError(f"the shards score ranks {sorted(by_rank)}, not the ranks {ranks} "
                            "they were planned for")
    return decide_rank(first.params, [by_rank[r] for r in ranks])
