"""Mutation catalogs of every countable type (SBS6 … SBS1536, DBS78, ID83) from VCF files and
a FASTA; what is read, checked and skipped.

The checks below are shared with the MAF adapter, :mod:`nmfbio.io.maf`; which channel a
checked mutation falls in (contexts, the pyrimidine convention, doublets, indel classes,
strand) is decided by :mod:`nmfbio.io.mutations`, with SigProfilerMatrixGenerator's
conventions. The genome is read locally by :class:`~nmfbio.io.genome.FastaReader` (no
network access, no compiled dependency).

Calls are collected per sample: SNVs (a 2-bp REF/ALT record is two SNVs), and indels with
one shared anchor base (``ref[0] == alt[0]``). Identical records of one sample count once.
What is skipped (each ALT allele separately; the counts go into
``uns["catalog"]["skipped"]`` and are logged at INFO level):

``filtered``
    FILTER is not ``PASS`` or ``.`` (only with ``pass_only=True``, the default;
    SigProfilerMatrixGenerator ignores FILTER: pass ``pass_only=False`` to compare).
``no_alt``
    No alternative allele (ALT ``.``, or an allele equal to the reference).
``snv``, ``indel``
    An SNV (or 2-bp record) when no SBS or DBS type is counted; an indel when ID83 is not.
``mnv``
    REF and ALT of equal length above two: SigProfilerMatrixGenerator counts these in no
    SBS or DBS channel, nor do we (split them into SNVs first if you want them counted).
``complex``
    REF and ALT of different lengths without a single shared anchor base (e.g. ``ATG`` →
    ``AC``): no ID83 class describes them.
``non_acgt``
    A REF or ALT with characters other than A, C, G, T: N, IUPAC codes, symbolic alleles
    such as ``<DEL>``, ``*``.
``not_carried``
    No sample's genotype carries the allele (e.g. ``0/0`` or ``./.`` everywhere).
``past_contig_end``
    REF reaches past the end of its chromosome in the FASTA (a wrong genome build or a
    truncated FASTA): a :class:`~nmfbio.errors.DataWarning` names the first, and these count
    as REF mismatches against ``max_ref_mismatch``.
``ref_mismatch``
    REF (all its bases, the deleted ones of a deletion too) differs from the FASTA. More than
    ``max_ref_mismatch`` (a fraction of one file's checked alleles) is an error, since it
    usually means the wrong genome build.
``n_in_context``
    A base next to an SNV is N (or another non-ACGT letter), or the SNV is at a sequence
    end. An SNV two bases from an end has no pentanucleotide and is left out of SBS1536
    only.

Where this differs from SigProfilerMatrixGenerator (all on purpose, and tested on
``tests/data/spmg/vcf_edge``): it also counts multi-allelic records (each carried allele),
lower-case alleles, SNVs one base from a sequence end (SBS96) and indels at a contig's last
base; it skips deletions whose deleted bases differ from the FASTA (SigProfilerMatrixGenerator
checks only the anchor); and a chromosome it does not know is an error, not a silent drop.

A chromosome missing from the FASTA is an error naming it; when adding or removing the
``chr`` prefix (or ``MT``/``chrM``) would match, the message says so and
``chrom_alias="auto"`` applies that fix. Files are only read; errors name file, line and
field.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Mapping, Sequence

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, display_stem, open_text
from nmfbio.io.catalogs import catalog_anndata
from nmfbio.io.genome import FastaReader
from nmfbio.io.mutation_types import MutationType
from nmfbio.io.mutations import (
    DOUBLET_RULES,
    INDEL_TYPES,
    SBS_WIDTH,
    Annotation,
    count_catalogs,
    indel_class,
    read_annotation,
    types_of,
)

__all__ = ["catalog_from_vcf", "mutation_table", "SKIP_REASONS", "MUTATION_COLUMNS"]

log = logging.getLogger(__name__)

#: Reasons for skipping an ALT allele, in the order they are checked.
SKIP_REASONS = ("filtered", "no_alt", "snv", "indel", "mnv", "complex", "non_acgt",
                "not_carried",
                "past_contig_end", "ref_mismatch", "n_in_context")

_ACGT = frozenset("ACGT")
_GT_SEP = re.compile(r"[/|]")
_VCF_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")


def _classify(ref: str, alt: str) -> str | None:
    """Skip reason for a REF/ALT pair (upper case), or None for a single-base substitution."""
    if alt in (".", "") or alt == ref:
        return "no_alt"
    if "-" in ref or "-" in alt:  # MAF writes insertions and deletions with '-'
        return "indel"
    if not (_ACGT.issuperset(ref) and _ACGT.issuperset(alt)):
        return "non_acgt"
    if len(ref) != len(alt):
        return "indel"
    return "mnv" if len(ref) > 1 else None


def _alias_candidates(name: str) -> list[str]:
    out = [name[3:]] if name.lower().startswith("chr") else [f"chr{name}"]
    if name in ("M", "MT", "chrM", "chrMT"):
        out += ["chrM", "MT", "M", "chrMT"]
    return [c for c in dict.fromkeys(out) if c != name]


class _Sample:
    """One sample's checked calls: SNVs (with context and strand) and ID83 labels."""

    __slots__ = ("snvs", "indels")

    def __init__(self):
        self.snvs: list = []
        self.indels: dict = {}  # (chrom, pos, ref, alt) -> label: a duplicate counts once


class _Tally:
    """Checks calls against the genome, keeps them per sample and the skip summary; the
    catalogs of the requested types are counted at the end (:mod:`nmfbio.io.mutations`)."""

    def __init__(self, fasta: FastaReader, chrom_alias, max_ref_mismatch: float, fields,
                 context="SBS96", annotation=None, doublets="split"):
        self.fasta, self.chrom_alias, self.max_ref_mismatch = fasta, chrom_alias, max_ref_mismatch
        self.chrom_field, self.ref_field = fields
        self.types = types_of(context)
        self.single = isinstance(context, str | MutationType)
        names = {t.name for t in self.types}
        self.wants_snv = bool(names & (set(SBS_WIDTH) | {"DBS78"}))
        self.wants_indel = bool(names & set(INDEL_TYPES))
        stranded = sorted(n for n in names if n in ("SBS24", "SBS288", "SBS384"))
        if doublets not in DOUBLET_RULES:
            raise NMFInputError(f"doublets must be one of {list(DOUBLET_RULES)}, got "
                                f"{doublets!r}")
        self.doublets = doublets
        self.annotation = None
        if stranded:
            if annotation is None:
                raise NMFInputError(f"{', '.join(stranded)} need the transcriptional strand: "
                                    "pass annotation= a GTF or BED file of the genes (with "
                                    "strand) of this genome build")
            self.annotation = (annotation if isinstance(annotation, Annotation)
                               else read_annotation(annotation, fasta.names))
        self.rows: dict[str, _Sample] = {}
        self.skipped = dict.fromkeys(SKIP_REASONS, 0)
        self.counted = 0
        self._names: dict[str, str] = {}
        self._lengths = fasta.lengths

    def row(self, sample: str) -> _Sample:
        if sample not in self.rows:
            self.rows[sample] = _Sample()
        return self.rows[sample]

    def accepts(self, reason: str | None) -> bool:
        """Whether a record of this kind (None: an SNV) is counted by the requested types."""
        if reason is None or reason == "mnv":
            return self.wants_snv
        return reason == "indel" and self.wants_indel

    def start(self, path) -> None:
        self.path = path
        self.checked = self.mismatched = 0
        self.first_mismatch = self.first_past_end = None
        self.skipped_before = dict(self.skipped)
        self.counted_before = self.counted

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n

    def _check(self, line, chrom, name, pos, ref) -> str | None:
        """The genome's bases under REF, or None (skipped: past the end, REF mismatch)."""
        self.checked += 1
        end = pos + len(ref) - 1
        if end > self._lengths[name]:  # also a mismatch: it counts against max_ref_mismatch
            self.mismatched += 1
            if self.first_mismatch is None:
                self.first_mismatch = (line, chrom, pos, ref, "(none)", name)
            if self.first_past_end is None:
                self.first_past_end = (line, chrom, pos, name)
            self.skip("past_contig_end")
            return None
        bases = self.fasta.fetch(name, pos - 2, end + 2)
        if bases[2:-2] != ref:
            self.mismatched += 1
            if self.first_mismatch is None:
                self.first_mismatch = (line, chrom, pos, ref, bases[2:-2], name)
            self.skip("ref_mismatch")
            return None
        return bases

    def add(self, line: int, chrom: str, pos: int, ref: str, alt: str, targets) -> bool:
        """Check one ALT allele (an SNV, an MNV record or an anchored indel) and keep it for
        the samples in ``targets``; False when it is skipped."""
        name = self._resolve(chrom, line)
        if len(ref) != len(alt):
            return self._add_indel(line, chrom, name, pos, ref, alt, targets)
        if len(ref) > 2:  # as SigProfilerMatrixGenerator: neither SBS nor DBS
            self.skip("mnv")
            return False
        bases = self._check(line, chrom, name, pos, ref)
        if bases is None:
            return False
        calls = []
        for j, (r, a) in enumerate(zip(ref, alt, strict=True)):
            if r == a:
                continue
            ctx = bases[j:j + 5]
            if ctx[1] not in _ACGT or ctx[3] not in _ACGT:
                self.skip("n_in_context")
                continue
            strand = (None if self.annotation is None else
                      self.annotation.strand(name, pos + j, r in "AG"))
            calls.append((name, pos + j, ctx, a, strand))
        if not calls:
            return False
        self.counted += 1
        for row in targets:
            row.snvs.extend(calls)
        return True

    def _add_indel(self, line, chrom, name, pos, ref, alt, targets) -> bool:
        if ref[0] != alt[0] or min(len(ref), len(alt)) != 1:
            self.skip("complex")
            return False
        if self._check(line, chrom, name, pos, ref) is None:
            return False
        deletion = len(ref) > 1
        indel = ref[1:] if deletion else alt[1:]
        n = len(indel)
        left = self.fasta.fetch(name, pos - 6 * n + 1, pos)
        after = pos + len(ref)
        right = self.fasta.fetch(name, after, after + 6 * n - 1)
        label = indel_class(left, indel, right, deletion)
        self.counted += 1
        for row in targets:
            row.indels[(name, pos, ref, alt)] = label
        return True

    def maf_indel(self, line: int, chrom: str, pos: int, ref: str, alt: str, row) -> bool:
        """A MAF indel (``-`` for the empty allele) written as an anchored VCF allele."""
        name = self._resolve(chrom, line)
        if ref == "-":  # insertion after Start_Position
            anchor_pos = pos
        else:  # deletion starting at Start_Position
            anchor_pos = pos - 1
        if anchor_pos < 1 or anchor_pos > self._lengths[name]:
            self.skip("past_contig_end")
            return False
        anchor = self.fasta.fetch(name, anchor_pos, anchor_pos)
        ref = anchor + ref.strip("-")
        alt = anchor + alt.strip("-")
        return self.add(line, chrom, anchor_pos, ref, alt, [row])

    def _resolve(self, chrom: str, line: int) -> str:
        if chrom in self._names:
            return self._names[chrom]
        name = chrom
        if isinstance(self.chrom_alias, Mapping):
            name = self.chrom_alias.get(chrom, chrom)
        if name not in self.fasta:
            found = [c for c in _alias_candidates(name) if c in self.fasta]
            if not (found and self.chrom_alias == "auto"):
                raise FormatError(self._missing_message(name, found), self.path, line,
                                  self.chrom_field)
            log.info("chromosome %r is %r in the FASTA (chrom_alias='auto')", chrom, found[0])
            name = found[0]
        self._names[chrom] = name
        return name

    def _missing_message(self, name: str, found: list[str]) -> str:
        fa = self.fasta
        if found:
            return (f"chromosome {name!r} is not in the FASTA {fa.path}, which names it "
                    f"{found[0]!r}: the variants and the genome name chromosomes differently "
                    "(the 'chr' prefix). Pass chrom_alias='auto' to add or remove the prefix "
                    "as needed, or use a FASTA with the same naming")
        shown = ", ".join(repr(n) for n in fa.names[:5]) + (", …" if len(fa) > 5 else "")
        return (f"chromosome {name!r} is not in the FASTA {fa.path} ({len(fa)} sequences: "
                f"{shown}). Check that the FASTA is the genome build the variants were called "
                f"against, or map names with chrom_alias={{{name!r}: '<name in the FASTA>'}}")

    def finish(self) -> None:
        """Per-file check of REF mismatches, then the file's summary at INFO level."""
        if self.checked and self.mismatched / self.checked > self.max_ref_mismatch:
            line, chrom, pos, ref, base, name = self.first_mismatch
            length = self._lengths[name]
            beyond = f" (past the end of {name}, length {length})" if pos > length else ""
            raise FormatError(
                f"{self.mismatched} of {self.checked} single-base substitutions "
                f"({self.mismatched / self.checked:.1%}) have a REF base that differs from the "
                f"FASTA {self.fasta.path}, more than max_ref_mismatch="
                f"{self.max_ref_mismatch:g}; the first is {chrom}:{pos} {self.ref_field}={ref}, "
                f"FASTA {base}{beyond}. This usually means the wrong genome build (e.g. GRCh37 "
                "variants with a GRCh38 FASTA): use the FASTA the variants were called "
                "against, or raise max_ref_mismatch to skip the mismatching records",
                self.path, line, self.ref_field)
        skipped = {k: v - self.skipped_before[k] for k, v in self.skipped.items()}
        if skipped["past_contig_end"]:
            line, chrom, pos, name = self.first_past_end
            warn(f"{self.path}: {skipped['past_contig_end']} record(s) lie past the end of "
                 f"their chromosome in the FASTA {self.fasta.path} and were skipped; the first "
                 f"is {chrom}:{pos} on line {line} ({name} has {self._lengths[name]} bases). "
                 "Check that the FASTA is the genome build the variants were called against",
                 DataWarning)
        log.info("%s: counted %d mutation(s); skipped: %s", self.path,
                 self.counted - self.counted_before, _summary(skipped))

    def to_anndata(self, info: dict, records: list | None = None):
        """The catalog of the requested type, or a dict type name → catalog for a list
        (``records``: see :func:`~nmfbio.io.mutations.count_catalogs`)."""
        info = {**info, "kind": "counts", "counted": int(self.counted),
                "skipped": {k: int(v) for k, v in self.skipped.items()},
                "doublets": self.doublets}
        if self.annotation is not None:
            info["annotation"] = self.annotation.source
        samples = list(self.rows)
        counts = count_catalogs(samples, [r.snvs for r in self.rows.values()],
                                [r.indels for r in self.rows.values()], self.types,
                                self.doublets, records)
        info["calls"] = {k: int(v) for k, v in counts.pop("_summary").items()}
        log.info("catalog of %d sample(s): counted %d mutation(s); skipped: %s",
                 len(self.rows), self.counted, _summary(self.skipped))
        out = {t.name: catalog_anndata(counts[t.name], samples, dict(info), t)
               for t in self.types}
        return out[self.types[0].name] if self.single else out


def _summary(skipped: dict) -> str:
    text = ", ".join(f"{k}={v}" for k, v in skipped.items() if v)
    return text or "none"


# --------------------------------------------------------------------------- arguments
def _paths(paths, what: str) -> list:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise NMFInputError(f"no {what} given")
    paths = [check_input_file(p, what) for p in paths]
    seen: dict = {}
    for p in paths:
        if p.resolve() in seen:
            raise NMFInputError(f"{p} is given twice (also as {seen[p.resolve()]}); its "
                                "variants would be counted twice")
        seen[p.resolve()] = p
    return paths


def _check_options(max_ref_mismatch, chrom_alias) -> None:
    try:
        ok = 0.0 <= float(max_ref_mismatch) <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise NMFInputError("max_ref_mismatch is a fraction of the substitutions, between 0 "
                            f"and 1; got {max_ref_mismatch!r}")
    if not (chrom_alias is None or chrom_alias == "auto" or isinstance(chrom_alias, Mapping)):
        raise NMFInputError("chrom_alias must be None, 'auto' or a mapping from the variant "
                            f"files' chromosome names to the FASTA's, got {chrom_alias!r}")


def _genome(fasta):
    if isinstance(fasta, FastaReader):
        return contextlib.nullcontext(fasta)
    return FastaReader(fasta)


def _alias_info(chrom_alias) -> str:
    return "none" if chrom_alias is None else "auto" if chrom_alias == "auto" else "mapping"


def _parse_pos(text: str, path, line: int, field: str) -> int:
    try:
        pos = int(text)
    except ValueError:
        pos = 0
    if pos < 1:
        raise FormatError(f"{text!r} is not a 1-based position (a whole number ≥ 1)",
                          path, line, field)
    return pos


# --------------------------------------------------------------------------- VCF
def catalog_from_vcf(vcf_paths, fasta, *, context="SBS96", annotation=None,
                     doublets: str = "split", sample_names: Sequence[str] | None = None,
                     pass_only: bool = True, max_ref_mismatch: float = 0.01,
                     chrom_alias: str | Mapping[str, str] | None = None):
    """Count the mutations of VCF files into catalogs: SBS96 by default, or any of SBS6,
    SBS24, SBS96, SBS288, SBS384, SBS1536, DBS78 and ID83.

    Parameters
    ----------
    vcf_paths : path-like or sequence of path-like
        VCF files, plain or gzipped/bgzipped (detected from the content).
    fasta : path-like or FastaReader
        The reference genome the variants were called against (plain or gzipped FASTA; see
        :mod:`nmfbio.io.genome`).
    context : str or list of str, default "SBS96"
        The mutation type(s) to count (``"SBS96"``, ``"DBS78"``, ``"ID83"``,
        ``["SBS96", "DBS78", "ID83"]``, …; ``"DINUC"`` and ``"ID"`` are accepted).
    annotation : path-like or Annotation, optional
        Gene annotation (GTF or BED with strand) for the stranded types SBS24, SBS288 and
        SBS384; required by them (see :func:`nmfbio.io.mutations.read_annotation`).
    doublets : {"split", "separate"}, default "split"
        ``"split"`` counts the SNVs of doublets (adjacent SNVs of a sample, or one 2-bp
        record) and of longer runs in the SBS types too, as SigProfilerMatrixGenerator
        does; ``"separate"`` counts only isolated SNVs there. Doublets count in DBS78 either
        way.
    sample_names : sequence of str, optional
        One name per VCF file: each file then makes one sample, counting every allele that
        any of its sample columns carries (a tumour/normal VCF counts the tumour's calls;
        files given the same name are added up). By default the samples are the VCFs'
        sample columns, or the file name without ``.vcf[.gz]`` for a VCF without sample
        columns; a name found in two files is an error.
    pass_only : bool, default True
        Count only records whose FILTER is ``PASS`` or ``.``.
    max_ref_mismatch : float, default 0.01
        Largest fraction of one file's substitutions whose REF may differ from the FASTA
        (those are skipped); more is an error.
    chrom_alias : None, "auto" or mapping, optional
        ``"auto"`` adds or removes the ``chr`` prefix (and maps ``MT``/``chrM``) when a
        chromosome is not in the FASTA under its own name; a mapping renames the VCF's
        chromosomes to the FASTA's.

    Returns
    -------
    anndata.AnnData or dict
        Counts of shape (n_samples, n_channels) of the type (see
        :func:`nmfbio.io.read_catalog`), or, when ``context`` is a list, a dict type name →
        AnnData (same samples in each). ``uns["catalog"]`` holds ``format="vcf"``,
        ``mutation_type``, ``sources``, ``genome``, ``pass_only``, ``max_ref_mismatch``,
        ``chrom_alias``, ``doublets``, ``counted`` (ALT alleles kept), ``skipped`` (reason →
        number of ALT alleles, for every reason of :data:`SKIP_REASONS`) and ``calls``
        (SNVs, doublets, runs of three or more adjacent SNVs ``mns``, indels).

    Notes
    -----
    Multi-sample VCFs: an ALT allele counts once for every sample whose GT holds its index
    (``0/1``, ``1|1``, ``1``; alleles ``./.``, ``0/0`` do not count). When the FORMAT column
    has no GT field (e.g. Strelka2 somatic calls), or there is no FORMAT column, the allele
    counts for every sample of the file. Multi-allelic records (ALT ``A,T``) are split: each
    allele is its own substitution.

    Raises
    ------
    FileNotFoundError
        A VCF or the FASTA does not exist.
    nmfbio.errors.FormatError
        A malformed line (file, line, field), a chromosome missing from the FASTA (with the
        ``chr``-prefix hint), or too many REF mismatches (the first one's file, line and
        position; "wrong genome build").
    nmfbio.errors.NMFInputError
        Bad arguments, or a sample name found in two files.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "g.fa").write_text(">1\\nTTAGCTT\\n")
    >>> _ = (d / "t.vcf").write_text("##fileformat=VCFv4.2\\n"
    ...     "#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\tFORMAT\\tT1\\n"
    ...     "1\\t4\\t.\\tG\\tT\\t.\\tPASS\\t.\\tGT\\t0/1\\n")
    >>> ad = catalog_from_vcf(d / "t.vcf", d / "g.fa")
    >>> list(ad.obs_names), ad.var_names[ad.X[0] > 0].tolist()
    (['T1'], ['G[C>A]T'])
    """
    return _count_vcf(vcf_paths, fasta, context, annotation, doublets, sample_names,
                      pass_only, max_ref_mismatch, chrom_alias, None)


def _count_vcf(vcf_paths, fasta, context, annotation, doublets, sample_names, pass_only,
               max_ref_mismatch, chrom_alias, records):
    paths = _paths(vcf_paths, "a VCF file")
    _check_options(max_ref_mismatch, chrom_alias)
    if sample_names is not None:
        sample_names = [sample_names] if isinstance(sample_names, str) else list(sample_names)
        if len(sample_names) != len(paths):
            raise NMFInputError(f"sample_names gives {len(sample_names)} name(s) for "
                                f"{len(paths)} VCF file(s); give one name per file")
    with _genome(fasta) as fa:
        tally = _Tally(fa, chrom_alias, float(max_ref_mismatch), ("CHROM", "REF"), context,
                       annotation, doublets)
        owner: dict[str, object] = {}
        for i, path in enumerate(paths):
            tally.start(path)
            _read_vcf(path, tally, pass_only, owner,
                      None if sample_names is None else str(sample_names[i]))
            tally.finish()
        info = {"format": "vcf", "sources": [str(p) for p in paths], "genome": str(fa.path),
                "pass_only": bool(pass_only), "max_ref_mismatch": float(max_ref_mismatch),
                "chrom_alias": _alias_info(chrom_alias)}
        return tally.to_anndata(info, records)


def _vcf_samples(path, line, columns, tally, owner, name):
    """Rows of the counts for this file's samples (a single row when ``name`` is given)."""
    if len(columns) < 8 or tuple(c.upper() for c in columns[:8]) != _VCF_COLUMNS:
        raise FormatError("expected the tab-separated header '#CHROM POS ID REF ALT QUAL "
                          f"FILTER INFO [FORMAT samples...]', found {columns[:8]}", path, line)
    samples = columns[9:]
    dup = sorted({s for s in samples if samples.count(s) > 1})
    if dup:
        raise FormatError(f"duplicate sample column(s) {dup}", path, line)
    if name is not None:
        return samples, [tally.row(name)]
    names = samples or [display_stem(path)]
    for s in names:
        if s in owner and owner[s] != path:
            raise NMFInputError(f"sample {s!r} is in both {owner[s]} and {path}; pass "
                                "sample_names=[...] with one name per VCF file (files "
                                "given the same name are added up)")
        owner[s] = path
    return samples, [tally.row(s) for s in names]


def _carriers(fields, n_samples, n_alts):
    """Per ALT allele (1-based index), the sample indices whose GT holds it; None = all."""
    if n_samples == 0 or len(fields) < 9:
        return None
    keys = fields[8].split(":")
    if "GT" not in keys:
        return None
    k = keys.index("GT")
    carriers: dict[int, list[int]] = {a: [] for a in range(1, n_alts + 1)}
    for j, value in enumerate(fields[9:]):
        parts = value.split(":")
        gt = parts[k] if k < len(parts) else "."
        for allele in set(_GT_SEP.split(gt)):
            if allele.isdigit() and int(allele) in carriers:
                carriers[int(allele)].append(j)
    return carriers


def _read_vcf(path, tally: _Tally, pass_only: bool, owner: dict, name: str | None):
    columns = None
    try:
        with open_text(path, errors="replace") as f:
            for number, raw in enumerate(f, 1):
                line = raw.rstrip("\r\n")
                if not line or line.startswith("##"):
                    continue
                if line.startswith("#"):
                    columns = line[1:].split("\t")
                    samples, rows = _vcf_samples(path, number, columns, tally, owner, name)
                    continue
                if columns is None:
                    raise FormatError("a data line before the '#CHROM' header line; a VCF "
                                      "has '##' meta lines, then '#CHROM POS ID REF ALT QUAL "
                                      "FILTER INFO ...', then tab-separated records",
                                      path, number)
                fields = line.split("\t")
                if len(fields) != len(columns):
                    raise FormatError(f"expected {len(columns)} tab-separated fields like the "
                                      f"#CHROM header, found {len(fields)}", path, number)
                _vcf_record(path, number, fields, samples, rows, name, tally, pass_only)
    except (OSError, EOFError) as exc:
        raise FormatError(f"not a readable (gzipped) text file ({exc})", path) from None
    if columns is None:
        raise FormatError("no '#CHROM' header line: not a VCF file?", path)


def _vcf_record(path, number, fields, samples, rows, name, tally: _Tally, pass_only):
    alts = fields[4].split(",")
    if pass_only and fields[6] not in ("PASS", "."):
        tally.skip("filtered", len(alts))
        return
    ref = fields[3].upper()
    reasons = [_classify(ref, alt.upper()) for alt in alts]
    if not any(tally.accepts(r) for r in reasons):
        for reason in reasons:
            tally.skip(reason or "snv")
        return
    pos = _parse_pos(fields[1], path, number, "POS")
    carriers = _carriers(fields, len(samples), len(alts))
    for k, (alt, reason) in enumerate(zip(alts, reasons, strict=True), 1):
        if not tally.accepts(reason):
            tally.skip(reason or "snv")
            continue
        if carriers is None:
            targets = rows
        elif name is not None:
            targets = rows if carriers[k] else []
        else:
            targets = [rows[j] for j in carriers[k]]
        if not targets:
            tally.skip("not_carried")
            continue
        tally.add(number, fields[0], pos, ref, alt.upper(), targets)


#: columns of :func:`mutation_table`
MUTATION_COLUMNS = ("sample", "mutation_type", "chrom", "pos", "ref", "alt", "channel")


def mutation_table(paths, fasta, *, context="SBS96", annotation=None, doublets="split",
                   pass_only: bool = True, max_ref_mismatch: float = 0.01,
                   chrom_alias: str | Mapping[str, str] | None = None):
    """Every counted mutation with its channel, one row per mutation and type.

    The same calls and rules as :func:`catalog_from_vcf` / :func:`~nmfbio.io.
    catalog_from_maf` (chosen by the file suffix: ``.maf``/``.maf.gz`` is a MAF, anything
    else a VCF), so the rows of one type and sample add up to that sample's catalog. This
    is the table per-mutation signature probabilities are computed on
    (:func:`nmfbio.signatures.attribute`).

    Parameters
    ----------
    paths : path-like or sequence of path-like
        VCF files, or one MAF file.
    fasta, context, annotation, doublets, pass_only, max_ref_mismatch, chrom_alias
        As in :func:`catalog_from_vcf`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MUTATION_COLUMNS`: the sample, the type (``"SBS96"``, ``"DBS78"``,
        ``"ID83"``, …), chromosome (the FASTA's name), 1-based position, REF and ALT on the
        genome's + strand (a doublet's two bases; an indel's anchored VCF alleles) and the
        channel label. ``attrs["catalogs"]`` holds the catalogs (dict type → AnnData).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "g.fa").write_text(">1\\nTTAGCTTACCA\\n")
    >>> _ = (d / "t.vcf").write_text("##fileformat=VCFv4.2\\n"
    ...     "#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\n"
    ...     "1\\t4\\t.\\tG\\tT\\t.\\tPASS\\t.\\n1\\t5\\t.\\tC\\tA\\t.\\tPASS\\t.\\n")
    >>> table = mutation_table(d / "t.vcf", d / "g.fa", context=["SBS96", "DBS78"])
    >>> table[["mutation_type", "pos", "channel"]].values.tolist()
    [['DBS78', 4, 'GC>TA'], ['SBS96', 4, 'G[C>A]T'], ['SBS96', 5, 'G[C>A]T']]
    """
    import pandas as pd

    records: list = []
    single = isinstance(context, str | MutationType)
    files = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if files and all(str(p).lower().endswith((".maf", ".maf.gz")) for p in files):
        from nmfbio.io.maf import _count_maf

        catalogs = _count_maf(files, fasta, context, annotation, doublets, pass_only,
                              max_ref_mismatch, chrom_alias, records)
    else:
        catalogs = _count_vcf(files, fasta, context, annotation, doublets, None, pass_only,
                              max_ref_mismatch, chrom_alias, records)
    table = pd.DataFrame(records, columns=list(MUTATION_COLUMNS))
    table = table.sort_values(["sample", "mutation_type", "chrom", "pos"], kind="stable")
    table = table.reset_index(drop=True)
    table.attrs["catalogs"] = ({_type_name(catalogs): catalogs} if single
                               else catalogs)
    return table


def _type_name(ad) -> str:
    return ad.uns["catalog"]["mutation_type"]
