"""A minimal progress bar for long loops (ranks, shards): one self-overwriting line on
stderr when stderr is a terminal, silent otherwise or when ``NMFBIO_QUIET`` is set. Every
step is also logged at INFO level through ``logging``."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator

__all__ = ["progress"]

log = logging.getLogger("nmfbio")


def progress(items: Iterable, label: str, total: int | None = None) -> Iterator:
    """Yield ``items``, drawing ``label [####    ] 3/8 12s`` on a terminal.

    Examples
    --------
    >>> list(progress([1, 2], "ranks"))
    [1, 2]
    """
    items = list(items) if total is None else items
    total = len(items) if total is None else total
    show = sys.stderr.isatty() and not os.environ.get("NMFBIO_QUIET")
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
