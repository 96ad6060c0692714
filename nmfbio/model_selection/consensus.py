"""Consensus over seeded restarts: which parts can be trusted.

NMF is non-convex and its parts are defined only up to scale and order, so nmfbio fits many
seeded runs (optionally each on a resampled copy of the data, as the mutational-signature
field does), aligns the components of every run to a common reference by Hungarian matching
on cosine similarity (each run contributes exactly one component to each cluster), and
iterates the reference to the element-wise median of its cluster. Per component it reports
the cosine silhouette of its cluster (``stability``), the mean matched cosine, how many runs
reproduce it, and a consensus part; H is then refitted to the original data with the
consensus parts fixed. Components whose stability falls below ``threshold`` are flagged.
Plots live in ``nmfbio.plot``; the solver does the fitting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from nmfbio._store import Stored
from nmfbio._warn import warn
from nmfbio.data import as_matrix
from nmfbio.errors import ConvergenceWarning, NMFInputError
from nmfbio.model_selection.matching import cosine_matrix, match_columns
from nmfbio.solver import get_loss, nmf_runs, refit_H
from nmfbio.solver.result import Components

__all__ = ["ConsensusResult", "consensus", "combine_runs", "check_consensus_args",
           "align_runs", "silhouettes", "cluster_runs", "DEFAULT_THRESHOLD",
           "REPRODUCED_COSINE"]

#: components whose cluster silhouette is below this are flagged as not reproducible
DEFAULT_THRESHOLD = 0.8
#: a run "reproduces" a component when its matched part has at least this cosine
REPRODUCED_COSINE = 0.9


@dataclass(repr=False)
class ConsensusResult(Stored, Components):
    """Result of :func:`consensus`.

    Attributes
    ----------
    W : ndarray of shape (n_features, rank)
        Consensus parts (median of each cluster), columns sum to 1, ordered by contribution.
    H : ndarray of shape (rank, n_samples)
        Recipes refitted to the original data with ``W`` fixed.
    stability : ndarray of shape (rank,)
        Cosine silhouette of each component's cluster (1 = identical in every run); for
        rank 1, where a silhouette is undefined, the mean matched cosine.
    mean_cosine : ndarray of shape (rank,)
        Mean cosine of each run's matched part to the consensus part.
    reproduced : ndarray of int, shape (rank,)
        Number of runs whose matched part has cosine ≥ 0.9 to the consensus part.
    stable : ndarray of bool, shape (rank,)
        ``stability >= threshold``.
    run_W : ndarray of shape (n_runs, n_features, rank)
        Every used run's parts, aligned to the consensus order (columns sum to 1).
    run_losses : ndarray of shape (n_runs,)
    n_unconverged : int
        Runs that stopped at ``max_iter``; they are left out of the clusters.
    loss : float
        Loss of ``W @ H`` on the original data.
    threshold : float
    params : dict
    feature_names, sample_names : list of str or None

    Saved and loaded through the common store (``save(path)``,
    ``ConsensusResult.load(path)``: HDF5 with format ``nmfbio.ConsensusResult``, version 2;
    version-1 files still load).
    """

    _format_version = 2

    W: np.ndarray
    H: np.ndarray
    stability: np.ndarray
    mean_cosine: np.ndarray
    reproduced: np.ndarray
    stable: np.ndarray
    run_W: np.ndarray
    run_losses: np.ndarray
    n_unconverged: int
    loss: float
    threshold: float
    params: dict = field(default_factory=dict)
    feature_names: list | None = None
    sample_names: list | None = None

    def table(self):
        """Per-component statistics as a DataFrame (index = components)."""
        import pandas as pd

        n_runs = self.run_W.shape[0]
        return pd.DataFrame({
            "stability": self.stability, "mean_cosine": self.mean_cosine,
            "reproduced": self.reproduced, "runs": n_runs, "stable": self.stable,
            "contribution": self.H.sum(axis=1) / max(self.H.sum(), 1e-300),
        }, index=pd.Index(self.component_names, name="component"))

    def W_frame(self):
        """Consensus W as a DataFrame (index = features, columns = components)."""
        import pandas as pd

        idx = self.feature_names or [str(i) for i in range(self.W.shape[0])]
        return pd.DataFrame(self.W, index=pd.Index(idx, name="feature"),
                            columns=self.component_names)

    def H_frame(self):
        """Refitted H as a DataFrame (index = components, columns = samples)."""
        import pandas as pd

        cols = self.sample_names or [str(j) for j in range(self.H.shape[1])]
        return pd.DataFrame(self.H, index=pd.Index(self.component_names, name="component"),
                            columns=cols)

    def summary(self) -> str:
        """A few lines: rank, runs, and per component its stability and verdict."""
        lines = [f"consensus of {self.run_W.shape[0]} runs at rank {self.rank} "
                 f"({self.params.get('loss')}, resample={self.params.get('resample')}): "
                 f"{int(self.stable.sum())} of {self.rank} components stable "
                 f"(silhouette ≥ {self.threshold:g})"]
        if self.n_unconverged:
            lines.append(f"  {self.n_unconverged} runs stopped at max_iter and were left out")
        for k, name in enumerate(self.component_names):
            verdict = "stable" if self.stable[k] else "NOT reproducible"
            lines.append(f"  {name}: stability {self.stability[k]:.3f}, mean cosine "
                         f"{self.mean_cosine[k]:.3f}, reproduced in {self.reproduced[k]}/"
                         f"{self.run_W.shape[0]} runs — {verdict}")
        return "\n".join(lines)

    def plot_stability(self, ax=None):
        """Bar plot of per-component stability with the threshold (returns the Axes)."""
        from nmfbio.plot.consensus import plot_stability

        return plot_stability(self, ax=ax)

    def plot_run_cosines(self, ax=None):
        """Heatmap of run-by-run cosines of all aligned parts (returns the Axes)."""
        from nmfbio.plot.consensus import plot_run_cosines

        return plot_run_cosines(self, ax=ax)

    @classmethod
    def _load_legacy(cls, f, path) -> ConsensusResult:
        """Read the layout of format version 1 (before the common store)."""
        arrays = {k: f[k][()] for k in ("W", "H", "stability", "mean_cosine", "reproduced",
                                        "stable", "run_W", "run_losses")}
        names = {k: (list(f[k].asstr()[()]) if k in f else None)
                 for k in ("feature_names", "sample_names")}
        return cls(**arrays, n_unconverged=int(f.attrs["n_unconverged"]),
                   loss=float(f.attrs["loss"]), threshold=float(f.attrs["threshold"]),
                   params=json.loads(f.attrs["params"]), **names)


def align_runs(Ws, reference=None, max_rounds=20):
    """Align the parts of many runs: Hungarian matching to a reference that is iterated to
    the element-wise median of its clusters.

    Parameters
    ----------
    Ws : sequence of ndarray, each of shape (n_features, rank)
    reference : int, optional
        Index of the run used as the first reference (default 0).
    max_rounds : int

    Returns
    -------
    aligned : ndarray of shape (n_runs, n_features, rank)
        Each run's parts, permuted so column k belongs to cluster k.
    centre : ndarray of shape (n_features, rank)
        Median of each cluster, columns sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> aligned, centre = align_runs([A, A[:, ::-1]])
    >>> bool(np.allclose(aligned[1], A))
    True
    """
    Ws = np.stack([np.asarray(W, dtype=np.float64) for W in Ws])
    centre = Ws[0 if reference is None else reference].copy()
    perms = None
    for _ in range(max_rounds):
        new = np.stack([match_columns(centre, W)[0] for W in Ws])
        aligned = np.stack([W[:, p] for W, p in zip(Ws, new, strict=True)])
        centre = np.median(aligned, axis=0)
        s = centre.sum(axis=0)
        centre = centre / np.where(s > 0, s, 1.0)
        if perms is not None and np.array_equal(new, perms):
            break
        perms = new
    return aligned, centre


def silhouettes(aligned):
    """Cosine silhouette of each cluster of aligned parts.

    Parameters
    ----------
    aligned : ndarray of shape (n_runs, n_features, rank)

    Returns
    -------
    ndarray of shape (rank,)
        Mean silhouette (distance 1 − cosine) of the members of each cluster; nan for rank 1.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> silhouettes(np.stack([A, A, A])).tolist()
    [1.0, 1.0]
    """
    R, m, r = aligned.shape
    if r == 1:
        return np.array([np.nan])
    V = aligned.transpose(0, 2, 1).reshape(R * r, m)  # row = (run, component)
    D = 1.0 - cosine_matrix(V.T, V.T)
    np.clip(D, 0.0, 2.0, out=D)
    labels = np.tile(np.arange(r), R)
    sums = np.stack([D[:, labels == k].sum(axis=1) for k in range(r)], axis=1)  # (R r, r)
    counts = np.bincount(labels, minlength=r).astype(float)
    own = labels
    a = sums[np.arange(R * r), own] / np.maximum(counts[own] - 1, 1)
    mean_other = sums / counts
    mean_other[np.arange(R * r), own] = np.inf
    b = mean_other.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-300)
    return np.array([s[labels == k].mean() for k in range(r)])


def cluster_runs(Ws, reference=None):
    """Align the parts of several runs and score each cluster.

    Parameters
    ----------
    Ws : sequence of ndarray (n_features, rank)
    reference : int, optional
        Run used as the first reference (e.g. the one with the lowest objective).

    Returns
    -------
    aligned : ndarray (n_runs, n_features, rank)
    centre : ndarray (n_features, rank), columns sum to 1
    stability : ndarray (rank,)
        Cosine silhouettes (for rank 1, the mean matched cosine).
    mean_cosine : ndarray (rank,)
    reproduced : ndarray of int (rank,)

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> cluster_runs([A, A[:, ::-1]])[2].round(12).tolist()
    [1.0, 1.0]
    """
    aligned, centre = align_runs(Ws, reference=reference)
    cos = np.stack([np.diag(cosine_matrix(centre, aligned[i])) for i in range(len(aligned))])
    mean_cos = cos.mean(axis=0)
    reproduced = (cos >= REPRODUCED_COSINE).sum(axis=0).astype(int)
    stability = silhouettes(aligned) if centre.shape[1] > 1 else mean_cos.copy()
    return aligned, centre, stability, mean_cos, reproduced


def consensus(X, rank, *, restarts=100, loss="kl", resample=None, l1_W=0.0, l1_H=0.0,
              seed=None, max_iter=500, tol=1e-4, threshold=DEFAULT_THRESHOLD, layer=None,
              n_jobs=None, volume=0.0) -> ConsensusResult:
    """Fit many seeded runs and keep the parts they agree on.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix, pandas.DataFrame or anndata.AnnData
        Non-negative data, features × samples (AnnData: samples × features), as for
        :func:`nmfbio.fit`.
    rank : int
    restarts : int, default 100
        Seeded runs (at least 2), fitted in batches.
    loss : {"kl", "frobenius"}, default "kl"
    resample : {None, "poisson", "multinomial"}
        Fit each run on its own resampled copy of the data (counts only).
    l1_W, l1_H : float
        L1 penalties, as in :func:`nmfbio.fit`.
    seed : int, optional
        Same seed → same result.
    max_iter, tol : int, float
        Per-run stopping (looser than a single fit's default: consensus averages runs).
    threshold : float, default 0.8
        Minimum cluster silhouette for a component to count as stable.
    layer : str, optional
        AnnData layer.
    n_jobs : None
        Reserved; runs are batched in one process (the compiled kernels use every core).
    volume : float, default 0
        λ̃ of minimum-volume NMF for every run (KL only; see :func:`nmfbio.fit`).

    Returns
    -------
    ConsensusResult

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> rng = np.random.default_rng(0)
    >>> W = rng.dirichlet(np.full(30, 0.5), size=3).T
    >>> X = rng.poisson(W @ rng.gamma(1.0, 300, size=(3, 80)))
    >>> res = nmfbio.consensus(X, 3, restarts=10, seed=0)
    >>> bool(res.stable.all())
    True
    """
    check_consensus_args(restarts, threshold)
    Xm, _, fnames, snames = as_matrix(X, layer=layer)
    runs = nmf_runs(Xm, rank, loss=loss, l1_W=l1_W, l1_H=l1_H, restarts=int(restarts),
                    init="random", max_iter=max_iter, tol=tol, seed=seed, resample=resample,
                    feature_names=fnames, sample_names=snames, volume=volume, _warn=False)
    params = dict(rank=int(rank), restarts=int(restarts), loss=get_loss(loss).name,
                  resample=resample or "none", l1_W=l1_W, l1_H=l1_H, seed=runs[0].seed,
                  max_iter=max_iter, tol=tol, volume=float(volume))
    return combine_runs(
        Xm, np.stack([r.W for r in runs]), np.array([r.loss for r in runs]),
        np.array([r.objective for r in runs]), np.array([r.converged for r in runs]),
        params=params, threshold=threshold, feature_names=fnames, sample_names=snames,
    )


def check_consensus_args(restarts, threshold) -> None:
    """Validate ``restarts`` (an integer ≥ 2) and ``threshold`` (in [-1, 1])."""
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 2:
        raise NMFInputError(f"consensus needs restarts >= 2 (an integer), got {restarts!r}")
    if not (isinstance(threshold, (int, float)) and -1 <= threshold <= 1):
        raise NMFInputError(f"threshold must be a silhouette in [-1, 1], got {threshold!r}")


def combine_runs(X, Ws, losses, objectives, converged, *, params, threshold=DEFAULT_THRESHOLD,
                 feature_names=None, sample_names=None) -> ConsensusResult:
    """The consensus of given runs: cluster their parts, refit H to ``X``, order, score.

    :func:`consensus` fits the runs and calls this;
    :func:`nmfbio.model_selection.consensus_from_runs` calls it on runs fitted in shards, so
    both give the same result.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_features, n_samples)
        The data the runs were fitted to (validated, as returned by ``as_matrix``).
    Ws : ndarray of shape (n_runs, n_features, rank)
        Each run's parts (columns sum to 1), in run (seed) order.
    losses, objectives : ndarray of shape (n_runs,)
    converged : ndarray of bool, shape (n_runs,)
        Runs that stopped at ``max_iter`` are left out of the clusters.
    params : dict
        ``rank``, ``restarts``, ``loss``, ``resample``, ``l1_W``, ``l1_H``, ``seed``,
        ``max_iter``, ``tol`` (recorded in the result; ``loss`` and ``l1_H`` also refit H).
    threshold : float
    feature_names, sample_names : list of str, optional

    Returns
    -------
    ConsensusResult

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0.5, 0.0], [0.5, 0.2], [0.0, 0.8]])
    >>> X = W @ np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    >>> res = combine_runs(X, np.stack([W, W[:, ::-1]]), np.zeros(2), np.zeros(2),
    ...                    np.ones(2, bool), params=dict(loss="frobenius", l1_H=0.0))
    >>> bool(np.allclose(res.W @ res.H, X, atol=1e-4))
    True
    """
    converged = np.asarray(converged, dtype=bool)
    n_runs = len(converged)
    used = np.flatnonzero(converged)
    n_unconverged = n_runs - len(used)
    max_iter = params.get("max_iter")
    if n_unconverged:
        warn(f"{n_unconverged} of {n_runs} runs stopped at max_iter={max_iter} and are left "
             "out of the consensus; raise max_iter", ConvergenceWarning)
    if len(used) < 2:
        raise NMFInputError(
            f"only {len(used)} of {n_runs} runs converged within max_iter={max_iter}; "
            "raise max_iter or tol"
        )
    best = int(np.argmin(np.asarray(objectives)[used]))
    aligned, centre, stability, mean_cos, reproduced = cluster_runs(
        [Ws[i] for i in used], reference=best)
    loss, l1_H = params["loss"], params.get("l1_H", 0.0)
    H, value = refit_H(X, centre, loss=loss, l1_H=l1_H, _warn=False)
    order = np.argsort(-H.sum(axis=1), kind="stable")
    return ConsensusResult(
        W=np.ascontiguousarray(centre[:, order]), H=np.ascontiguousarray(H[order]),
        stability=stability[order], mean_cosine=mean_cos[order],
        reproduced=reproduced[order].astype(int), stable=stability[order] >= threshold,
        run_W=np.ascontiguousarray(aligned[:, :, order]),
        run_losses=np.asarray(losses, dtype=float)[used], n_unconverged=n_unconverged,
        loss=float(value), threshold=float(threshold), params=dict(params),
        feature_names=feature_names, sample_names=sample_names,
    )
