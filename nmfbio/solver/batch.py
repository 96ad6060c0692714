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
            # the CSC structure, and where each CSC entry sits in the CSR data
            perm_src = sp.csr_matrix((np.arange(csr.nnz, dtype=np.int64), csr.indices,
                                      csr.indptr), shape=csr.shape).tocsc()
            perm_src.sort_indices()
            self.col_indptr, self.col_indices = perm_src.indptr, perm_src.indices
            perm = perm_src.data
            del perm_src
            # (Bx, nnz); a shared X is a view (check_data already copied it)
            self.row_data = csr.data[None] if not per_run else np.stack([x.data for x in runs])
            self.col_data = np.ascontiguousarray(self.row_data[:, perm])
            self.mats = runs
            self.normX2 = np.array([float(d @ d) for d in self.row_data])
            self._data32 = None
        else:
            # a shared X is a view of check_data's array (the solver never writes into it)
            self.rows = X[None] if not per_run else np.stack(runs)     # (Bx, m, n)
            self._cols = None
            self._rows32 = None
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
            if not self.sparse:
                # the kernels read held-out entries as zeros: one masked copy per mask
                self.rows = np.ascontiguousarray(self.rows * mk)
                self.n_data = self.rows.shape[0]
        self.nnz = first.nnz if self.sparse else m * n

    @property
    def cols(self):
        """Dense data as (Bx, n, m), C-contiguous (made on first use)."""
        if self._cols is None:
            self._cols = np.ascontiguousarray(self.rows.transpose(0, 2, 1))
        return self._cols

    @property
    def data32(self):
        """Sparse values as float32, (row_data, col_data) (made on first use)."""
        if self._data32 is None:
            self._data32 = (self.row_data.astype(np.float32), self.col_data.astype(np.float32))
        return self._data32

    @property
    def rows32(self):
        """Dense data as float32 (Bx, m, n), C-contiguous (made on first use): the operand of
        the early, low-precision products of ``fit_hals``."""
        if self._rows32 is None:
            self._rows32 = self.rows.astype(np.float32)
        return self._rows32

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

    def product(self, F, idx, side, low=None):
        """``X_bᵀ F_b`` (side "H": F (b, m, r) → (b, n, r)) or ``X_b F_b`` (side "W":
        F (b, n, r) → (b, m, r)) for the runs ``idx``; dense or sparse X.

        ``low`` (bool per entry of ``idx``): compute that run's product in float32 (X and F
        rounded to float32, sums in float32; the result is returned in float64)."""
        b, L, r = F.shape
        out_len = self.shape[1] if side == "H" else self.shape[0]
        if not self.sparse:
            # one product per run, always in the same form, so that a run's numbers do not
            # depend on its batch; the small matrix on the left is about twice as fast in
            # OpenBLAS as X.T @ F
            out = np.empty((b, out_len, r))
            for t, i in enumerate(idx):
                j = i if self.n_data > 1 else 0
                if low is not None and low[t]:
                    X, Ft = self.rows32[j], F[t].T.astype(np.float32)
                else:
                    X, Ft = self.rows[j], F[t].T
                out[t] = (Ft @ (X if side == "H" else X.T)).T
            return out
        low = np.zeros(b, dtype=bool) if low is None else np.asarray(low, dtype=bool)
        if self.n_data == 1 and (low.all() or not low.any()):
            # all runs at once: each output column is summed on its own (see spmm)
            lo = bool(low.any())
            F2 = np.ascontiguousarray(F.transpose(1, 0, 2).reshape(L, b * r),
                                      dtype=np.float32 if lo else np.float64)
            return np.ascontiguousarray(
                self._spmm(side, 0, lo, F2).reshape(out_len, b, r).transpose(1, 0, 2))
        out = np.empty((b, out_len, r))
        for t, i in enumerate(idx):
            j = i if self.n_data > 1 else 0
            out[t] = self._spmm(side, j, low[t], np.ascontiguousarray(
                F[t], dtype=np.float32 if low[t] else np.float64))
        return out

    def _spmm(self, side, j, low, D):
        """Sparse X_j (side "W") or X_jᵀ (side "H") times ``D``, in float32 when ``low``."""
        from nmfbio.solver._ccd import KERNEL_LOCK, spmm, spmm_low

        values = self.data32 if low else (self.row_data, self.col_data)
        parts = ((self.col_indptr, self.col_indices, values[1][j]) if side == "H"
                 else (self.row_indptr, self.row_indices, values[0][j]))
        with KERNEL_LOCK:
            return (spmm_low if low else spmm)(*parts, D)
