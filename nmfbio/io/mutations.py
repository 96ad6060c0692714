"""The counting rules: which channel of each mutation type one mutation falls in.

:mod:`nmfbio.io.variants` and :mod:`nmfbio.io.maf` read the calls and check them against
the genome; this module turns checked calls into channel labels and counts, with the
conventions of SigProfilerMatrixGenerator (Bergstrom et al. 2019, BMC Genomics 20:685) so
that catalogs compare with the field's. Each rule below is checked against matrices that
SigProfilerMatrixGenerator 1.4.0 wrote for the same VCFs and genome
(``tests/data/spmg/``).

Single-base substitutions (SBS6, SBS24, SBS96, SBS288, SBS384, SBS1536)
    Pyrimidine-centred: when the reference base is A or G, the context is reverse-
    complemented and the ALT complemented. Context bases come from the genome, so the
    neighbour of an SNV that belongs to a doublet is the reference base. By default every
    SNV counts, including the two of a doublet and those of longer runs (as
    SigProfilerMatrixGenerator counts them); ``doublets="separate"`` counts only isolated
    SNVs in the SBS types.
Doublets (DBS78)
    Two SNVs of one sample at adjacent positions (two records, or one 2-bp record) make one
    doublet; runs of three or more adjacent SNVs are multi-nucleotide substitutions and count
    in no DBS channel. The label is ``REF>ALT`` of the two bases, or of their reverse
    complement when that is the registered spelling (``GG>TT`` is ``CC>AA``).
Indels (ID83)
    VCF-style with one shared anchor base. A 1-bp indel is classed by its base (C or T, a
    purine written as its complement) and the number of copies of that base around it in
    the reference (both sides: the indel need not be left-aligned); a deletion's count
    excludes the deleted copy. A longer indel (2, 3, 4, 5+ bp) is classed by the number of
    tandem copies of the indel sequence around it; a deletion without such a copy but with
    microhomology (the start of the deleted sequence repeated right after it, or its end
    right before it) by the length of the longest such match (``M``, 1..5+); otherwise
    count 0. Insertions have no microhomology class. Counts are capped at 5.
Transcriptional strand (SBS24, SBS288, SBS384)
    From a gene annotation (GTF or BED): inside genes on one strand only, ``U`` when the
    pyrimidine of the mutated pair is on the gene's coding (untranscribed) strand, ``T``
    when it is on the template (transcribed) strand; ``B`` inside genes on both strands,
    ``N`` outside genes. SBS288 keeps T, U and N (bidirectional positions are left out).
Opportunities
    :func:`opportunities` counts how often each pyrimidine-centred tri- or pentanucleotide
    occurs in the genome or in target regions (a BED file), both strands, for converting
    signatures between genome and exome (:func:`nmfbio.signatures.convert_opportunities`).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import product

import numpy as np

from nmfbio.errors import FormatError, NMFInputError
from nmfbio.io._textfile import check_input_file, open_text
from nmfbio.io.mutation_types import MutationType, mutation_type
from nmfbio.io.sbs96 import COMPLEMENT, reverse_complement

__all__ = ["Annotation", "read_annotation", "read_regions", "opportunities", "indel_class",
           "dbs_label", "sbs_label", "count_catalogs", "DOUBLET_RULES", "INDEL_TYPES",
           "SBS_WIDTH"]

#: how the SNVs of doublets count in the SBS types
DOUBLET_RULES = ("split", "separate")
#: SBS types and the bases read on each side of the substitution
SBS_WIDTH = {"SBS6": 0, "SBS24": 0, "SBS96": 1, "SBS288": 1, "SBS384": 1, "SBS1536": 2}
INDEL_TYPES = ("ID83",)
_STRANDED = {"SBS24", "SBS288", "SBS384"}


# --------------------------------------------------------------------------- SBS
def sbs_label(context: str, alt: str, width: int, strand: str | None = None) -> str:
    """The channel label of one SNV from its reference context (``2 * width + 1`` bases,
    the substitution in the middle; any strand) and ALT base.

    Examples
    --------
    >>> sbs_label("TGA", "T", 1)            # G>T on this strand is C>A on the other
    'T[C>A]A'
    >>> sbs_label("AAGCT", "A", 2), sbs_label("C", "T", 0, strand="U")
    ('AG[C>T]TT', 'U:C>T')
    """
    mid = context[len(context) // 2]
    if mid in "AG":
        context, alt = reverse_complement(context), COMPLEMENT[alt]
    w = len(context) // 2
    core = (f"{context[:w]}[{context[w]}>{alt}]{context[w + 1:]}" if width else
            f"{context[w]}>{alt}")
    return core if strand is None else f"{strand}:{core}"


# --------------------------------------------------------------------------- DBS
def dbs_label(ref: str, alt: str) -> str | None:
    """The DBS78 label of a doublet ``ref`` → ``alt`` (2 bases each), or None when a base
    does not change.

    Examples
    --------
    >>> dbs_label("GG", "TT"), dbs_label("AC", "CA")
    ('CC>AA', 'AC>CA')
    """
    if ref[0] == alt[0] or ref[1] == alt[1]:
        return None
    t = mutation_type("DBS78")
    label = f"{ref}>{alt}"
    if label in t:
        return label
    label = f"{reverse_complement(ref)}>{reverse_complement(alt)}"
    return label if label in t else None


# --------------------------------------------------------------------------- ID83
def _copies_right(seq: str, unit: str) -> int:
    n, k = 0, len(unit)
    while seq[n * k:(n + 1) * k] == unit:
        n += 1
    return n


def _copies_left(seq: str, unit: str) -> int:
    n, k = 0, len(unit)
    while len(seq) >= (n + 1) * k and seq[len(seq) - (n + 1) * k:len(seq) - n * k] == unit:
        n += 1
    return n


def indel_class(left: str, indel: str, right: str, deletion: bool) -> str:
    """The ID83 label of an indel from the reference around it.

    Parameters
    ----------
    left : str
        Reference bases before the indel (ending with the anchor base), at least
        ``6 * len(indel)`` of them where available.
    indel : str
        The deleted or inserted bases (without the anchor), upper-case ACGT.
    right : str
        Reference bases after the deleted bases (deletion) or after the anchor (insertion),
        at least ``6 * len(indel)`` where available.
    deletion : bool

    Examples
    --------
    >>> indel_class("GAT", "C", "CCCAG", True)      # one C of CCCC deleted
    '1:Del:C:3'
    >>> indel_class("GTA", "AG", "ATG", True)       # AG deleted, 'A' follows: microhomology 1
    '2:Del:M:1'
    >>> indel_class("TTG", "CA", "CACAT", False)    # CA inserted next to two CA copies
    '2:Ins:R:2'
    """
    n = len(indel)
    copies = _copies_right(right, indel) + _copies_left(left, indel)
    kind = "Del" if deletion else "Ins"
    if n == 1:
        base = indel if indel in "CT" else COMPLEMENT[indel]
        return f"1:{kind}:{base}:{min(copies, 5)}"
    size = min(n, 5)
    if copies or not deletion:
        return f"{size}:{kind}:R:{min(copies, 5)}"
    h_right = next((h for h in range(n - 1, 0, -1) if right[:h] == indel[:h]), 0)
    h_left = next((h for h in range(n - 1, 0, -1) if len(left) >= h and left[-h:] == indel[-h:]),
                  0)
    h = max(h_right, h_left)
    return f"{size}:Del:M:{min(h, 5)}" if h else f"{size}:Del:R:0"


# --------------------------------------------------------------------------- annotation
def _merge_spans(spans) -> list[tuple[int, int]]:
    """Sorted, non-overlapping 1-based inclusive intervals covering ``spans`` (touching
    intervals are joined)."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


class Annotation:
    """Gene intervals per chromosome and strand, for transcriptional-strand labels.

    Built by :func:`read_annotation`; ``strand(chrom, pos, flipped)`` gives ``T``, ``U``,
    ``B`` or ``N`` for the SNV at 1-based ``pos`` whose reference base is a purine when
    ``flipped`` is true.

    Examples
    --------
    >>> a = Annotation({("1", "+"): [(10, 20)], ("1", "-"): [(15, 30)]}, "example")
    >>> a.strand("1", 12, False), a.strand("1", 12, True), a.strand("1", 16, False)
    ('U', 'T', 'B')
    >>> a.strand("1", 25, False), a.strand("1", 40, False)
    ('T', 'N')
    """

    def __init__(self, intervals: dict, source: str):
        self.source = source
        self._starts: dict = {}
        self._ends: dict = {}
        for key, spans in intervals.items():
            merged = _merge_spans(spans)
            self._starts[key] = [s for s, _ in merged]
            self._ends[key] = [e for _, e in merged]
        self.chromosomes = sorted({c for c, _ in intervals})

    def _inside(self, chrom: str, strand: str, pos: int) -> bool:
        starts = self._starts.get((chrom, strand))
        if not starts:
            return False
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos <= self._ends[(chrom, strand)][i]

    def strand(self, chrom: str, pos: int, flipped: bool) -> str:
        """Strand letter of an SNV (see the class docstring)."""
        plus, minus = self._inside(chrom, "+", pos), self._inside(chrom, "-", pos)
        if plus and minus:
            return "B"
        if not (plus or minus):
            return "N"
        return "T" if plus == flipped else "U"


def _table_lines(path):
    """(line number, tab-separated fields) of a GTF/BED file, skipping blank, ``#``,
    ``track`` and ``browser`` lines (gzip read too)."""
    with open_text(path, errors="replace") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if line.strip() and not line.startswith(("#", "track", "browser")):
                yield number, line.split("\t")


def _bed_span(fields, path, number, hint: str = "") -> tuple[int, int]:
    """A BED line's 0-based half-open start/end as 1-based inclusive, or a located error."""
    try:
        return int(fields[1]) + 1, int(fields[2])
    except ValueError:
        raise FormatError(f"start/end {fields[1]!r}/{fields[2]!r} are not whole numbers"
                          + hint, path, number, 2) from None


def read_annotation(path, chrom_names: Iterable[str] | None = None) -> Annotation:
    """Read gene intervals with their strand from a GTF/GFF or a BED file.

    GTF/GFF (9 tab-separated columns): the ``transcript`` features (or, when there are
    none, the ``gene`` features), 1-based inclusive. BED (at least 6 columns: chrom, start,
    end, name, score, strand): 0-based half-open, as BED is. Lines starting with ``#``,
    ``track`` or ``browser`` are ignored; gzipped files are read too.

    Parameters
    ----------
    path : path-like
    chrom_names : iterable of str, optional
        The genome's chromosome names; an annotation sharing none of them is an error
        (usually a ``chr`` prefix difference).

    Raises
    ------
    nmfbio.errors.FormatError
        A line with too few columns, a bad coordinate or strand (file, line, column), or no
        interval at all.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "genes.bed")
    >>> with open(p, "w") as f:
    ...     _ = f.write("1\\t9\\t20\\tg1\\t0\\t+\\n")
    >>> read_annotation(p).strand("1", 10, False)
    'U'
    """
    path = check_input_file(path, "a gene annotation (GTF or BED with strand)")
    rows: dict[str, list] = {"transcript": [], "gene": [], "bed": []}
    for number, fields in _table_lines(path):
        if len(fields) >= 9 and fields[3].isdigit() and fields[4].isdigit():
            feature = fields[2]
            if feature not in ("transcript", "gene"):
                continue
            start, end, strand, col = int(fields[3]), int(fields[4]), fields[6], 7
        elif len(fields) >= 6:
            feature = "bed"
            start, end = _bed_span(fields, path, number,
                                   " (BED: chrom, start, end, name, score, strand)")
            strand, col = fields[5], 6
        else:
            raise FormatError(f"{len(fields)} tab-separated column(s); a GTF has 9 "
                              "(strand in the 7th), a BED needs 6 (strand in the 6th)",
                              path, number)
        if strand not in ("+", "-"):
            raise FormatError(f"strand {strand!r} is not '+' or '-'; strand labels need "
                              "the gene's strand", path, number, col)
        if end < start:
            raise FormatError(f"end {end} before start {start}", path, number)
        rows[feature].append((fields[0], strand, start, end))
    spans = rows["transcript"] or rows["gene"] or rows["bed"]
    if not spans:
        raise FormatError("no gene or transcript interval found (GTF: 'transcript' or "
                          "'gene' features; BED: 6 columns with strand)", path)
    intervals: dict = {}
    for chrom, strand, s, e in spans:
        intervals.setdefault((chrom, strand), []).append((s, e))
    ann = Annotation(intervals, str(path))
    if chrom_names is not None:
        names = set(chrom_names)
        if not names.intersection(ann.chromosomes):
            raise FormatError(f"none of the annotation's chromosomes ({ann.chromosomes[:5]}) "
                              f"is in the genome ({sorted(names)[:5]}); check the 'chr' "
                              "prefix and the genome build", path)
    return ann


# --------------------------------------------------------------------------- counting
def types_of(context) -> list[MutationType]:
    """The requested types (one name or a list), checked: only countable ones."""
    names = [context] if isinstance(context, str | MutationType) else list(context)
    if not names:
        raise NMFInputError("context names no mutation type; e.g. 'SBS96' or "
                            "['SBS96', 'DBS78', 'ID83']")
    out = []
    for name in names:
        t = mutation_type(name)
        if t.name not in SBS_WIDTH and t.name != "DBS78" and t.name not in INDEL_TYPES:
            raise NMFInputError(f"{t.name} cannot be counted from variants")
        if t not in out:
            out.append(t)
    return out


def count_catalogs(samples: Sequence[str], snvs: Sequence[list], indels: Sequence[dict],
                   types: Sequence[MutationType], doublets: str = "split",
                   records: list | None = None) -> dict:
    """Per type, the (n_samples × n_channels) counts of checked calls.

    Parameters
    ----------
    samples : sequence of str
    snvs : per sample, a list of ``(chrom, pos, context5, alt, strand)`` SNVs: the 5-base
        reference context around the SNV and its strand letter (or None).
    indels : per sample, a dict ``(chrom, pos, ref, alt)`` → ID83 label.
    types : the types to count.
    doublets : {"split", "separate"}
        Whether the SNVs of doublets and longer runs also count in the SBS types.
    records : list, optional
        When given, one ``(sample, type, chrom, pos, ref, alt, channel)`` tuple is appended
        per counted mutation and type (REF/ALT on the genome's + strand; a doublet's two
        bases; an indel's VCF alleles).

    Returns
    -------
    dict
        Type name → float array, and ``"_summary"`` → counts of SNVs, doublets, runs of
        three or more (``mns``) and indels over all samples.
    """
    if doublets not in DOUBLET_RULES:
        raise NMFInputError(f"doublets must be one of {list(DOUBLET_RULES)}, got {doublets!r}")
    tally = _Counts(samples, types, doublets, records)
    for i in range(len(samples)):
        calls = sorted(set(snvs[i]), key=lambda c: (c[0], c[1], c[3], c[2], c[4] or ""))
        run: list = []
        for call in [*calls, None]:
            if call is not None and run and call[0] == run[-1][0] and call[1] == run[-1][1] + 1:
                run.append(call)
                continue
            if run:
                tally.run(i, run)
            run = [call]
        for (chrom, pos, ref, alt), label in sorted(indels[i].items()):
            tally.summary["indels"] += 1
            if "ID83" in tally.out:
                tally.add(i, mutation_type("ID83"), label, chrom, pos, ref, alt)
    tally.out["_summary"] = dict(tally.summary)
    return tally.out


class _Counts:
    """The catalogs being counted, the per-mutation records and the summary."""

    def __init__(self, samples, types, doublets, records):
        self.samples, self.types, self.doublets, self.records = samples, types, doublets, records
        self.out = {t.name: np.zeros((len(samples), len(t))) for t in types}
        self.summary = Counter()
        self.bidirectional = Counter()  # (sample, SBS96 channel) -> B seen so far (SBS288)

    def add(self, i, t, label, chrom, pos, ref, alt) -> None:
        self.out[t.name][i, t.index(label)] += 1
        if self.records is not None:
            self.records.append((self.samples[i], t.name, chrom, pos, ref, alt, label))

    def run(self, i, run) -> None:
        """One run of adjacent SNVs of sample ``i`` (an isolated SNV is a run of one)."""
        self.summary["snvs"] += len(run)
        if len(run) > 2:
            self.summary["mns"] += 1
        pairs = list(zip(run[:-1], run[1:], strict=True))  # overlapping pairs, as SPMG counts
        if self.doublets == "separate" and len(run) > 2:
            pairs = []
        self.summary["doublets"] += len(pairs)
        if "DBS78" in self.out:
            t = mutation_type("DBS78")
            for a, b in pairs:
                ref, alt = a[2][2] + b[2][2], a[3] + b[3]
                label = dbs_label(ref, alt)
                if label is not None:
                    self.add(i, t, label, a[0], a[1], ref, alt)
        if len(run) > 1 and self.doublets == "separate":
            return
        for t in self.types:
            width = SBS_WIDTH.get(t.name)
            if width is None:
                continue
            for chrom, pos, ctx, alt, strand in run:
                if t.name not in _STRANDED:
                    strand = None
                elif strand is None:
                    continue
                label = sbs_label(ctx[2 - width:3 + width], alt, width, strand)
                if t.name == "SBS288" and strand == "B":
                    # SBS288 has no B rows: SigProfilerMatrixGenerator gives half of a
                    # channel's bidirectional count to T and half to U, the odd one to T;
                    # here the first B of a channel goes to T, the next to U, and so on
                    seen = self.bidirectional[(i, label[2:])]
                    self.bidirectional[(i, label[2:])] += 1
                    label = ("T:" if seen % 2 == 0 else "U:") + label[2:]
                if label in t:
                    self.add(i, t, label, chrom, pos, ctx[2], alt)


# --------------------------------------------------------------------------- opportunities
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _CODE[ord(_b.lower())] = _i


_CHUNK = 1 << 22  # bases of sequence counted at a time


def _kmer_counts(seq: str, k: int) -> np.ndarray:
    """Counts of the 4**k k-mers (base-4 index, A=0 … T=3) in ``seq``; windows with a
    letter other than ACGT are not counted."""
    codes = _CODE[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(4 ** k, dtype=np.int64)
    index = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    for j in range(k):
        c = codes[j:j + n]
        index = index * 4 + (c & 3)
        bad |= c == 4
    return np.bincount(index[~bad], minlength=4 ** k)


def read_regions(path) -> dict:
    """Target regions of a BED file (0-based half-open; at least 3 columns), merged per
    chromosome into 1-based inclusive intervals.

    Returns
    -------
    dict
        ``{chrom: [(start, end), ...]}``, sorted, overlapping and touching regions joined.

    Raises
    ------
    nmfbio.errors.FormatError
        Too few columns, coordinates that are not whole numbers or an end before its start
        (file, line, column), or no region at all.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "kit.bed")
    >>> with open(p, "w") as f:
    ...     _ = f.write("1\\t0\\t10\\n1\\t5\\t20\\n2\\t100\\t200\\texon\\n")
    >>> read_regions(p)
    {'1': [(1, 20)], '2': [(101, 200)]}
    """
    path = check_input_file(path, "a BED file of target regions")
    spans: dict = {}
    for number, fields in _table_lines(path):
        if len(fields) < 3:
            raise FormatError(f"{len(fields)} tab-separated column(s); BED needs chrom, "
                              "start, end", path, number)
        start, end = _bed_span(fields, path, number)
        if start < 1 or end < start - 1:
            raise FormatError(f"start {fields[1]} / end {fields[2]}: BED needs "
                              "0 <= start <= end", path, number, 2)
        if end >= start:  # an empty region (start == end in BED) covers nothing
            spans.setdefault(fields[0], []).append((start, end))
    if not spans:
        raise FormatError("no region found (BED: chrom, start, end)", path)
    return {chrom: _merge_spans(s) for chrom, s in spans.items()}


def opportunities(fasta, regions=None, *, width: int = 1):
    """How often each pyrimidine-centred context occurs in a genome or in target regions.

    Both strands count: a context centred on a purine counts for its reverse complement, so
    ``ACA`` also counts each ``TGT``. Contexts with an N (or any non-ACGT letter) are not
    counted; a context must lie inside the region (for a region of L bases, L − 2·width
    contexts).

    Parameters
    ----------
    fasta : path-like or FastaReader
        The reference genome.
    regions : path-like, optional
        A BED file of target regions (e.g. an exome capture kit's); by default every
        sequence of the FASTA, whole.
    width : int, default 1
        Bases on each side: 1 gives the 32 trinucleotides of SBS96, 2 the 512
        pentanucleotides of SBS1536.

    Returns
    -------
    pandas.Series
        Counts indexed by context (``"ACA"``, …, sorted), name ``"opportunities"``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.fa")
    >>> with open(p, "w") as f:
    ...     _ = f.write(">1\\nACGTNACA\\n")
    >>> opp = opportunities(p)
    >>> opp[opp > 0].to_dict()       # ACG; CGT (= ACG on the other strand); ACA
    {'ACA': 1, 'ACG': 2}
    """
    import pandas as pd

    from nmfbio.io.genome import FastaReader

    if width not in (1, 2):
        raise NMFInputError(f"width must be 1 (trinucleotides) or 2 (pentanucleotides), got "
                            f"{width!r}")
    k = 2 * width + 1
    counts = np.zeros(4 ** k, dtype=np.int64)
    fa = fasta if isinstance(fasta, FastaReader) else FastaReader(fasta)
    try:
        if regions is None:
            spans = {name: [(1, length)] for name, length in fa.lengths.items()}
        else:
            spans = read_regions(regions)
            unknown = [c for c in spans if c not in fa]
            if len(unknown) == len(spans):
                raise FormatError(f"none of the regions' chromosomes ({sorted(spans)[:5]}) is "
                                  f"in the FASTA {fa.path} ({list(fa.names)[:5]}); check the "
                                  "'chr' prefix and the genome build", regions)
        for chrom, intervals in spans.items():
            if chrom not in fa:
                continue
            for start, end in intervals:
                end = min(end, fa.lengths[chrom])
                # chunks overlapping by k - 1 bases: each context counted once, memory flat
                for lo in range(start, end - k + 2, _CHUNK):
                    hi = min(lo + _CHUNK + k - 2, end)
                    counts += _kmer_counts(fa.fetch(chrom, lo, hi), k)
    finally:
        if fa is not fasta:
            fa.close()
    kmers = ["".join(p) for p in product("ACGT", repeat=k)]
    out: dict = {}
    for kmer, n in zip(kmers, counts, strict=True):
        key = kmer if kmer[width] in "CT" else reverse_complement(kmer)
        out[key] = out.get(key, 0) + int(n)
    return pd.Series(out, name="opportunities").sort_index()
