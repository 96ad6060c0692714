"""What a report is made of: a :class:`Section` (one result: title, summary, parameters and a
list of blocks — text, figures encoded as PNG, tables) and a :class:`ResultKind` (how to
recognise one kind of nmfbio output and which function builds its section), with small
detector helpers (:func:`has_files`, :func:`h5_result`). Nothing here reads a particular
result or writes HTML: the builders live in :mod:`nmfbio.report.sections` and
:mod:`nmfbio.report.domains`, the page in :mod:`nmfbio.report.html`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Section", "TextBlock", "FigureBlock", "TableBlock", "ResultKind", "has_files",
           "h5_result", "h5_format", "MAX_TABLE_ROWS"]

#: tables longer than this are cut in the page (the note names the file with all rows)
MAX_TABLE_ROWS = 30


@dataclass(frozen=True)
class TextBlock:
    """A paragraph (``pre=True``: preformatted, e.g. a multi-line summary)."""

    text: str
    pre: bool = False


@dataclass(frozen=True)
class FigureBlock:
    """A figure as PNG bytes, with its caption."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class TableBlock:
    """A table (already cut to at most ``MAX_TABLE_ROWS`` rows) with caption and note."""

    caption: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Section:
    """One result in the report.

    Attributes
    ----------
    title : str
        Heading, e.g. ``"Consensus at rank 3"``.
    kind : str
        The :class:`ResultKind` name that built it (``"fit"``, ``"consensus"``, ...).
    source : Path
        The folder or file it was read from.
    summary : str
        The result's own summary text (shown preformatted).
    params : dict
        Parameters of the run that produced the result (shown as a table).
    blocks : list of TextBlock, FigureBlock, TableBlock
        The body, in order.
    files : list of Path
        Every file read, so the report is never written over one of them.
    result : str
        The RESULT argument it was found in (set by ``find_sections``).

    Examples
    --------
    >>> import pandas as pd
    >>> sec = Section("Example", "demo", Path("out"))
    >>> sec.table(pd.DataFrame({"a": range(50)}), "fifty rows").note
    'first 30 of 50 rows'
    """

    title: str
    kind: str
    source: Path
    summary: str = ""
    params: dict = field(default_factory=dict)
    blocks: list = field(default_factory=list)
    files: list = field(default_factory=list)
    result: str = ""

    def read(self, path: Path) -> Path:
        """Record ``path`` as read (an input of the report) and return it."""
        self.files.append(Path(path))
        return Path(path)

    def text(self, text: str, *, pre: bool = False) -> TextBlock:
        """Append a paragraph."""
        block = TextBlock(str(text), pre)
        self.blocks.append(block)
        return block

    def figure(self, fig_or_ax, caption: str, *, dpi: int = 100) -> FigureBlock:
        """Append a matplotlib Figure or Axes (its whole figure), rendered to PNG now."""
        fig = fig_or_ax.figure.figure  # Axes -> (Sub)Figure -> Figure; Figure -> itself
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        block = FigureBlock(caption, buf.getvalue())
        self.blocks.append(block)
        return block

    def image(self, path: Path, caption: str) -> FigureBlock:
        """Append a PNG file that the command already drew (read, recorded as an input)."""
        block = FigureBlock(caption, self.read(path).read_bytes())
        self.blocks.append(block)
        return block

    def table(self, frame: pd.DataFrame, caption: str, *, note: str = "",
              max_rows: int = MAX_TABLE_ROWS) -> TableBlock:
        """Append a table; only its first ``max_rows`` rows are kept (said in the note)."""
        n = len(frame)
        if n > max_rows:
            cut = f"first {max_rows} of {n} rows"
            note = f"{cut}; {note}" if note else cut
            frame = frame.iloc[:max_rows]
        block = TableBlock(caption, frame, note)
        self.blocks.append(block)
        return block


@dataclass(frozen=True)
class ResultKind:
    """How to recognise one kind of nmfbio output, and how to build its section.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"consensus"``.
    describe : str
        What the user should pass, for error messages, e.g.
        ``"consensus.h5 (nmfbio consensus)"``.
    detect : callable (Path) -> Path or None
        Given a RESULT (a folder or a file), the path to hand to ``build`` when this kind is
        there, else None. Must not raise on unrelated files.
    build : callable (Path) -> Section
        Reads the result and returns its section; raises FormatError on a malformed result.
    covers : tuple of str
        Kinds whose files this one already shows (they are skipped in the same folder), e.g.
        signature extraction covers the ``"rank"`` table it contains.
    """

    name: str
    describe: str
    detect: Callable[[Path], Path | None]
    build: Callable[[Path], Section]
    covers: tuple[str, ...] = ()


def has_files(*names: str) -> Callable[[Path], Path | None]:
    """A detector: a folder holding all of ``names`` (returns the folder). A file given
    directly counts as its folder when it is the only name required.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "assemblies.h5").write_bytes(b"")
    >>> has_files("assemblies.h5")(d) == d, has_files("assemblies.h5", "x.tsv")(d)
    (True, None)
    """
    def detect(path: Path) -> Path | None:
        if path.is_dir():
            return path if all((path / n).is_file() for n in names) else None
        if len(names) == 1 and path.name == names[0]:
            return path.parent
        return None

    return detect


def h5_format(path: Path) -> str | None:
    """The format name of an nmfbio HDF5 result (``nmfbio.NMFResult``, …; any version), or
    None when the file is not one (see :func:`nmfbio._store.read_format`)."""
    from nmfbio._store import read_format

    found = read_format(path)
    return None if found is None else found[0]


def h5_result(name: str, fmt: str) -> Callable[[Path], Path | None]:
    """A detector for an HDF5 result: ``name`` inside a folder (returned whatever it holds, so
    a damaged file gets a clear error from its loader), or a file given directly whose
    ``format`` attribute is ``fmt`` (any file name).

    Examples
    --------
    >>> h5_result("result.h5", "nmfbio.NMFResult")(Path("no/such/folder")) is None
    True
    """
    def detect(path: Path) -> Path | None:
        if path.is_dir():
            return path / name if (path / name).is_file() else None
        return path if path.is_file() and h5_format(path) == fmt else None

    return detect
