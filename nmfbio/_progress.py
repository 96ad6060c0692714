"""A minimal progress bar for long loops (ranks, restarts, shards): one self-overwriting line
on stderr when stderr is a terminal; silent when stderr is not a terminal (a pipe, a file, a
Snakemake log), when the command line was given ``--quiet`` (:func:`quiet`), or when the
environment variable ``NMFBIO_QUIET`` is set. Every step is also logged at INFO level through
``logging`` (shown by ``nmfbio --verbose``). Nothing here knows about NMF."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator

__all__ = ["progress", "quiet", "bars_enabled"]

log = logging.getLogger("nmfbio")

_QUIET = False


@contextlib.contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Silence progress bars inside the block (the CLI's ``--quiet``); restores on exit.

    Examples
    --------
    >>> with quiet():
    ...     bars_enabled()
    False
    """
    global _QUIET
    before = _QUIET
    _QUIET = bool(enabled) or before
    try:
        yield
    finally:
        _QUIET = before


def bars_enabled() -> bool:
    """True when a progress bar would be drawn now: stderr is a terminal and nothing asked for
    quiet (``quiet()`` or ``NMFBIO_QUIET``).

    Examples
    --------
    >>> with quiet():
    ...     bars_enabled()
    False
    """
    if _QUIET or os.environ.get("NMFBIO_QUIET"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress(items: Iterable, label: str, total: int | None = None) -> Iterator:
    """Yield ``items``, drawing ``label [####    ] 3/8 12s`` on a terminal.

    Parameters
    ----------
    items : iterable
        The loop's items (materialised when ``total`` is not given).
    label : str
        What is being looped over, e.g. ``"select_rank: rank"``.
    total : int, optional
        Number of items, when ``items`` has no ``len``.

    Examples
    --------
    >>> list(progress([1, 2], "ranks"))
    [1, 2]
    """
    items = list(items) if total is None else items
    total = len(items) if total is None else total
    show = bars_enabled()
    start = time.perf_counter()
    for i, item in enumerate(items):
        log.info("%s %d/%d: %s", label, i + 1, total, item)
        if show:
            done = int(20 * i / max(total, 1))
            sys.stderr.write(f"\r{label} [{'#' * done}{' ' * (20 - done)}] {i}/{total} "
                             f"{time.perf_counter() - start:.0f}s")
            sys.stderr.flush()
        yield item
    if show:
        sys.stderr.write(f"\r{label} [{'#' * 20}] {total}/{total} "
                         f"{time.perf_counter() - start:.0f}s\n")
