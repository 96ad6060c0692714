"""The one place that turns any catalog input into a channels × samples DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio.data import as_matrix
from nmfbio.errors import NMFInputError
from nmfbio.io.sbs96 import CHANNELS

__all__ = ["catalog_frame"]


def catalog_frame(catalog) -> pd.DataFrame:
    """96 channels (``CHANNELS`` order, aligned by label) × samples counts.

    Parameters
    ----------
    catalog : AnnData (samples × channels), DataFrame (channels × samples) or ndarray
        An unlabelled array must be 96 × samples in ``CHANNELS`` order.

    Examples
    --------
    >>> import numpy as np
    >>> catalog_frame(np.ones((96, 2))).shape
    (96, 2)
    """
    X, _, fnames, snames = as_matrix(catalog)
    X = np.asarray(X.todense() if hasattr(X, "todense") else X, dtype=float)
    if fnames is None:
        if X.ndim != 2 or X.shape[0] != len(CHANNELS):
            raise NMFInputError(
                f"an unlabelled catalog must have the 96 channels as rows (features × samples),"
                f" got shape {X.shape}; pass an AnnData or DataFrame with channel labels (see "
                "nmfbio.io.read_catalog)")
        fnames = list(CHANNELS)
    frame = pd.DataFrame(X, index=fnames,
                         columns=snames or [f"sample{j}" for j in range(X.shape[1])])
    known = set(CHANNELS)
    unknown = [c for c in frame.index if c not in known]
    missing = [c for c in CHANNELS if c not in set(frame.index)]
    dup = frame.index[frame.index.duplicated()].tolist()
    if unknown or missing or dup:
        raise NMFInputError(f"catalog channels must be the 96 SBS labels like 'A[C>A]T', each "
                            f"once; unknown: {unknown[:5]}, missing: {missing[:5]}, duplicated: "
                            f"{dup[:5]}")
    if (frame.to_numpy() < 0).any() or not np.isfinite(frame.to_numpy()).all():
        raise NMFInputError("catalog counts must be finite and non-negative")
    return frame.loc[list(CHANNELS)]
