"""Mutation catalogs (SBS96, DBS78, ID83, … of every countable type) from MAF files and a FASTA.

A MAF (Mutation Annotation Format, as written by GDC/TCGA pipelines and vcf2maf) is a
tab-separated table with one row per variant and sample. Contexts, the pyrimidine
convention, the skip reasons and the genome-build checks are those of
:mod:`nmfbio.io.variants`; the counting rules are in :mod:`nmfbio.io.mutations`.
"""

from __future__ import annotations

from collections.abc import Mapping

from nmfbio.errors import FormatError
from nmfbio.io._textfile import open_text
from nmfbio.io.variants import (
    _alias_info,
    _check_options,
    _classify,
    _genome,
    _parse_pos,
    _paths,
    _Tally,
)

__all__ = ["catalog_from_maf"]

_MAF_REQUIRED = ("Tumor_Sample_Barcode", "Chromosome", "Start_Position", "Reference_Allele",
                 "Tumor_Seq_Allele2")
_MAF_TYPES = {"INS": "indel", "DEL": "indel", "DNP": "mnv", "TNP": "mnv", "ONP": "mnv"}


def catalog_from_maf(maf_path, fasta, *, context="SBS96", annotation=None,
                     doublets: str = "split", pass_only: bool = True,
                     max_ref_mismatch: float = 0.01,
                     chrom_alias: str | Mapping[str, str] | None = None):
    """Count the mutations of a MAF file into catalogs (SBS96 by default; any countable type).

    Parameters
    ----------
    maf_path : path-like or sequence of path-like
        Tab-separated MAF file(s), plain or gzipped; lines starting with ``#`` are skipped,
        the first other line is the header. Required columns: ``Tumor_Sample_Barcode``,
        ``Chromosome``, ``Start_Position`` (1-based), ``Reference_Allele``,
        ``Tumor_Seq_Allele2`` (the alternative allele). Optional: ``Variant_Type`` (``SNP``,
        ``DNP``/``TNP``/``ONP``, ``INS``/``DEL``), ``FILTER`` (used with ``pass_only``).
        Indels are written with ``-`` for the empty allele, as MAFs do (a deletion starts at
        ``Start_Position``; an insertion follows it).
    fasta : path-like or FastaReader
        The reference genome of the MAF's coordinates.
    pass_only : bool, default True
        When the MAF has a ``FILTER`` column, count only rows with ``PASS``, ``.`` or empty.
    context, annotation, doublets, max_ref_mismatch, chrom_alias
        As in :func:`catalog_from_vcf`.

    Returns
    -------
    anndata.AnnData or dict
        Counts (n_samples × channels), one sample per barcode in order of first
        appearance; ``uns["catalog"]`` as for :func:`catalog_from_vcf` with
        ``format="maf"``. A dict type name → AnnData when ``context`` is a list.

    Raises
    ------
    FileNotFoundError, nmfbio.errors.FormatError, nmfbio.errors.NMFInputError
        As in :func:`catalog_from_vcf`; also a missing required column (listed).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "g.fa").write_text(">chr1\\nTTAGCTT\\n")
    >>> _ = (d / "m.maf").write_text("#version 2.4\\nTumor_Sample_Barcode\\tChromosome\\t"
    ...     "Start_Position\\tReference_Allele\\tTumor_Seq_Allele2\\nT1\\tchr1\\t4\\tG\\tT\\n")
    >>> catalog_from_maf(d / "m.maf", d / "g.fa").uns["catalog"]["counted"]
    1
    """
    return _count_maf(maf_path, fasta, context, annotation, doublets, pass_only,
                      max_ref_mismatch, chrom_alias, None)


def _count_maf(maf_path, fasta, context, annotation, doublets, pass_only, max_ref_mismatch,
               chrom_alias, records):
    paths = _paths(maf_path, "a MAF file")
    _check_options(max_ref_mismatch, chrom_alias)
    with _genome(fasta) as fa:
        tally = _Tally(fa, chrom_alias, float(max_ref_mismatch),
                       ("Chromosome", "Reference_Allele"), context, annotation, doublets)
        for path in paths:
            tally.start(path)
            _read_maf(path, tally, pass_only)
            tally.finish()
        info = {"format": "maf", "sources": [str(p) for p in paths], "genome": str(fa.path),
                "pass_only": bool(pass_only), "max_ref_mismatch": float(max_ref_mismatch),
                "chrom_alias": _alias_info(chrom_alias)}
        return tally.to_anndata(info, records)


def _maf_columns(path, number, header):
    col = {h.strip(): i for i, h in enumerate(header)}
    missing = [c for c in _MAF_REQUIRED if c not in col]
    if missing:
        raise FormatError(f"missing MAF column(s) {missing} in the header (found: "
                          f"{[h.strip() for h in header[:6]]}…); a MAF is tab-separated with "
                          f"the columns {list(_MAF_REQUIRED)}", path, number)
    return col


def _read_maf(path, tally: _Tally, pass_only: bool):
    col = None
    try:
        with open_text(path, errors="replace") as f:
            for number, raw in enumerate(f, 1):
                line = raw.rstrip("\r\n")
                if not line.strip() or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if col is None:
                    col = _maf_columns(path, number, fields)
                    need = max(col[c] for c in _MAF_REQUIRED) + 1
                    vtype, filt = col.get("Variant_Type"), col.get("FILTER")
                    continue
                if len(fields) < need:
                    raise FormatError(f"expected at least {need} tab-separated fields (up to "
                                      f"the last required column), found {len(fields)}",
                                      path, number)
                barcode = fields[col["Tumor_Sample_Barcode"]].strip()
                if not barcode:
                    raise FormatError("empty sample barcode", path, number,
                                      "Tumor_Sample_Barcode")
                row = tally.row(barcode)
                if (pass_only and filt is not None and filt < len(fields)
                        and fields[filt].strip() not in ("PASS", ".", "")):
                    tally.skip("filtered")
                    continue
                ref = fields[col["Reference_Allele"]].strip().upper()
                alt = fields[col["Tumor_Seq_Allele2"]].strip().upper()
                kind = fields[vtype].strip().upper() if vtype is not None and vtype < len(
                    fields) else ""
                reason = _classify(ref, alt)
                if reason is None or reason in ("indel", "mnv"):
                    reason = _MAF_TYPES.get(kind, reason)
                if not tally.accepts(reason):
                    tally.skip(reason or "snv")
                    continue
                pos = _parse_pos(fields[col["Start_Position"]].strip(), path, number,
                                 "Start_Position")
                chrom = fields[col["Chromosome"]].strip()
                if "-" in ref or "-" in alt:
                    tally.maf_indel(number, chrom, pos, ref, alt, row)
                else:
                    tally.add(number, chrom, pos, ref, alt, [row])
    except (OSError, EOFError) as exc:
        raise FormatError(f"not a readable (gzipped) text file ({exc})", path) from None
    if col is None:
        raise FormatError("no header line (only '#' comments); expected a tab-separated MAF "
                          f"header with the columns {list(_MAF_REQUIRED)}", path)
