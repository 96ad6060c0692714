"""Warnings that point at the user's code, not at nmfbio's internals."""

from __future__ import annotations

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def warn(message: str, category: type[Warning]) -> None:
    """Issue ``category(message)`` attributed to the first caller outside the nmfbio package.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as rec:
    ...     warnings.simplefilter("always")
    ...     warn("careful", UserWarning)
    >>> str(rec[0].message)
    'careful'
    """
    level = 2  # stacklevel 2 is the function that called warn()
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
