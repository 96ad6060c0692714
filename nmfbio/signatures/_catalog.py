"""The one place that turns any catalog input into a channels × samples DataFrame.

The mutation type (SBS96, DBS78, ID83, … of :mod:`nmfbio.io.mutation_types`) is found from
the channel labels, or from the row count of an unlabelled array; every module of
:mod:`nmfbio.signatures` goes through :func:`catalog_frame` and :func:`frame_type`, so none of
them special-cases a type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio.data import as_matrix
from nmfbio.errors import NMFInputError
from nmfbio.io.mutation_types import (
    MUTATION_TYPES,
    MutationType,
    canonical_label,
    detect_mutation_type,
)
from nmfbio.io.mutation_types import mutation_type as _lookup

__all__ = ["catalog_frame", "frame_type"]

_BY_SIZE = {len(t): t for t in MUTATION_TYPES.values()}


def frame_type(frame: pd.DataFrame, what: str = "signatures") -> MutationType:
    """The mutation type whose channels a DataFrame's index holds (all of them, each once).

    Raises
    ------
    nmfbio.errors.NMFInputError
        The index is not exactly the labels of one registered type; the message lists the
        unknown, missing and duplicated labels.

    Examples
    --------
    >>> from nmfbio.io.mutation_types import mutation_type
    >>> frame_type(pd.DataFrame(index=list(mutation_type("ID83").labels))).name
    'ID83'
    """
    return _checked(list(frame.index), None, what)[0]


def _checked(labels, want, what):
    if want is None:
        try:
            mtype, _ = detect_mutation_type(labels)
        except NMFInputError as exc:
            raise NMFInputError(f"the channel labels of the {what} are not those of a "
                                f"registered mutation type: {exc}") from None
    else:
        mtype = want
    fixed = [canonical_label(x, mtype) for x in labels]
    unknown = [x for x, f in zip(labels, fixed, strict=True) if f is None]
    seen = set(f for f in fixed if f is not None)
    missing = [c for c in mtype.labels if c not in seen]
    dup = pd.Index([f for f in fixed if f is not None]).duplicated()
    dup = [f for f, d in zip([f for f in fixed if f is not None], dup, strict=True) if d]
    if unknown or missing or dup:
        raise NMFInputError(
            f"the channels of the {what} must be the {len(mtype)} {mtype.name} labels, each once; "
            f"unknown: {unknown[:5]}, missing: {missing[:5]}, duplicated: {dup[:5]}. Note: "
            f"{mtype.help}")
    return mtype, fixed


def catalog_frame(catalog, mutation_type: str | MutationType | None = None) -> pd.DataFrame:
    """Channels (canonical order of the catalog's type, aligned by label) × samples counts.

    Parameters
    ----------
    catalog : AnnData (samples × channels), DataFrame (channels × samples) or ndarray
        An unlabelled array must hold a registered type's channels as rows, in its canonical
        order (96 rows: SBS96, 78: DBS78, 83: ID83, …).
    mutation_type : str or MutationType, optional
        The type the catalog must be; by default found from the labels.

    Returns
    -------
    DataFrame
        ``attrs["mutation_type"]`` holds the type's name.

    Examples
    --------
    >>> import numpy as np
    >>> frame = catalog_frame(np.ones((78, 2)))
    >>> frame.shape, frame.index[0], frame.attrs["mutation_type"]
    ((78, 2), 'AC>CA', 'DBS78')
    """
    want = None if mutation_type is None else _lookup(mutation_type)
    X, _, fnames, snames = as_matrix(catalog)
    X = np.asarray(X.todense() if hasattr(X, "todense") else X, dtype=float)
    if fnames is None:
        mtype = want or _BY_SIZE.get(X.shape[0] if X.ndim == 2 else -1)
        if X.ndim != 2 or mtype is None or X.shape[0] != len(mtype):
            sizes = ", ".join(f"{len(t)} ({t.name})" for t in MUTATION_TYPES.values())
            raise NMFInputError(
                f"an unlabelled catalog must have one row per channel of a mutation type "
                f"(features × samples): {sizes}; got shape {X.shape}. Pass an AnnData or "
                "DataFrame with channel labels (see nmfbio.io.read_catalog)")
        fnames = list(mtype.labels)
    mtype, fixed = _checked(list(fnames), want, "catalog")
    frame = pd.DataFrame(X, index=fixed,
                         columns=snames or [f"sample{j}" for j in range(X.shape[1])])
    if (frame.to_numpy() < 0).any() or not np.isfinite(frame.to_numpy()).all():
        raise NMFInputError("catalog counts must be finite and non-negative")
    frame = frame.loc[list(mtype.labels)]
    frame.attrs["mutation_type"] = mtype.name
    return frame
