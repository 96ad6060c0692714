"""The registry of mutation types: one channel scheme per type (SBS6 … SBS1536, DBS78, ID83).

Each :class:`MutationType` holds the channel labels exactly as SigProfilerMatrixGenerator
writes them (its row order is the canonical order, the order of ``var`` in every catalog
AnnData), the group of each channel (the substitution class, the reference dinucleotide,
the indel class) with the field's plot colours, and the order channels are drawn in. Every
part of nmfbio that takes a catalog (reading, extraction, matching, assignment, plots,
reports, CLI, workflow) looks its type up here by the labels it carries, so no code
downstream special-cases SBS96. Counting mutations into these channels lives in
:mod:`nmfbio.io.variants` and :mod:`nmfbio.io.mutations`, not here.

Label formats (SigProfilerMatrixGenerator's; pyrimidine-centred for SBS, one strand of the
ten canonical reference dinucleotides for DBS):

============  =============================  ==============================================
type          example label                   channels
============  =============================  ==============================================
``SBS6``      ``C>T``                         6 substitution classes
``SBS24``     ``T:C>T``                       6 classes × strand T, U, B, N
``SBS96``     ``A[C>T]G``                     6 classes × 5' base × 3' base
``SBS288``    ``T:A[C>T]G``                   96 × strand T, U, N (transcribed, untranscribed,
                                              non-transcribed; bidirectional split T/U)
``SBS384``    ``B:A[C>T]G``                   96 × strand T, U, B, N
``SBS1536``   ``AA[C>T]GG``                   6 classes × two 5' bases × two 3' bases
``DBS78``     ``CC>TT``                       10 reference dinucleotides × their alternatives
``ID83``      ``1:Del:C:5``                   the PCAWG indel classes (Alexandrov et al. 2020)
============  =============================  ==============================================

Strand letters (transcriptional strand, from a gene annotation): ``T`` the mutated
pyrimidine is on the transcribed (template) strand, ``U`` on the untranscribed (coding)
strand, ``B`` inside genes on both strands, ``N`` outside genes.

Plot colours are the ones SigProfilerPlotting draws (Bergstrom et al. 2019, BMC Genomics
20:685), so figures read as the field expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product

from nmfbio.errors import NMFInputError

__all__ = ["MutationType", "MUTATION_TYPES", "mutation_type", "detect_mutation_type",
           "canonical_label", "looks_like_label",
           "type_names", "SBS_CLASSES", "DBS_REFERENCES", "STRANDS", "STRAND_COLOURS"]

SBS_CLASSES = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
_BASES = "ACGT"
_COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}
#: transcriptional-strand letters in SigProfilerMatrixGenerator's order
STRANDS = ("T", "U", "B", "N")

_SBS_COLOURS = {"C>A": "#1EBFF0", "C>G": "#050708", "C>T": "#E62725", "T>A": "#CBCACB",
                "T>C": "#A1CE63", "T>G": "#EDBFC2"}
#: the ten reference dinucleotides of DBS78 (one strand of each complementary pair)
DBS_REFERENCES = ("AC", "AT", "CC", "CG", "CT", "GC", "TA", "TC", "TG", "TT")
_DBS_COLOURS = dict(zip(DBS_REFERENCES, (
    "#03BCEE", "#0366CB", "#A1CE63", "#016501", "#FF9898", "#E22926", "#FEB065", "#FD8000",
    "#CB98FD", "#4C0299"), strict=True))
_ID_GROUPS = (("1:Del:C", "#FDBE6F"), ("1:Del:T", "#FF8001"), ("1:Ins:C", "#B0DD8B"),
              ("1:Ins:T", "#36A12E"), ("2:Del:R", "#FDCAB5"), ("3:Del:R", "#FC8A6A"),
              ("4:Del:R", "#F14432"), ("5:Del:R", "#BC141A"), ("2:Ins:R", "#D0E1F2"),
              ("3:Ins:R", "#94C4DF"), ("4:Ins:R", "#4A98C9"), ("5:Ins:R", "#1764AB"),
              ("2:Del:M", "#E2E2EF"), ("3:Del:M", "#B6B6D8"), ("4:Del:M", "#8683BD"),
              ("5:Del:M", "#62409B"))
#: bar colours of the strand letters in stranded (SBS24, SBS288, SBS384) plots
STRAND_COLOURS = {"T": "#1F77B4", "U": "#D62728", "B": "#2CA02C", "N": "#7F7F7F"}


@dataclass(frozen=True)
class MutationType:
    """One channel scheme: labels, their canonical order, groups and plot layout.

    Attributes
    ----------
    name : str
        ``"SBS96"``, ``"DBS78"``, ``"ID83"``, …
    family : {"SBS", "DBS", "ID"}
        The kind of mutation counted (COSMIC reference sets are per family).
    labels : tuple of str
        The channels in canonical order (SigProfilerMatrixGenerator's rows).
    groups : tuple of str
        The group of each channel (same order as ``labels``), e.g. ``"C>A"``, ``"CC"``,
        ``"1:Del:C"``.
    group_title : str
        What a group is, e.g. ``"substitution"``; the name of the ``var`` column.
    colours : dict
        Group → colour (hex).
    plot_order : tuple of int
        Positions in ``labels`` in the order bars are drawn.
    tick : str
        How a bar is labelled under the axis: ``"context"`` (the bases around the
        substitution), ``"alt"`` (the DBS alternative), ``"size"`` (the repeat or
        microhomology count of ID83), ``"label"`` or ``"none"``.
    pattern : str
        A regular expression every label of the type matches (upper case).
    example : str
        One label, for messages.
    description : str
        One line for messages and help texts.

    Examples
    --------
    >>> t = mutation_type("DBS78")
    >>> len(t), t.labels[0], t.group_of("TC>AA")
    (78, 'AC>CA', 'TC')
    """

    name: str
    family: str
    labels: tuple[str, ...]
    groups: tuple[str, ...]
    group_title: str
    colours: dict
    plot_order: tuple[int, ...]
    tick: str
    pattern: str
    example: str
    description: str
    _index: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {lab: i for i, lab in enumerate(self.labels)})

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, label: str) -> int:
        """Position of ``label`` in :attr:`labels` (KeyError if not a channel)."""
        return self._index[label]

    def __contains__(self, label: object) -> bool:
        return label in self._index

    def group_of(self, label: str) -> str:
        """The group of one channel."""
        return self.groups[self._index[label]]

    @property
    def group_names(self) -> tuple[str, ...]:
        """The groups in plot order, each once."""
        return tuple(dict.fromkeys(self.groups[i] for i in self.plot_order))

    @property
    def help(self) -> str:
        """What the labels look like, quoted by label errors."""
        return (f"{self.name} channels are {self.description}, e.g. {self.example!r}; a "
                f"catalog holds each of the {len(self)} labels exactly once, in any order")

    def signature_prefix(self) -> str:
        """Prefix of de novo signature names (``SBS96`` → ``SBS96A``, ``SBS96B``, …)."""
        return self.name


def _sbs96() -> tuple[str, ...]:
    return tuple(sorted(f"{f}[{s}]{t}" for s in SBS_CLASSES for f in _BASES for t in _BASES))


def _sbs1536() -> tuple[str, ...]:
    return tuple(sorted(f"{a}{b}[{s}]{c}{d}" for s in SBS_CLASSES
                        for a, b, c, d in product(_BASES, repeat=4)))


#: for the palindromic references (AT, CG, GC, TA) an ALT and its reverse complement are one
#: channel; these are the spellings SigProfilerMatrixGenerator and COSMIC use
_DBS_PALINDROMIC = {"AT": ("CA", "CC", "CG", "GA", "GC", "TA"),
                    "CG": ("AT", "GC", "GT", "TA", "TC", "TT"),
                    "GC": ("AA", "AG", "AT", "CA", "CG", "TA"),
                    "TA": ("AT", "CG", "CT", "GC", "GG", "GT")}


def _dbs78() -> tuple[str, ...]:
    out = []
    for ref in DBS_REFERENCES:
        alts = _DBS_PALINDROMIC.get(ref) or [
            a + b for a, b in product(_BASES, repeat=2) if a != ref[0] and b != ref[1]]
        out += [f"{ref}>{alt}" for alt in alts]
    return tuple(sorted(out))


def _id83() -> tuple[str, ...]:
    out = [f"1:{kind}:{base}:{k}" for kind in ("Del", "Ins") for base in "CT" for k in range(6)]
    out += [f"{n}:{kind}:R:{k}" for kind in ("Del", "Ins") for n in range(2, 6)
            for k in range(6)]
    out += [f"{n}:Del:M:{k}" for n in range(2, 6) for k in range(1, n if n < 5 else 6)]
    return tuple(out)


def _sbs_class(label: str) -> str:
    return label[label.index("[") + 1:label.index("]")] if "[" in label else label[-3:]


def _substitution_major(labels, key) -> tuple[int, ...]:
    return tuple(sorted(range(len(labels)), key=key))


def _make_sbs(name, body: tuple[str, ...], strands: Sequence[str], tick, pattern, example,
              description) -> MutationType:
    labels = tuple(f"{s}:{b}" for s in strands for b in body) if strands else body
    cls = tuple(_sbs_class(lab) for lab in labels)
    rank = {s: i for i, s in enumerate(SBS_CLASSES)}
    srank = {s: i for i, s in enumerate(STRANDS)}

    def key(i):  # class, then context, then strand (strands side by side)
        lab = labels[i]
        strand, _, core = lab.rpartition(":")
        return (rank[cls[i]], core.replace("[", "").replace("]", ""), srank.get(strand, 0))

    return MutationType(name, "SBS", labels, cls, "substitution", dict(_SBS_COLOURS),
                        _substitution_major(labels, key), tick, pattern, example, description)


def _build() -> dict[str, MutationType]:
    ctx, ctx2 = r"[ACGT]\[[CT]>[ACGT]\][ACGT]", r"[ACGT]{2}\[[CT]>[ACGT]\][ACGT]{2}"
    types = [
        _make_sbs("SBS6", SBS_CLASSES, (), "label", r"^[CT]>[ACGT]$", "C>T",
                  "the six pyrimidine-centred substitution classes"),
        _make_sbs("SBS24", SBS_CLASSES, STRANDS, "label", r"^[TUBN]:[CT]>[ACGT]$", "T:C>T",
                  "a strand letter (T, U, B, N) and a substitution class"),
        _make_sbs("SBS96", _sbs96(), (), "context", f"^{ctx}$", "A[C>A]T",
                  "the 5' base, [REF>ALT] with a pyrimidine REF (C or T), then the 3' base"),
        _make_sbs("SBS288", _sbs96(), ("T", "U", "N"), "context", f"^[TUN]:{ctx}$",
                  "T:A[C>A]T", "a strand letter (T, U or N), ':' and an SBS96 label"),
        _make_sbs("SBS384", _sbs96(), STRANDS, "context", f"^[TUBN]:{ctx}$", "B:A[C>A]T",
                  "a strand letter (T, U, B or N), ':' and an SBS96 label"),
        _make_sbs("SBS1536", _sbs1536(), (), "none", f"^{ctx2}$", "AA[C>A]TT",
                  "two 5' bases, [REF>ALT] with a pyrimidine REF, then two 3' bases"),
    ]
    dbs = _dbs78()
    types.append(MutationType(
        "DBS78", "DBS", dbs, tuple(lab[:2] for lab in dbs), "dinucleotide",
        dict(_DBS_COLOURS), tuple(range(len(dbs))), "alt", r"^[ACGT]{2}>[ACGT]{2}$", "CC>TT",
        "a reference dinucleotide (AC, AT, CC, CG, CT, GC, TA, TC, TG or TT), '>' and the "
        "two alternative bases"))
    ids = _id83()
    types.append(MutationType(
        "ID83", "ID", ids, tuple(lab.rpartition(":")[0] for lab in ids), "indel_class",
        dict(_ID_GROUPS), tuple(range(len(ids))), "size",
        r"^[1-5]:(DEL|INS):[CTRM]:[0-5]$", "1:Del:T:5",
        "length:Del|Ins:C|T|R|M:count (PCAWG indel classes)"))
    return {t.name: t for t in types}


#: name → :class:`MutationType`, in the order of SigProfilerMatrixGenerator's outputs
MUTATION_TYPES: dict[str, MutationType] = _build()
_PATTERNS = {name: re.compile(t.pattern) for name, t in MUTATION_TYPES.items()}
_UPPER = {name: {lab.upper(): lab for lab in t.labels} for name, t in MUTATION_TYPES.items()}


def type_names() -> tuple[str, ...]:
    """The registered type names.

    Examples
    --------
    >>> type_names()[:3]
    ('SBS6', 'SBS24', 'SBS96')
    """
    return tuple(MUTATION_TYPES)


def mutation_type(name: str | MutationType) -> MutationType:
    """The registered type of that name (case-insensitive; ``"DINUC"``/``"ID"`` accepted).

    Raises
    ------
    nmfbio.errors.NMFInputError
        Unknown name (the message lists the registered ones).

    Examples
    --------
    >>> mutation_type("id83").name, len(mutation_type("SBS1536"))
    ('ID83', 1536)
    """
    if isinstance(name, MutationType):
        return name
    key = str(name).strip().upper()
    key = {"DINUC": "DBS78", "DBS": "DBS78", "ID": "ID83", "INDEL": "ID83", "SBS": "SBS96",
           "96": "SBS96", "78": "DBS78", "83": "ID83"}.get(key, key)
    if key.isdigit():
        key = f"SBS{key}"
    if key not in MUTATION_TYPES:
        raise NMFInputError(f"unknown mutation type {name!r}; registered types: "
                            f"{', '.join(MUTATION_TYPES)}")
    return MUTATION_TYPES[key]


def canonical_label(label: str, mtype: MutationType | str) -> str | None:
    """The registered spelling of ``label`` (case-insensitive), or None.

    Examples
    --------
    >>> canonical_label("1:del:c:0", "ID83")
    '1:Del:C:0'
    """
    return _UPPER[mutation_type(mtype).name].get(str(label).strip().upper())


def looks_like_label(label: str) -> bool:
    """Whether ``label`` has the shape of some registered type's channel.

    Examples
    --------
    >>> looks_like_label("A[C>A]T"), looks_like_label("sample1")
    (True, False)
    """
    text = str(label).strip().upper()
    return any(p.match(text) for p in _PATTERNS.values())


def detect_mutation_type(labels: Iterable[str]) -> tuple[MutationType, list[str]]:
    """The registered type whose channels the labels are, and the labels it does not know.

    The type chosen is the one that knows the most labels (ties: the smaller type); callers
    check the returned unknown labels and the missing ones themselves.

    Raises
    ------
    nmfbio.errors.NMFInputError
        No label belongs to any registered type.

    Examples
    --------
    >>> t, unknown = detect_mutation_type(["CC>TT", "AC>CA", "XX"])
    >>> t.name, unknown
    ('DBS78', ['XX'])
    """
    labels = [str(x).strip().upper() for x in labels]
    best, best_n = None, 0
    for name, t in MUTATION_TYPES.items():
        n = sum(lab in _UPPER[name] for lab in labels)
        if n > best_n or (n == best_n and best is not None and n and len(t) < len(best)):
            best, best_n = t, n
    if best is None:
        shown = ", ".join(repr(x) for x in labels[:5])
        raise NMFInputError(f"none of the labels ({shown}) is a channel of a registered "
                            f"mutation type ({', '.join(MUTATION_TYPES)}); e.g. SBS96 "
                            "'A[C>A]T', DBS78 'CC>TT', ID83 '1:Del:T:5'")
    known = _UPPER[best.name]
    return best, [x for x in labels if x not in known]
