"""A small reader of reference genomes in FASTA format, with random access through a ``.fai``.

Mutation catalogs need the bases around each variant; this reader fetches them without
network access or a compiled dependency (``pyfaidx`` and ``pysam`` are not needed).

Plain FASTA
    Read with random access through a samtools-style index (``NAME LENGTH OFFSET LINEBASES
    LINEWIDTH``). An existing ``<fasta>.fai`` is used; without one the index is built in
    memory by one pass over the file (about as long as reading it; nothing is written next
    to your FASTA). :meth:`FastaReader.write_index` writes one when you ask for it, and
    ``samtools faidx genome.fa`` makes the same file.
Gzipped FASTA (``.fa.gz``, including bgzip)
    Decompressed and held in memory whole: fine for small genomes and tests, about 3 GB of
    memory for a human genome, so decompress large genomes first.

Sequence names are the first word after ``>``; bases are returned in upper case (soft-masked
lower-case bases are ordinary bases). Errors are :class:`~nmfbio.errors.FormatError` naming
the file and line.
"""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path

from nmfbio._atomic import atomic_path
from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, is_gzip

__all__ = ["FastaReader"]

log = logging.getLogger(__name__)

_REWRAP = ("every line of a sequence except its last must hold the same number of bases "
           "(the rule of samtools faidx); re-wrap the file, e.g. with 'seqkit seq -w 60'")


class _Entry:
    """One sequence's index entry (the five .fai fields)."""

    __slots__ = ("name", "length", "offset", "line_bases", "line_width")

    def __init__(self, name, length, offset, line_bases, line_width):
        self.name, self.length, self.offset = name, length, offset
        self.line_bases, self.line_width = line_bases, line_width


class FastaReader:
    """Random access to the bases of a FASTA file by chromosome and 1-based position.

    Parameters
    ----------
    path : path-like
        A plain or gzipped FASTA file.
    fai : path-like, optional
        The index of a plain FASTA. Defaults to ``<path>.fai`` when that file exists;
        otherwise the index is built in memory.

    Raises
    ------
    FileNotFoundError
        The FASTA (or a given ``fai``) does not exist.
    nmfbio.errors.FormatError
        Not a FASTA file, a duplicate sequence name, lines of irregular length, or an index
        that does not match the file.

    Examples
    --------
    >>> import tempfile, os
    >>> from pathlib import Path
    >>> p = os.path.join(tempfile.mkdtemp(), "g.fa")
    >>> _ = Path(p).write_text(">chr1 test\\nACGTAC\\nGTacgt\\n>chr2\\nTTTT\\n")
    >>> with FastaReader(p) as fa:
    ...     fa.names, fa.fetch("chr1", 5, 8), fa.context("chr1", 1)
    (('chr1', 'chr2'), 'ACGT', 'NAC')
    """

    def __init__(self, path: str | os.PathLike, *, fai: str | os.PathLike | None = None):
        self.path = check_input_file(path, "a FASTA file")
        self._seqs: dict[str, str] | None = None
        self._index: dict[str, _Entry] = {}
        self._file = None
        if is_gzip(self.path):
            if fai is not None:
                raise NMFInputError("fai= applies to plain FASTA files; a gzipped FASTA is "
                                    f"read into memory whole ({self.path})")
            self._seqs = _load_gzip(self.path)
            self._lengths = {name: len(seq) for name, seq in self._seqs.items()}
            return
        fai_path = Path(fai) if fai is not None else Path(f"{self.path}.fai")
        if fai is not None and not fai_path.exists():
            raise FileNotFoundError(f"no such FASTA index: {fai_path}")
        if fai_path.exists():
            self._index = _read_fai(fai_path, self.path.stat().st_size)
        else:
            log.info("%s has no .fai index; building one in memory (write it once with "
                     "FastaReader.write_index() or 'samtools faidx' to skip this)", self.path)
            self._index = _build_index(self.path)
        self._lengths = {name: e.length for name, e in self._index.items()}
        self._file = open(self.path, "rb")

    # ------------------------------------------------------------------ container protocol
    @property
    def names(self) -> tuple[str, ...]:
        """Sequence names in file order."""
        return tuple(self._lengths)

    @property
    def lengths(self) -> dict[str, int]:
        """Length in bases of each sequence."""
        return dict(self._lengths)

    def __contains__(self, name: object) -> bool:
        return name in self._lengths

    def __len__(self) -> int:
        return len(self._lengths)

    def __repr__(self) -> str:
        return f"FastaReader({str(self.path)!r}, {len(self)} sequences)"

    def close(self) -> None:
        """Close the underlying file (a gzipped FASTA holds none)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> FastaReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ access
    def fetch(self, name: str, start: int, end: int) -> str:
        """Bases ``start``..``end`` (1-based, inclusive) of sequence ``name``, upper case.

        Positions outside the sequence (before 1 or past its end) come back as ``N``, so the
        result always has ``end - start + 1`` characters.

        Raises
        ------
        KeyError
            ``name`` is not a sequence of this FASTA.
        """
        if name not in self._lengths:
            raise KeyError(name)
        length = self._lengths[name]
        lo, hi = max(start, 1), min(end, length)
        if lo > hi:
            return "N" * max(end - start + 1, 0)
        if self._seqs is not None:
            core = self._seqs[name][lo - 1:hi].upper()
        else:
            core = self._read(self._index[name], lo - 1, hi)
        return "N" * (lo - start) + core + "N" * (end - hi)

    def context(self, name: str, position: int) -> str:
        """The base at 1-based ``position`` with its 5' and 3' neighbours (3 characters).

        Examples
        --------
        >>> import tempfile, os
        >>> from pathlib import Path
        >>> p = os.path.join(tempfile.mkdtemp(), "g.fa")
        >>> _ = Path(p).write_text(">1\\nGATTACA\\n")
        >>> with FastaReader(p) as fa:
        ...     fa.context("1", 4)
        'TTA'
        """
        return self.fetch(name, position - 1, position + 1)

    def _read(self, e: _Entry, s: int, t: int) -> str:
        """Bases [s, t) (0-based) of an indexed sequence; s < t."""
        if self._file is None:
            raise ValueError(f"I/O on a closed FastaReader ({self.path})")
        first = e.offset + (s // e.line_bases) * e.line_width + s % e.line_bases
        last = e.offset + ((t - 1) // e.line_bases) * e.line_width + (t - 1) % e.line_bases
        self._file.seek(first)
        raw = self._file.read(last - first + 1).replace(b"\n", b"").replace(b"\r", b"")
        if len(raw) != t - s or b">" in raw:
            raise FormatError(f"the index does not match the file at sequence {e.name!r} "
                              "(was the FASTA changed after its .fai was made?); delete the "
                              ".fai or re-create it with 'samtools faidx'", self.path)
        return raw.decode("ascii", errors="replace").upper()

    # ------------------------------------------------------------------ index output
    def write_index(self, path: str | os.PathLike | None = None) -> Path:
        """Write the index of a plain FASTA as a ``.fai`` file (default ``<fasta>.fai``).

        Only called when you ask for it; the file is written atomically and an existing one
        is not replaced.

        Returns
        -------
        pathlib.Path
            The index written.
        """
        if self._seqs is not None:
            raise NMFInputError(f"{self.path} is gzipped: write_index applies to plain FASTA "
                                "(decompress it, or use 'samtools faidx' on a bgzip file)")
        out = Path(path) if path is not None else Path(f"{self.path}.fai")
        if out.exists():
            raise FileExistsError(f"refusing to replace the existing index {out}")
        with atomic_path(out) as tmp:
            tmp.write_text("".join(
                f"{e.name}\t{e.length}\t{e.offset}\t{e.line_bases}\t{e.line_width}\n"
                for e in self._index.values()))
        return out


def _load_gzip(path: Path) -> dict[str, str]:
    seqs: dict[str, list[str]] = {}
    current: list[str] | None = None
    try:
        with gzip.open(path, "rt", encoding="ascii", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if line.startswith(">"):
                    name = _header_name(line, path, number)
                    if name in seqs:
                        raise FormatError(f"duplicate sequence name {name!r}", path, number)
                    current = seqs[name] = []
                elif current is not None:
                    current.append(line.strip())
                elif line.strip():
                    raise FormatError("sequence before the first '>' header line: not a "
                                      "FASTA file?", path, number)
    except (OSError, EOFError) as exc:
        raise FormatError(f"not a readable gzip file ({exc})", path) from None
    if not seqs:
        raise FormatError("no '>' header line: not a FASTA file", path)
    return {name: "".join(parts) for name, parts in seqs.items()}


def _header_name(line, path, number) -> str:
    text = line[1:].decode("ascii", "replace") if isinstance(line, bytes) else line[1:]
    words = text.split()
    if not words:
        raise FormatError("a '>' header line without a sequence name", path, number)
    return words[0]


def _build_index(path: Path) -> dict[str, _Entry]:
    """One pass over a plain FASTA, checking the line layout that random access relies on."""
    index: dict[str, _Entry] = {}
    e: _Entry | None = None
    ended = False  # a short (last) line of the current sequence has been seen
    offset = 0
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if line.startswith(b">"):
                name = _header_name(line, path, number)
                if name in index:
                    raise FormatError(f"duplicate sequence name {name!r}", path, number)
                e = index[name] = _Entry(name, 0, offset + len(line), 0, 0)
                ended = False
            else:
                n = len(line.rstrip(b"\r\n"))
                if e is None:
                    if line.strip():
                        raise FormatError("sequence before the first '>' header line: not a "
                                          "FASTA file?", path, number)
                elif n:
                    if ended:
                        raise FormatError(f"a line of bases after a shorter line of the same "
                                          f"sequence {e.name!r}: {_REWRAP}", path, number)
                    if e.line_bases and n > e.line_bases:
                        raise FormatError(f"a line of {n} bases after lines of "
                                          f"{e.line_bases}: {_REWRAP}", path, number)
                    if not e.line_bases:
                        e.line_bases, e.line_width = n, len(line)
                    elif n < e.line_bases:
                        ended = True
                    elif len(line) != e.line_width and line.endswith(b"\n"):
                        raise FormatError("line endings differ from the sequence's first "
                                          "line (mixed \\n and \\r\\n?)", path, number)
                    e.length += n
                else:
                    ended = ended or bool(e.line_bases)
            offset += len(line)
    if not index:
        raise FormatError("no '>' header line: not a FASTA file", path)
    return index


def _read_fai(fai: Path, fasta_size: int) -> dict[str, _Entry]:
    index: dict[str, _Entry] = {}
    with open(fai, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            try:
                name = fields[0]
                length, offset, line_bases, line_width = (int(x) for x in fields[1:5])
            except (ValueError, IndexError):
                raise FormatError("expected 5 tab-separated fields NAME LENGTH OFFSET "
                                  "LINEBASES LINEWIDTH (a samtools faidx index)", fai,
                                  number) from None
            if length and (line_bases <= 0 or line_width < line_bases
                           or offset + (length - 1) // line_bases * line_width > fasta_size):
                raise FormatError(f"the entry for {name!r} does not fit the FASTA (was the "
                                  "FASTA changed after the index was made?); delete the .fai "
                                  "or re-create it with 'samtools faidx'", fai, number)
            index[name] = _Entry(name, length, offset, line_bases, line_width)
    return index
