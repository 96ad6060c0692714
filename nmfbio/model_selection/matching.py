"""Matching components across runs: cosine similarity and one-to-one Hungarian assignment.

NMF's parts are defined only up to scale and order, so two runs are compared by the cosine
of their columns after the permutation that maximises the total cosine
(``scipy.optimize.linear_sum_assignment``). Used by consensus, rank selection and the
domain modules (signature matching). Arrays only.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["cosine_matrix", "match_columns"]


def cosine_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine similarity of every column of A with every column of B.

    Parameters
    ----------
    A : ndarray of shape (n_features, p)
    B : ndarray of shape (n_features, q)

    Returns
    -------
    ndarray of shape (p, q); zero columns have cosine 0 with everything.

    Examples
    --------
    >>> import numpy as np
    >>> cosine_matrix(np.eye(2), np.array([[1.0], [1.0]])).round(4).tolist()
    [[0.7071], [0.7071]]
    """
    na = np.linalg.norm(A, axis=0)
    nb = np.linalg.norm(B, axis=0)
    An = A / np.where(na > 0, na, 1.0)
    Bn = B / np.where(nb > 0, nb, 1.0)
    return An.T @ Bn


def match_columns(A: np.ndarray, B: np.ndarray):
    """One-to-one matching of the columns of B to those of A maximising total cosine.

    Parameters
    ----------
    A : ndarray of shape (n_features, p)
        Reference columns.
    B : ndarray of shape (n_features, q)

    Returns
    -------
    perm : ndarray of int, shape (p,)
        ``B[:, perm[k]]`` is matched to ``A[:, k]`` (-1 where ``q < p`` leaves k unmatched).
    cos : ndarray of shape (p,)
        Cosine of each matched pair (nan where unmatched).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> perm, cos = match_columns(A, A[:, ::-1] * 3)
    >>> perm.tolist(), cos.tolist()
    ([1, 0], [1.0, 1.0])
    """
    C = cosine_matrix(A, B)
    rows, cols = linear_sum_assignment(-C)
    perm = np.full(A.shape[1], -1, dtype=int)
    cos = np.full(A.shape[1], np.nan)
    perm[rows] = cols
    cos[rows] = C[rows, cols]
    return perm, cos
