"""Atomic file output: write to a temporary file beside the target, then rename.

Used by every writer in nmfbio so that an interrupted run never leaves a half-written file,
and so that no writer silently replaces one of its own inputs. The file gets the mode an
ordinary ``open(path, "w")`` would give it (0o666 less the process umask), not the private
0o600 of the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "check_not_input"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        Final destination.
    suffix : str, optional
        Suffix of the temporary file (some writers pick the format from it). Defaults to the
        destination's suffix.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file 0o600; a writer may also have replaced it with its own
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read from /proc on Linux, where reading it changes nothing)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere the only way to read it is to set it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def check_not_input(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike]):
    """Raise ``FileExistsError`` when an output path is one of the inputs.

    Parameters
    ----------
    outputs, inputs : iterables of path-like

    Examples
    --------
    >>> check_not_input(["out/W.tsv"], ["data.csv"])
    """
    ins = {Path(p).resolve() for p in inputs}
    for out in outputs:
        if Path(out).resolve() in ins:
            raise FileExistsError(
                f"refusing to write {out}: it is one of the inputs; choose another output path"
            )
