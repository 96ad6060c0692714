"""The 96 single-base-substitution (SBS96) channels and their two orders seen in the wild.

A channel is a pyrimidine-centred substitution with its 5' and 3' neighbours, written
``A[C>A]T`` (5' base, [reference>alternative], 3' base). There are 6 substitution classes
(C>A, C>G, C>T, T>A, T>C, T>G) × 4 × 4 flanks = 96 channels.

* ``SUBSTITUTION_MAJOR`` — class, then 5' base, then 3' base: the order of the customary
  96-channel bar plot, MutationalPatterns and many papers.
* ``ALPHABETICAL`` — the labels sorted as strings (5' base, then class, then 3' base): the row
  order of SigProfiler matrices and COSMIC signature text files.

nmfbio always aligns catalogs by label, never by position; ``CHANNELS`` (= the alphabetical
order) is the order of ``var`` in every catalog AnnData. Plot colours follow the field's
custom.
"""

from __future__ import annotations

__all__ = ["SUBSTITUTIONS", "BASES", "SUBSTITUTION_MAJOR", "ALPHABETICAL", "CHANNELS",
           "CLASS_COLOURS", "channel_label", "substitution_of", "COMPLEMENT",
           "reverse_complement"]

SUBSTITUTIONS = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
BASES = ("A", "C", "G", "T")
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}

#: customary colours of the six classes (COSMIC / SigProfiler plots)
CLASS_COLOURS = {"C>A": "#1EBFF0", "C>G": "#050708", "C>T": "#E62725", "T>A": "#CBCACB",
                 "T>C": "#A1CE63", "T>G": "#EDBFC2"}


def channel_label(five: str, sub: str, three: str) -> str:
    """``channel_label("A", "C>A", "T") == "A[C>A]T"``.

    Examples
    --------
    >>> channel_label("T", "C>T", "G")
    'T[C>T]G'
    """
    return f"{five}[{sub}]{three}"


def substitution_of(label: str) -> str:
    """The class of a channel label.

    Examples
    --------
    >>> substitution_of("A[C>T]G")
    'C>T'
    """
    return label[2:5]


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string (upper case; N stays N).

    Examples
    --------
    >>> reverse_complement("ACGTN")
    'NACGT'
    """
    return "".join(COMPLEMENT[b] for b in reversed(seq.upper()))


SUBSTITUTION_MAJOR = tuple(channel_label(f, s, t) for s in SUBSTITUTIONS for f in BASES
                           for t in BASES)
ALPHABETICAL = tuple(sorted(SUBSTITUTION_MAJOR))
CHANNELS = ALPHABETICAL
