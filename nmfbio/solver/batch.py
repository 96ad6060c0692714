"""The data of a batch of runs, in the layouts the algorithms need.

A batch shares one X (plain restarts) or holds one X per run (resampled restarts, see
``resample.py``), and optionally a mask per run (cross-validation repeats). Dense data is
kept as rows (features × samples) and columns (samples × features), each C-contiguous;
sparse data as CSR and CSC index structures shared by all runs, with one value array per run
(resampling keeps the sparsity pattern). Nothing here is ever densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["Batch"]


class Batch:
    """Validated data for ``B`` runs.

    Parameters
    ----------
    X : ndarray (n_features, n_samples) or csr_matrix, or a list of them (one per run)
        Validated, float64. A list must share shape (and, if sparse, sparsity pattern).
    mask : bool ndarray of shape (n_features, n_samples) or (B, n_features, n_samples), optional
    """

    def __init__(self, X, mask=None):
        per_run = isinstance(X, list)
        first = X[0] if per_run else X
        self.sparse = sp.issparse(first)
        self.shape = first.shape
        self.n_data = len(X) if per_run else 1
        runs = X if per_run else [X]
        m, n = self.shape
        if self.sparse:
            csr = first
            self.row_indptr, self.row_indices = csr.indptr, csr.indices
            perm_src = sp.csr_matrix((np.arange(csr.nnz, dtype=np.float64), csr.indices,
                                      csr.indptr), shape=csr.shape).tocsc()
            perm_src.sort_indices()
            self.col_indptr, self.col_indices = perm_src.indptr, perm_src.indices
            perm = perm_src.data.astype(np.int64)
            self.row_data = np.stack([x.data for x in runs])       # (Bx, nnz)
            self.col_data = np.ascontiguousarray(self.row_data[:, perm])
            self.mats = runs
            self.normX2 = np.array([float(d @ d) for d in self.row_data])
        else:
            self.rows = np.stack(runs)                                   # (Bx, m, n)
            self.cols = np.ascontiguousarray(self.rows.transpose(0, 2, 1))  # (Bx, n, m)
            self.normX2 = np.einsum("bij,bij->b", self.rows, self.rows)
        self.use_mask = mask is not None
        if mask is None:
            self.mask_rows = np.ones((1, 1, n), dtype=bool)
            self.mask_cols = np.ones((1, 1, m), dtype=bool)
            self.n_mask = 1
        else:
            mk = mask if mask.ndim == 3 else mask[None]
            self.mask_rows = np.ascontiguousarray(mk)
            self.mask_cols = np.ascontiguousarray(mk.transpose(0, 2, 1))
            self.n_mask = mk.shape[0]
        self.nnz = first.nnz if self.sparse else m * n

    def data(self, b):
        """X of run ``b`` (dense ndarray or csr_matrix)."""
        i = b if self.n_data > 1 else 0
        if self.sparse:
            return self.mats[i]
        return self.rows[i]

    def mask(self, b):
        """Mask of run ``b`` (or None)."""
        if not self.use_mask:
            return None
        return self.mask_rows[b if self.n_mask > 1 else 0]

    def product(self, F, idx, side):
        """``F_b · X_b`` (side "H": F (b, r, m) → (b, r, n)) or ``F_b · X_bᵀ`` (side "W":
        F (b, r, n) → (b, r, m)) for the runs ``idx``."""
        b, r, _ = F.shape
        if not self.sparse:
            D = self.rows if side == "H" else self.cols
            D = D[idx] if self.n_data > 1 else D
            return np.matmul(F, D)
        out_len = self.shape[1] if side == "H" else self.shape[0]
        if self.n_data == 1:
            M = self.mats[0]
            MT = M.T if side == "H" else M   # (out_len × L) sparse
            res = MT @ F.reshape(b * r, -1).T
            return np.ascontiguousarray(res.T.reshape(b, r, out_len))
        out = np.empty((b, r, out_len))
        for t, i in enumerate(idx):
            M = self.mats[i]
            MT = M.T if side == "H" else M
            out[t] = (MT @ F[t].T).T
        return out
