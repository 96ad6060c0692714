"""Validation of the solver's inputs, done once at its public boundary.

Checks the data (numeric, non-empty, non-negative, finite where observed), the mask, the
rank and the option names, and returns float64 data in the solver's layout (a copy unless the
input already is in it; the solver never writes into its data): nothing the user passed in
is ever changed. Messages say how many values are bad and where the first is,
by name when names are known. Private solver helpers assume validated input.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, NMFInputError

__all__ = ["check_data", "check_rank", "check_choice", "check_nonneg_number",
           "check_positive_int", "describe_position"]


def describe_position(i: int, j: int, feature_names=None, sample_names=None) -> str:
    """Say where entry (i, j) of X (features × samples) is, by name when known.

    Examples
    --------
    >>> describe_position(2, 5)
    'feature 2, sample 5 (row 2, column 5 of X, features × samples, 0-based)'
    """
    f = f"feature {feature_names[i]!r}" if feature_names is not None else f"feature {i}"
    s = f"sample {sample_names[j]!r}" if sample_names is not None else f"sample {j}"
    return f"{f}, {s} (row {i}, column {j} of X, features × samples, 0-based)"


def _first(bad_rows, bad_cols):
    order = np.lexsort((bad_cols, bad_rows))
    return int(bad_rows[order[0]]), int(bad_cols[order[0]])


def check_data(X, mask=None, *, feature_names=None, sample_names=None, what="X",
               warn_zero=True):
    """Validate X (and mask) and return float64 copies ready for the solver.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_features, n_samples)
    mask : bool array-like of the same shape, optional
        True where an entry is observed. NaN/inf are allowed at unobserved entries.
    feature_names, sample_names : sequence of str, optional
        Used only to make messages name the offending entry.
    what : str
        Name of the data in messages.
    warn_zero : bool, default True
        Warn about all-zero features/samples (False where the caller has already warned
        about the same data).

    Returns
    -------
    X : ndarray (C-contiguous float64) or scipy.sparse.csr_matrix (float64)
        A copy, except where X already is in this form (a C-contiguous float64 ndarray
        without a mask, or a canonical CSR matrix with positive stored values): then its
        arrays are shared, and the solver only reads them.
    mask : bool ndarray or None

    Raises
    ------
    NMFInputError
        Non-numeric, empty, negative, NaN/inf (observed), or a mask of the wrong shape.

    Examples
    --------
    >>> Xc, m = check_data([[1.0, 2.0], [3.0, 4.0]])
    >>> Xc.dtype, m is None
    (dtype('float64'), True)
    """
    if sp.issparse(X):
        if X.ndim != 2:
            raise NMFInputError(f"{what} must be 2-D, got shape {X.shape}")
        if mask is not None:
            raise NMFInputError(
                f"a mask is supported only for dense {what}; pass a dense array "
                "(or drop the mask) — sparse inputs are never densified"
            )
        if X.dtype.kind not in "biuf":
            raise NMFInputError(f"{what} must be numeric, got dtype {X.dtype}")
        if (sp.isspmatrix_csr(X) or isinstance(X, sp.csr_array)) and X.dtype == np.float64 \
                and X.has_canonical_format and X.nnz and X.data.min() > 0:
            # already canonical: share the arrays (the solver never writes into X)
            Xc = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
        else:
            Xc = sp.csr_matrix(X, dtype=np.float64, copy=True)
            Xc.sum_duplicates()
            Xc.eliminate_zeros()
            Xc.sort_indices()
        _check_empty(Xc.shape, what)
        coo = Xc.tocoo()
        _check_values(coo.data, coo.row, coo.col, feature_names, sample_names, what)
        _check_zero_lines(np.diff(Xc.indptr) == 0,
                          np.bincount(Xc.indices, minlength=Xc.shape[1]) == 0,
                          Xc, feature_names, sample_names, what, warn_zero)
        return Xc, None

    try:
        if (mask is None and type(X) is np.ndarray and X.dtype == np.float64
                and X.flags.c_contiguous):
            Xa = X  # already in the solver's layout: shared (the solver never writes into X)
        else:
            Xa = np.array(X, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as exc:
        raise NMFInputError(
            f"{what} must be a numeric matrix (features × samples); could not convert it to "
            f"numbers: {exc}"
        ) from None
    if Xa.ndim != 2:
        raise NMFInputError(f"{what} must be 2-D (features × samples), got shape {Xa.shape}")
    _check_empty(Xa.shape, what)
    if mask is not None:
        m = np.asarray(mask)
        if m.shape != Xa.shape:
            raise NMFInputError(
                f"mask must have the shape of {what} {Xa.shape} (features × samples), "
                f"got {m.shape}"
            )
        if m.dtype != bool:
            if not np.isin(m, (0, 1)).all():
                raise NMFInputError("mask must be boolean (True = observed entry)")
            m = m.astype(bool)
        m = np.ascontiguousarray(m).copy()
        if not m.any():
            raise NMFInputError("mask leaves no observed entry")
    else:
        m = None
    # valid data (the usual case) pass with two reductions (NaN fails the first); the
    # positions of bad entries are looked for only when there are some
    if m is not None or not (Xa.min() >= 0.0 and Xa.max() < np.inf):
        obs = m if m is not None else np.ones(Xa.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            rows, cols = np.nonzero(obs & ~((Xa >= 0) & np.isfinite(Xa)))
        _check_values(Xa[rows, cols], rows, cols, feature_names, sample_names, what)
    if m is not None:
        Xa[~m] = 0.0
    positive = Xa > 0
    zero_r = ~positive.any(axis=1)
    zero_c = ~positive.any(axis=0)
    _check_zero_lines(zero_r, zero_c, Xa, feature_names, sample_names, what, warn_zero)
    return Xa, m


def _check_empty(shape, what):
    if shape[0] == 0 or shape[1] == 0:
        raise NMFInputError(
            f"{what} is empty (shape {shape}, features × samples); it needs at least one "
            "feature and one sample"
        )


#: what _check_values refuses, in this order: (test, word, what to do instead)
_BAD_VALUES = (
    (np.isnan, "NaN", "Impute them, or mask them out (mask=False there) so they take no "
                      "part in the fit"),
    (np.isinf, "infinite", "Remove them or mask them out (mask=False there)"),
    (lambda v: v < 0, "negative", "NMF needs non-negative data: pass raw counts or "
                                  "non-negative intensities, not centred/z-scored/log-ratio "
                                  "values"),
)


def _check_values(vals, rows, cols, feature_names, sample_names, what):
    """Raise on NaN, infinite or negative values among ``vals`` at positions (rows, cols),
    naming how many and where the first is."""
    for test, word, advice in _BAD_VALUES:
        bad = test(vals)
        if bad.any():
            i, j = _first(rows[bad], cols[bad])
            raise NMFInputError(
                f"{what} has {int(bad.sum())} {word} value(s); the first at "
                f"{describe_position(i, j, feature_names, sample_names)}. {advice}"
            )


def _check_zero_lines(zero_rows, zero_cols, X, feature_names, sample_names, what, warn_zero):
    """Policy: all-zero features/samples are kept (their factors come out zero); warn."""
    if X.shape and np.all(zero_rows):
        raise NMFInputError(f"{what} is all zero (where observed); there is nothing to fit")
    if not warn_zero:
        return
    for flags, kind, names in ((zero_rows, "feature", feature_names),
                               (zero_cols, "sample", sample_names)):
        n = int(np.sum(flags))
        if n:
            idx = np.flatnonzero(flags)[:3]
            shown = ", ".join(repr(names[i]) if names is not None else str(i) for i in idx)
            warn(
                f"{n} {kind}(s) of {what} are all zero (where observed), e.g. {shown}; they "
                f"are kept and get zero weight. Drop them first if they should not count",
                DataWarning,
            )


def check_rank(rank, shape) -> int:
    """Validate the rank: an integer in [1, min(n_features, n_samples)].

    Examples
    --------
    >>> check_rank(2, (5, 4))
    2
    """
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise NMFInputError(f"rank must be a positive integer, got {rank!r}")
    limit = min(shape)
    if not 1 <= rank <= limit:
        raise NMFInputError(
            f"rank must be between 1 and min(n_features, n_samples) = {limit} for X of shape "
            f"{tuple(shape)} (features × samples), got {rank}"
        )
    return int(rank)


def check_choice(name: str, value, allowed) -> str:
    """Validate a string option against the allowed names (listed in the message).

    Examples
    --------
    >>> check_choice("loss", "kl", ("frobenius", "kl"))
    'kl'
    """
    if not isinstance(value, str) or value not in allowed:
        raise NMFInputError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def check_nonneg_number(name: str, value) -> float:
    """Validate a finite number >= 0 (penalties, tolerances).

    Examples
    --------
    >>> check_nonneg_number("tol", 1e-4)
    0.0001
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        np.isfinite(value) and value >= 0
    ):
        raise NMFInputError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_positive_int(name: str, value) -> int:
    """Validate an integer >= 1 (iterations, restarts).

    Examples
    --------
    >>> check_positive_int("max_iter", 10)
    10
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise NMFInputError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)
