"""Opportunity normalisation: signatures converted between genomes, exomes and target panels.

A signature is the spectrum a mutational process leaves in a given sequence; the same
process leaves more C>T at CpG in a CpG-rich exome than in the whole genome. Converting a
signature from one territory (``source``) to another (``target``) multiplies each SBS
channel by ``target[context] / source[context]`` of its trinucleotide (or pentanucleotide)
and renormalises each signature to sum to 1, the convention of COSMIC's exome versions of
the genome signatures (Alexandrov et al. 2020, Nature 578:94). Opportunities are counted
from a FASTA (and a BED of target regions) by :func:`nmfbio.io.opportunities`; this module
only converts.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from nmfbio.errors import NMFInputError
from nmfbio.io.sbs96 import reverse_complement
from nmfbio.signatures._catalog import frame_type
from nmfbio.signatures.match import as_signature_frame

__all__ = ["convert_opportunities", "channel_contexts"]

_SBS = re.compile(r"^(?:[TUBN]:)?([ACGT]*)\[([CT])>[ACGT]\]([ACGT]*)$")


def channel_contexts(labels) -> list[str]:
    """The reference context (pyrimidine-centred bases) of each SBS channel label.

    Examples
    --------
    >>> channel_contexts(["A[C>T]G", "T:TT[T>G]AC"])
    ['ACG', 'TTTAC']
    """
    out = []
    for label in labels:
        m = _SBS.match(str(label))
        if m is None or len(m.group(1)) != len(m.group(3)) or not m.group(1):
            raise NMFInputError(f"channel {label!r} has no sequence context (SBS96, SBS288, "
                                "SBS384 or SBS1536 channels have one; SBS6/SBS24, DBS and ID "
                                "channels cannot be converted by context)")
        out.append(m.group(1) + m.group(2) + m.group(3))
    return out


def _as_opportunities(opp, what: str, k: int) -> pd.Series:
    """Pyrimidine-centred opportunities of k-mers; single-strand counts of all 4**k k-mers
    (any purine-centred key) are folded onto their pyrimidine-centred spelling."""
    if isinstance(opp, dict):
        opp = pd.Series(opp, dtype=float)
    if not isinstance(opp, pd.Series):
        raise NMFInputError(f"{what} must be a pandas Series (or dict) of counts by context, "
                            f"e.g. nmfbio.io.opportunities(fasta, regions); got "
                            f"{type(opp).__name__}")
    keys = [str(x).upper() for x in opp.index]
    values = pd.to_numeric(pd.Series(opp.to_numpy(), index=keys), errors="coerce")
    bad = [k_ for k_, v in values.items() if not np.isfinite(v) or v < 0]
    if bad:
        raise NMFInputError(f"{what}: counts must be finite and >= 0; bad at {bad[:5]}")
    wrong = [x for x in keys if len(x) != k or set(x) - set("ACGT")]
    if wrong:
        raise NMFInputError(f"{what}: contexts must be {k} bases of ACGT to match the "
                            f"signatures' channels; got {wrong[:5]} (opportunities(..., "
                            f"width={k // 2}) counts these)")
    folded: dict = {}
    for key, v in values.items():
        key = key if key[k // 2] in "CT" else reverse_complement(key)
        folded[key] = folded.get(key, 0.0) + float(v)
    return pd.Series(folded)


def convert_opportunities(signatures, source, target) -> pd.DataFrame:
    """Signatures of one territory's opportunities expressed in another's.

    Each channel is weighted by ``target[c] / source[c]`` of its context ``c`` and every
    signature renormalised to sum to 1; converting back with the two swapped gives the
    input again.

    Parameters
    ----------
    signatures : DataFrame (channels × signatures) or a result
        SBS96, SBS288, SBS384 or SBS1536 signatures (e.g. a COSMIC genome set,
        ``extract(...)``'s signatures).
    source, target : Series or dict
        Counts of each context in the territory the signatures come from and the one they
        are wanted in (:func:`nmfbio.io.opportunities`; trinucleotides for SBS96/288/384,
        pentanucleotides for SBS1536). Counts of all 4**k single-strand k-mers are folded
        onto the pyrimidine-centred spelling.

    Returns
    -------
    DataFrame
        The converted signatures, same shape, labels and names; columns sum to 1.

    Raises
    ------
    nmfbio.errors.NMFInputError
        Channels without a sequence context (DBS, ID, SBS6/SBS24), contexts of the wrong
        length, negative or non-finite counts, or a context that a signature uses but that
        has no opportunity in ``source`` (or is missing from ``target``).

    Examples
    --------
    >>> from nmfbio.io.mutation_types import mutation_type
    >>> labels = list(mutation_type("SBS96").labels)
    >>> W = pd.DataFrame(1 / 96, index=labels, columns=["flat"])
    >>> genome = dict.fromkeys(channel_contexts(labels), 100.0)
    >>> exome = {**genome, "ACG": 300.0}          # a CpG-rich territory
    >>> out = convert_opportunities(W, genome, exome)
    >>> float(round(out.loc["A[C>T]G", "flat"] / out.loc["A[C>T]A", "flat"], 6))
    3.0
    """
    frame = as_signature_frame(signatures)
    frame_type(frame)  # a registered type, each channel once
    contexts = channel_contexts(frame.index)
    k = len(contexts[0])
    src = _as_opportunities(source, "source", k)
    dst = _as_opportunities(target, "target", k)
    values = frame.to_numpy(float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise NMFInputError("signatures must be finite and >= 0")
    used = sorted({c for c, row in zip(contexts, values, strict=True) if row.any()})
    for what, opp in (("source", src), ("target", dst)):
        missing = [c for c in used if c not in opp.index]
        if missing:
            raise NMFInputError(f"{what} has no count for the context(s) {missing[:5]} that "
                                "the signatures use")
    empty = [c for c in used if src[c] == 0]
    if empty:
        raise NMFInputError(f"source has 0 opportunities of {empty[:5]}, which the signatures "
                            "use: a signature cannot have mutations where its territory has no "
                            "such context; check that source is the right territory")
    ratio = np.array([dst.get(c, 0.0) / src[c] if src.get(c, 0) else 0.0 for c in contexts])
    out = values * ratio[:, None]
    sums = out.sum(axis=0)
    zero = [name for name, s in zip(frame.columns, sums, strict=True) if s <= 0]
    if zero:
        raise NMFInputError(f"signature(s) {zero[:5]} have no opportunity left in target "
                            "(every context they use has count 0 there)")
    return pd.DataFrame(out / sums, index=frame.index, columns=frame.columns)
