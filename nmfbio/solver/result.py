"""``NMFResult``: the fitted factors of one NMF run, with names, diagnostics and HDF5 I/O
through :mod:`nmfbio._store`.

Conventions (see docs/architecture.md): X (features × samples) ≈ W H; each column of ``W`` sums to 1
(a part is a distribution over features) and ``H`` carries the scale; components are
ordered by total contribution (row sums of H), largest first. Only arrays live here; the
``*_frame`` helpers import pandas lazily, and AnnData write-back lives in ``nmfbio.data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from nmfbio._store import Stored

__all__ = ["NMFResult", "Components"]


class Components:
    """``rank`` and ``component_names`` of a result whose ``W`` is features × rank (shared
    by :class:`NMFResult` and :class:`~nmfbio.model_selection.ConsensusResult`)."""

    @property
    def rank(self) -> int:
        """Number of components."""
        return int(self.W.shape[1])

    @property
    def component_names(self) -> list[str]:
        """Names of the components: ``C1``, ``C2``, … in order of contribution."""
        return [f"C{k + 1}" for k in range(self.rank)]


@dataclass(repr=False)
class NMFResult(Stored, Components):
    """Result of :func:`nmfbio.fit`.

    Attributes
    ----------
    W : ndarray of shape (n_features, rank)
        The parts (signatures, assemblies, programs); each column sums to 1.
    H : ndarray of shape (rank, n_samples)
        The recipes (exposures, activations, usages); carries the scale.
    loss : float
        Data-fit loss of ``W @ H`` (float64, see ``nmfbio.solver.losses``).
    objective : float
        ``loss`` plus the L1 penalties, evaluated at the solver's own scaling of the factors
        (before the columns of W were normalised).
    loss_name : str
        ``"frobenius"`` or ``"kl"``.
    history : ndarray
        Objective after each iteration of the returned run, exact in float64. Dense KL fits
        evaluate it only every few iterations while it falls fast (up to 8 apart; every
        iteration once the decrease nears ``tol``): NaN at the iterations skipped. The
        first and last entries are always evaluated.
    n_iter : int
    converged : bool
        False when the run stopped at ``max_iter``.
    seed : int or None
        The seed that reproduces this result (drawn and recorded when none was given).
    params : dict
        The options of the fit.
    feature_names, sample_names : ndarray of str or None
    restart_objectives : ndarray
        Final objective of every restart; the best one was returned.

    Saved and loaded through the common store (``save(path)``, ``NMFResult.load(path)``:
    HDF5 with format ``nmfbio.NMFResult``, version 2; version-1 files still load).

    Examples
    --------
    >>> import numpy as np, os, tempfile, nmfbio
    >>> X = np.array([[2.0, 1.0], [0.0, 1.5], [1.0, 0.0]]) @ np.array([[1, 0, 2], [0.5, 1, 0]])
    >>> res = nmfbio.fit(X, 2, seed=0)
    >>> res.W.sum(axis=0).round(6).tolist()
    [1.0, 1.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "result.h5")
    >>> res.save(path); nmfbio.NMFResult.load(path).n_iter == res.n_iter
    True
    """

    _format_version = 2

    W: np.ndarray
    H: np.ndarray
    loss: float
    objective: float
    loss_name: str
    history: np.ndarray
    n_iter: int
    converged: bool
    seed: int | None = None
    params: dict = field(default_factory=dict)
    feature_names: np.ndarray | None = None
    sample_names: np.ndarray | None = None
    restart_objectives: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_dead(self) -> int:
        """Number of dead components: all-zero column of W and row of H (they add nothing
        to the model; the solver warns when the returned fit has any)."""
        return int(np.sum(~(self.W.any(axis=0) & self.H.any(axis=1))))

    def reconstruct(self) -> np.ndarray:
        """The model ``W @ H`` (dense, features × samples).

        Examples
        --------
        >>> import numpy as np
        >>> from nmfbio.solver import NMFResult
        >>> r = NMFResult(np.ones((2, 1)) / 2, np.ones((1, 3)) * 4, 0.0, 0.0, "kl",
        ...               np.zeros(0), 0, True)
        >>> r.reconstruct().tolist()
        [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
        """
        return self.W @ self.H

    # ---------------------------------------------------------------- tables
    def W_frame(self):
        """W as a pandas DataFrame (index = features, columns = components)."""
        import pandas as pd

        return pd.DataFrame(self.W, index=self._names(self.feature_names, self.W.shape[0]),
                            columns=self.component_names)

    def H_frame(self):
        """H as a pandas DataFrame (index = components, columns = samples)."""
        import pandas as pd

        return pd.DataFrame(self.H, index=self.component_names,
                            columns=self._names(self.sample_names, self.H.shape[1]))

    def to_frames(self):
        """``(W_frame(), H_frame())``."""
        return self.W_frame(), self.H_frame()

    @staticmethod
    def _names(names, n):
        return list(names) if names is not None else [str(i) for i in range(n)]

    def summary(self) -> str:
        """One line: rank, loss, iterations and convergence.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfbio.solver import NMFResult
        >>> NMFResult(np.ones((2, 1)), np.ones((1, 2)), 0.5, 0.5, "kl", np.zeros(1), 7,
        ...           True).summary()
        'NMF rank 1 (kl) on 2 features × 2 samples: loss 0.5, 7 iterations, converged'
        """
        state = "converged" if self.converged else "NOT converged (raise max_iter)"
        return (
            f"NMF rank {self.rank} ({self.loss_name}) on {self.W.shape[0]} features × "
            f"{self.H.shape[1]} samples: loss {self.loss:.6g}, {self.n_iter} iterations, "
            f"{state}"
        )

    # ---------------------------------------------------------------- HDF5
    @classmethod
    def _load_legacy(cls, f, path) -> NMFResult:
        """Read the layout of format version 1 (before the common store)."""
        names = {}
        for key in ("feature_names", "sample_names"):
            names[key] = np.array(f[key].asstr()[()], dtype=object) if key in f else None
        seed = int(f.attrs["seed"])
        return cls(
            W=f["W"][()], H=f["H"][()], loss=float(f.attrs["loss"]),
            objective=float(f.attrs["objective"]), loss_name=str(f.attrs["loss_name"]),
            history=f["history"][()], n_iter=int(f.attrs["n_iter"]),
            converged=bool(f.attrs["converged"]), seed=None if seed < 0 else seed,
            params=json.loads(f.attrs["params"]),
            restart_objectives=f["restart_objectives"][()], **names,
        )
