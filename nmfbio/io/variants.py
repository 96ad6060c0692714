"""Mutation catalogs (96 SBS channels) counted from VCF files and a FASTA; the counting rules.

The rules below are shared with the MAF adapter, :mod:`nmfbio.io.maf`.

Each single-base substitution is placed in its pyrimidine-centred trinucleotide context:
the 5' base, the reference base and the 3' base are read from the reference genome at the
variant's 1-based position; when the reference base is a purine (A or G), the trinucleotide
is reverse-complemented and the alternative base complemented, so ``A[G>T]C`` on the given
strand counts as ``G[C>A]T``. The genome is read locally by
:class:`~nmfbio.io.genome.FastaReader` (no network access, no compiled dependency).

What is counted, and what is skipped (each ALT allele separately; the counts of skipped
alleles go into ``uns["catalog"]["skipped"]`` and are logged at INFO level):

``filtered``
    FILTER is not ``PASS`` or ``.`` (only with ``pass_only=True``, the default).
``no_alt``
    No alternative allele (ALT ``.``, or a MAF allele equal to the reference).
``indel``, ``mnv``
    REF and ALT of different lengths; or equal lengths above one (normalise with
    ``bcftools norm`` first if your caller writes SNVs with padding bases).
``non_acgt``
    A REF or ALT with characters other than A, C, G, T: N, IUPAC codes, symbolic alleles
    such as ``<DEL>``, ``*``.
``not_carried``
    No sample's genotype carries the allele (e.g. ``0/0`` or ``./.`` everywhere).
``past_contig_end``
    The position lies past the end of its chromosome in the FASTA (a wrong genome build or a
    truncated FASTA): a :class:`~nmfbio.errors.DataWarning` names the first, and these count
    as REF mismatches against ``max_ref_mismatch``.
``ref_mismatch``
    The REF base differs from the FASTA's base. More than ``max_ref_mismatch`` (a fraction
    of one file's substitutions) is an error, since it usually means the wrong genome build.
``n_in_context``
    A flanking base is N (or another non-ACGT letter), or the variant is at a sequence end.

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

import anndata
import numpy as np

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, display_stem, open_text
from nmfbio.io.catalogs import catalog_anndata
from nmfbio.io.genome import FastaReader
from nmfbio.io.sbs96 import CHANNELS, COMPLEMENT, reverse_complement

__all__ = ["catalog_from_vcf", "SKIP_REASONS"]

log = logging.getLogger(__name__)

#: Reasons for skipping an ALT allele, in the order they are checked.
SKIP_REASONS = ("filtered", "no_alt", "indel", "mnv", "non_acgt", "not_carried",
                "past_contig_end", "ref_mismatch", "n_in_context")

_CHANNEL_INDEX = {label: i for i, label in enumerate(CHANNELS)}
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


class _Tally:
    """Counts substitutions into per-sample rows of 96 and keeps the skip summary."""

    def __init__(self, fasta: FastaReader, chrom_alias, max_ref_mismatch: float, fields):
        self.fasta, self.chrom_alias, self.max_ref_mismatch = fasta, chrom_alias, max_ref_mismatch
        self.chrom_field, self.ref_field = fields
        self.rows: dict[str, np.ndarray] = {}
        self.skipped = dict.fromkeys(SKIP_REASONS, 0)
        self.counted = 0
        self._names: dict[str, str] = {}
        self._lengths = fasta.lengths

    def row(self, sample: str) -> np.ndarray:
        if sample not in self.rows:
            self.rows[sample] = np.zeros(len(CHANNELS))
        return self.rows[sample]

    def start(self, path) -> None:
        self.path = path
        self.checked = self.mismatched = 0
        self.first_mismatch = self.first_past_end = None
        self.skipped_before = dict(self.skipped)
        self.counted_before = self.counted

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n

    def channel(self, line: int, chrom: str, pos: int, ref: str, alt: str) -> int | None:
        """Channel index of a single-base substitution, or None when it is skipped."""
        name = self._resolve(chrom, line)
        self.checked += 1
        if pos > self._lengths[name]:  # also a mismatch: it counts against max_ref_mismatch
            self.mismatched += 1
            if self.first_mismatch is None:
                self.first_mismatch = (line, chrom, pos, ref, "(none)", name)
            if self.first_past_end is None:
                self.first_past_end = (line, chrom, pos, name)
            self.skip("past_contig_end")
            return None
        ctx = self.fasta.context(name, pos)
        if ctx[1] != ref:
            self.mismatched += 1
            if self.first_mismatch is None:
                self.first_mismatch = (line, chrom, pos, ref, ctx[1], name)
            self.skip("ref_mismatch")
            return None
        if ctx[0] not in _ACGT or ctx[2] not in _ACGT:
            self.skip("n_in_context")
            return None
        if ref in "AG":
            ctx, alt = reverse_complement(ctx), COMPLEMENT[alt]
        return _CHANNEL_INDEX[f"{ctx[0]}[{ctx[1]}>{alt}]{ctx[2]}"]

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
        log.info("%s: counted %d substitution(s); skipped: %s", self.path,
                 self.counted - self.counted_before, _summary(skipped))

    def to_anndata(self, info: dict) -> anndata.AnnData:
        info = {**info, "kind": "counts", "counted": int(self.counted),
                "skipped": {k: int(v) for k, v in self.skipped.items()}}
        log.info("catalog of %d sample(s): counted %d substitution(s); skipped: %s",
                 len(self.rows), self.counted, _summary(self.skipped))
        X = np.vstack(list(self.rows.values())) if self.rows else np.zeros((0, len(CHANNELS)))
        return catalog_anndata(X, list(self.rows), info)


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
def catalog_from_vcf(vcf_paths, fasta, *, sample_names: Sequence[str] | None = None,
                     pass_only: bool = True, max_ref_mismatch: float = 0.01,
                     chrom_alias: str | Mapping[str, str] | None = None) -> anndata.AnnData:
    """Count the single-base substitutions of VCF files into a 96-channel SBS catalog.

    Parameters
    ----------
    vcf_paths : path-like or sequence of path-like
        VCF files, plain or gzipped/bgzipped (detected from the content).
    fasta : path-like or FastaReader
        The reference genome the variants were called against (plain or gzipped FASTA; see
        :mod:`nmfbio.io.genome`).
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
    anndata.AnnData
        Counts of shape (n_samples, 96) (see :func:`nmfbio.io.read_catalog`);
        ``uns["catalog"]`` holds ``format="vcf"``, ``sources``, ``genome``, ``pass_only``,
        ``max_ref_mismatch``, ``chrom_alias``, ``counted`` (ALT alleles counted) and
        ``skipped`` (reason → number of ALT alleles, for every reason of
        :data:`SKIP_REASONS`).

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
    paths = _paths(vcf_paths, "a VCF file")
    _check_options(max_ref_mismatch, chrom_alias)
    if sample_names is not None:
        sample_names = [sample_names] if isinstance(sample_names, str) else list(sample_names)
        if len(sample_names) != len(paths):
            raise NMFInputError(f"sample_names gives {len(sample_names)} name(s) for "
                                f"{len(paths)} VCF file(s); give one name per file")
    with _genome(fasta) as fa:
        tally = _Tally(fa, chrom_alias, float(max_ref_mismatch), ("CHROM", "REF"))
        owner: dict[str, object] = {}
        for i, path in enumerate(paths):
            tally.start(path)
            _read_vcf(path, tally, pass_only, owner,
                      None if sample_names is None else str(sample_names[i]))
            tally.finish()
        info = {"format": "vcf", "sources": [str(p) for p in paths], "genome": str(fa.path),
                "pass_only": bool(pass_only), "max_ref_mismatch": float(max_ref_mismatch),
                "chrom_alias": _alias_info(chrom_alias)}
        return tally.to_anndata(info)


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
    if all(reasons):
        for reason in reasons:
            tally.skip(reason)
        return
    pos = _parse_pos(fields[1], path, number, "POS")
    carriers = _carriers(fields, len(samples), len(alts))
    for k, (alt, reason) in enumerate(zip(alts, reasons, strict=True), 1):
        if reason:
            tally.skip(reason)
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
        index = tally.channel(number, fields[0], pos, ref, alt.upper())
        if index is None:
            continue
        tally.counted += 1
        for row in targets:
            row[index] += 1
