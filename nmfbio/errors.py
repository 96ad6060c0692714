"""Typed errors and warnings shared by every layer of nmfbio.

All errors subclass the built-in exception that fits (``ValueError`` for bad values,
``OSError`` for unreadable files), so generic handlers keep working. Messages say what was
wrong, where (file, line, column, row or sample) and what to do instead. Nothing here imports
numpy or any other part of nmfbio.
"""

from __future__ import annotations

__all__ = ["NMFInputError", "FormatError", "ConvergenceWarning", "DataWarning"]


class NMFInputError(ValueError):
    """Bad values or parameters passed to a fit: negative/NaN/inf data, bad shapes or ranks."""


class FormatError(ValueError):
    """A malformed input file. The message names the file, the line/column and what was expected.

    Parameters
    ----------
    message : str
        What was wrong and what to do.
    path : str, optional
        The file.
    line : int, optional
        1-based line number in the file.
    column : str or int, optional
        Column name or 1-based column number.
    """

    def __init__(self, message: str, path=None, line=None, column=None):
        where = []
        if path is not None:
            where.append(f"{path}")
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
        self.path = path
        self.line = line
        self.column = column


class ConvergenceWarning(UserWarning):
    """The solver stopped at ``max_iter`` before the objective settled (raise ``max_iter``)."""


class DataWarning(UserWarning):
    """Legal but suspicious data, e.g. features or samples that are all zero."""
