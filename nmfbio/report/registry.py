"""The registry of result kinds the report recognises, and :func:`find_sections`, which turns
RESULT paths (output folders of nmfbio commands, or result files) into sections.

A RESULT folder is offered to every :class:`~nmfbio.report.model.ResultKind` in
:data:`KINDS`, in order; each kind whose detector finds its files there gives a section,
except kinds covered by another one found in the same folder (the rank table inside a
signature extraction). A file given directly gives the sections of the kinds that detect it
(HDF5 results by their ``format`` attribute, ``nmfbio rank``'s table by its first line). A
folder where no kind is found directly is searched one level down (a folder of output
folders, such as a workflow's ``results/``). To add a kind, append one entry (see
:mod:`nmfbio.report`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from nmfbio.errors import FormatError
from nmfbio.report.assemblies import assemblies_section, detect_assemblies
from nmfbio.report.domains import (
    assign_section,
    extract_section,
    joint_section,
    match_section,
    programs_section,
)
from nmfbio.report.model import ResultKind, Section, h5_result, has_files
from nmfbio.report.sections import (
    anchors_section,
    consensus_section,
    fit_section,
    is_rank_table,
    rank_section,
)

__all__ = ["KINDS", "register", "find_sections"]

log = logging.getLogger(__name__)


def _rank_table(path: Path) -> Path | None:
    table = path / "rank_selection.tsv" if path.is_dir() else path
    return table if table.is_file() and is_rank_table(table) else None


#: Every result kind the report knows, in the order their sections appear for one folder.
KINDS: list[ResultKind] = [
    ResultKind("fit", "result.h5 (nmfbio fit)",
               h5_result("result.h5", "nmfbio.NMFResult"), fit_section),
    ResultKind("consensus", "consensus.h5 (nmfbio consensus)",
               h5_result("consensus.h5", "nmfbio.ConsensusResult"), consensus_section),
    ResultKind("rank", "rank_selection.tsv (nmfbio rank)", _rank_table, rank_section),
    ResultKind("anchors", "anchors.tsv (nmfbio anchors)", has_files("anchors.tsv"),
               anchors_section),
    ResultKind("signatures extract",
               "signatures.tsv, exposures.tsv, stability.tsv (nmfbio signatures extract)",
               has_files("signatures.tsv", "exposures.tsv", "stability.tsv",
                         "rank_selection.tsv"), extract_section, covers=("rank",)),
    ResultKind("signatures extract (joint)",
               "shares.tsv, signatures.<TYPE>.tsv, exposures.tsv, stability.tsv (nmfbio "
               "signatures extract with several catalogs)",
               has_files("shares.tsv", "exposures.tsv", "stability.tsv", "rank_selection.tsv"),
               joint_section, covers=("rank",)),
    ResultKind("signatures match",
               "cosine.tsv, matches.tsv, decomposition.tsv (nmfbio signatures match)",
               has_files("cosine.tsv", "matches.tsv", "decomposition.tsv"), match_section),
    ResultKind("signatures assign", "exposures.tsv, cosine.tsv (nmfbio signatures assign)",
               has_files("exposures.tsv", "cosine.tsv"), assign_section),
    ResultKind("programs find",
               "programs.tsv, usage.tsv, scores.tsv, top_genes.tsv (nmfbio programs find)",
               has_files("programs.tsv", "usage.tsv", "scores.tsv", "top_genes.tsv",
                         "rank_selection.tsv"), programs_section, covers=("rank",)),
    ResultKind("assemblies", "assemblies.h5 (nmfbio assemblies detect)", detect_assemblies,
               assemblies_section),
]


def register(kind: ResultKind) -> ResultKind:
    """Add a result kind (after the others); a kind of the same name is replaced.

    Examples
    --------
    >>> from nmfbio.report.model import ResultKind, has_files
    >>> k = register(ResultKind("demo", "demo.tsv", has_files("demo.tsv"), lambda p: None))
    >>> KINDS.pop() is k
    True
    """
    for i, old in enumerate(KINDS):
        if old.name == kind.name:
            KINDS[i] = kind
            return kind
    KINDS.append(kind)
    return kind


def _expected() -> str:
    return "; ".join(k.describe for k in KINDS)


def _detect(path: Path) -> list[tuple[ResultKind, Path]]:
    found = [(k, hit) for k in KINDS if (hit := k.detect(path)) is not None]
    covered = {name for k, _ in found for name in k.covers}
    return [(k, hit) for k, hit in found if k.name not in covered]


def find_sections(results: Iterable[str | os.PathLike]) -> list[Section]:
    """Build the sections of every RESULT, in the order given.

    Parameters
    ----------
    results : iterable of path-like
        Output folders of nmfbio commands, folders holding such folders (searched one level
        down when nothing is found directly), or result files (``result.h5``,
        ``consensus.h5``, ``rank_selection.tsv``, ...).

    Returns
    -------
    list of Section

    Raises
    ------
    FileNotFoundError
        When a RESULT does not exist.
    nmfbio.errors.FormatError
        When nothing nmfbio recognises is in a RESULT, or a result is malformed.
    """
    sections: list[Section] = []
    seen: set[tuple[str, Path]] = set()
    for raw in results:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"result not found: {path} (no such file or folder); pass "
                                    "the output folder of an nmfbio command or a result file")
        hits = _detect(path)
        if not hits and path.is_dir():  # a folder of output folders (e.g. a workflow's)
            hits = [hit for sub in sorted(p for p in path.iterdir() if p.is_dir())
                    for hit in _detect(sub)]
        if not hits:
            what = "folder" if path.is_dir() else "file"
            advice = ("" if path.is_dir() else "; for a table inside an output folder, pass "
                      "the folder")
            raise FormatError(f"no nmfbio result recognised in this {what}; expected the "
                              f"output of an nmfbio command: {_expected()}{advice}", path)
        for kind, hit in hits:
            key = (kind.name, hit.resolve())
            if key in seen:
                continue
            seen.add(key)
            sec = _build(kind, hit)
            sec.result = str(raw)
            sections.append(sec)
    return sections


def _build(kind: ResultKind, hit: Path) -> Section:
    log.info("report: %s section from %s", kind.name, hit)
    try:
        return kind.build(hit)
    except (FormatError, FileNotFoundError):
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise FormatError(f"cannot read this {kind.name} result ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())})", hit) from None
