"""Open plain or gzip-compressed input files, telling them apart by content, not by name.

Shared by the catalog, variant and genome readers: a file called ``x.vcf.gz`` that was never
compressed, or a gzipped file without ``.gz`` in its name, is read all the same. BGZF files
(``bgzip``) are gzip files and are read as such.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from nmfbio.errors import FormatError

__all__ = ["is_gzip", "open_text", "reading", "check_input_file", "display_stem"]

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether the file starts with the gzip magic bytes.

    Examples
    --------
    >>> import tempfile, gzip, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> with gzip.open(p, "wt") as f:
    ...     _ = f.write("x")
    >>> is_gzip(p)
    True
    """
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def open_text(path: str | os.PathLike, *, errors: str = "strict") -> IO[str]:
    """Open a plain or gzipped UTF-8 text file for reading (a BOM is dropped).

    Examples
    --------
    >>> import tempfile, os
    >>> from pathlib import Path
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = Path(p).write_text("hello\\n")
    >>> with open_text(p) as f:
    ...     f.read()
    'hello\\n'
    """
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors=errors, newline="")
    return open(path, encoding="utf-8-sig", errors=errors, newline="")


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn what a damaged compressed file raises while it is read (a truncated gzip stream,
    a bad CRC, corrupt deflate data) into a :class:`FormatError` naming the file, the one
    path every reader of text files takes.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv.gz")
    >>> with gzip.open(p, "wt") as f:
    ...     _ = f.write("a,b\\n" * 10000)
    >>> with open(p, "r+b") as f:
    ...     _ = f.truncate(25)
    >>> with reading(p, "a matrix"), open_text(p) as f:  # doctest: +ELLIPSIS
    ...     _ = f.read()
    Traceback (most recent call last):
    nmfbio.errors.FormatError: ...x.csv.gz: the compressed file is truncated or corrupt ...
    """
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FormatError(f"the compressed file is truncated or corrupt ({type(exc).__name__}: "
                          f"{exc}); expected {what}. Compress it again, or pass the "
                          "uncompressed file", path) from None


def check_input_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``Path(path)`` after checking that it is an existing, non-empty file.

    Raises ``FileNotFoundError`` for a missing file and :class:`FormatError` for a directory
    or an empty file; ``what`` says what the file should have been ("a VCF file").

    Examples
    --------
    >>> check_input_file("no/such/file.vcf", "a VCF file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FileNotFoundError: no such file: no/such/file.vcf (expected a VCF file)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path} (expected {what})")
    if path.is_dir():
        raise FormatError(f"is a directory; expected {what}", path)
    if path.stat().st_size == 0:
        raise FormatError(f"the file is empty; expected {what}", path)
    return path


def display_stem(path: str | os.PathLike) -> str:
    """The file name without compression and format suffixes: ``a/T1.vcf.gz`` → ``T1``.

    Examples
    --------
    >>> display_stem("calls/T1.snv.vcf.gz")
    'T1.snv'
    """
    name = Path(path).name
    for suffix in (".gz", ".bgz", ".vcf", ".maf", ".txt", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name
