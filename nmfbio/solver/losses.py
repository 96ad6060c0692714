"""The data-fit losses of nmfbio, one object per loss, defined as in scikit-learn's
``_beta_divergence`` so numbers compare:

* ``"frobenius"`` (beta = 2): ½‖X − WH‖²_F, Gaussian noise;
* ``"kl"`` (beta = 1): Σ x log(x / y) − x + y with y = WH, the generalised Kullback–Leibler
  divergence (Poisson likelihood up to a constant) — the right loss for counts. As in
  scikit-learn, the model is clipped at float32 epsilon inside the logarithm.

With a boolean ``mask`` only observed entries (mask True) count. Sparse X is never
densified: the model is evaluated at stored entries only, and sums over all entries use
column sums of W and row sums of H. Penalties (L1) are added by the solver, not here; the
coordinate-descent update rules for each loss live in ``_ccd.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nmfbio.solver._ccd import EPS32, KERNEL_LOCK, sparse_model_at

__all__ = ["LOSSES", "Loss", "Frobenius", "KL", "get_loss"]


class Loss:
    """A data-fit loss: its name, the exact value, and what the solver needs to know."""

    name: str = ""
    beta: float = 0.0
    #: True when the loss is the Poisson deviance family (needs counts-like data)
    is_kl: bool = False

    def value(self, X, W, H, mask=None) -> float:
        """Exact loss of ``W @ H`` against ``X`` (features × samples), in float64.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_features, n_samples)
        W : ndarray of shape (n_features, rank)
        H : ndarray of shape (rank, n_samples)
        mask : bool ndarray of shape (n_features, n_samples), optional
            Observed entries; the others contribute nothing.

        Returns
        -------
        float
        """
        raise NotImplementedError

    def entries(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss of each entry: data ``x`` against model ``y`` (1-D arrays of the same
        length), in float64; their sum is :meth:`value` over those entries.

        Examples
        --------
        >>> import numpy as np
        >>> get_loss("frobenius").entries(np.array([1.0, 3.0]), np.array([1.0, 1.0])).tolist()
        [0.0, 2.0]
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Frobenius(Loss):
    """½‖X − WH‖²_F over observed entries.

    Examples
    --------
    >>> import numpy as np
    >>> Frobenius().value(np.ones((2, 2)), np.ones((2, 1)), np.full((1, 2), 0.5))
    0.5
    """

    name = "frobenius"
    beta = 2.0

    def value(self, X, W, H, mask=None) -> float:
        W = np.asarray(W, dtype=np.float64)
        H = np.asarray(H, dtype=np.float64)
        if sp.issparse(X):
            x, y = _stored_and_model(X, W, H)
            resid_nz = float(np.sum((x - y) ** 2))
            total_y2 = float(np.sum((W.T @ W) * (H @ H.T)))
            return 0.5 * (resid_nz + total_y2 - float(np.sum(y * y)))
        R = np.asarray(X, dtype=np.float64) - W @ H
        if mask is not None:
            R = R[mask]
        return 0.5 * float(np.sum(R * R))

    def entries(self, x, y):
        r = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
        return 0.5 * r * r


class KL(Loss):
    """Generalised KL divergence Σ x log(x/y) − x + y over observed entries.

    Examples
    --------
    >>> import numpy as np
    >>> round(KL().value(np.array([[2.0]]), np.array([[1.0]]), np.array([[1.0]])), 6)
    0.386294
    """

    name = "kl"
    beta = 1.0
    is_kl = True

    def value(self, X, W, H, mask=None) -> float:
        W = np.asarray(W, dtype=np.float64)
        H = np.asarray(H, dtype=np.float64)
        if sp.issparse(X):
            x, y = _stored_and_model(X, W, H)
            if x.size and x.min() <= 0:
                keep = x > 0
                x, y = x[keep], y[keep]
            return _kl_terms(x, y) + float(W.sum(axis=0) @ H.sum(axis=1))
        X = np.asarray(X, dtype=np.float64)
        Y = W @ H
        if mask is not None:
            X = X[mask]
            Y = Y[mask]
        else:
            X = X.ravel()
            Y = Y.ravel()
        keep = X > 0
        return _kl_terms(X[keep], Y[keep]) + float(Y.sum())

    def entries(self, x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        out = y.copy()
        pos = x > 0
        xp = x[pos]
        out[pos] = xp * _kl_log_ratio(xp, y[pos]) - xp + y[pos]
        return out


def _stored_and_model(X, W, H):
    """Stored values of a sparse X and the model ``W @ H`` at the same entries (CSR order)."""
    Xr = sp.csr_matrix(X, dtype=np.float64)
    with KERNEL_LOCK:
        y = sparse_model_at(Xr.indptr, Xr.indices, W, H)
    return Xr.data, y


def _kl_log_ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log(x / max(y, eps32))`` for entries with x > 0 (the model floored where it is 0)."""
    return np.log(x / np.maximum(y, EPS32))


def _kl_terms(x: np.ndarray, y: np.ndarray) -> float:
    """Σ x log(x / max(y, eps32)) − x over entries with x > 0."""
    return float(np.dot(x, _kl_log_ratio(x, y)) - x.sum())


LOSSES: dict[str, Loss] = {"frobenius": Frobenius(), "kl": KL()}


def get_loss(name: str) -> Loss:
    """The loss object for ``name`` (``"frobenius"`` or ``"kl"``).

    Examples
    --------
    >>> get_loss("kl").beta
    1.0
    """
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        from nmfbio.errors import NMFInputError

        raise NMFInputError(f"loss must be one of {sorted(LOSSES)}, got {name!r}") from None
