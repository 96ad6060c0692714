"""Per-mutation attribution: the probability that each signature made each mutation.

For a mutation of sample ``s`` in channel ``c``, signature ``k`` has probability
``W[c, k] · E[s, k] / Σ_j W[c, j] · E[s, j]`` (W: signatures with columns summing to 1,
E: exposures in mutations): the posterior of the NMF's generative model, the table
SigProfilerAssignment writes as its "probabilities" output. Summed over a sample's
mutations, the probabilities give the mutations attributed to each signature; at a
Poisson/KL fit of the exposures they equal the exposures. The mutations come from
:func:`nmfbio.io.mutation_table`; extraction and assignment are elsewhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, NMFInputError
from nmfbio.signatures._catalog import frame_type
from nmfbio.signatures.match import as_signature_frame

__all__ = ["attribute"]


def attribute(mutations: pd.DataFrame, signatures, exposures=None) -> pd.DataFrame:
    """The probability of each signature for each mutation.

    Parameters
    ----------
    mutations : DataFrame
        One row per mutation with at least ``sample``, ``mutation_type`` and ``channel``
        columns (:func:`nmfbio.io.mutation_table`); rows of other mutation types than the
        signatures' are left out.
    signatures : DataFrame (channels × signatures) or a result
        The signatures, or an :class:`~nmfbio.signatures.ExtractionResult` (its signatures
        and exposures).
    exposures : DataFrame (samples × signatures), optional
        Mutations attributed to each signature per sample (``extract(...).exposures`` or
        ``assign(...).exposures``); needed unless ``signatures`` is an extraction result.

    Returns
    -------
    DataFrame
        The mutation rows of the signatures' type, with one column per signature (the
        probabilities, summing to 1 per row), ``most_likely`` (the signature of highest
        probability) and ``max_probability``. A mutation whose sample has no exposure in its
        channel gets NaN (counted in a DataWarning).

    Raises
    ------
    nmfbio.errors.NMFInputError
        Missing columns, no mutation of the signatures' type, samples absent from the
        exposures, signatures that differ between ``signatures`` and ``exposures``, or
        channels that are not the signatures'.

    Examples
    --------
    >>> from nmfbio.io.mutation_types import mutation_type
    >>> W = pd.DataFrame(0.0, index=list(mutation_type("DBS78").labels), columns=["A", "B"])
    >>> W.loc[["CC>AA", "CC>AG"], "A"] = 0.5
    >>> W.loc[["CC>AG", "CC>AT"], "B"] = 0.5
    >>> E = pd.DataFrame({"A": [30.0], "B": [10.0]}, index=["t1"])
    >>> muts = pd.DataFrame({"sample": ["t1", "t1"], "mutation_type": ["DBS78", "DBS78"],
    ...                      "channel": ["CC>AA", "CC>AG"]})
    >>> attribute(muts, W, E)[["A", "B", "most_likely"]].values.tolist()
    [[1.0, 0.0, 'A'], [0.75, 0.25, 'A']]
    """
    if exposures is None:
        if not (hasattr(signatures, "signatures") and hasattr(signatures, "exposures")):
            raise NMFInputError("pass the exposures (samples × signatures), or an extraction "
                                "result, which holds both")
        exposures = signatures.exposures
    W = as_signature_frame(signatures, "signatures")
    mtype = frame_type(W, "signatures")
    E = pd.DataFrame(exposures)
    missing_cols = [c for c in ("sample", "mutation_type", "channel") if c not in mutations]
    if missing_cols:
        raise NMFInputError(f"mutations need the columns sample, mutation_type and channel "
                            f"(see nmfbio.io.mutation_table); missing {missing_cols}")
    if list(map(str, E.columns)) != list(map(str, W.columns)):
        raise NMFInputError(f"the exposures' signatures {list(E.columns)[:6]} are not the "
                            f"signatures' {list(W.columns)[:6]}; pass exposures fitted with "
                            "these signatures")
    rows = mutations[mutations["mutation_type"] == mtype.name]
    if rows.empty:
        found = sorted(set(mutations["mutation_type"]))
        raise NMFInputError(f"no {mtype.name} mutation to attribute (the table holds "
                            f"{found}); count the signatures' type with "
                            f"context={mtype.name!r}")
    samples = rows["sample"].astype(str)
    E.index = E.index.map(str)
    absent = sorted(set(samples) - set(E.index))
    if absent:
        raise NMFInputError(f"{len(absent)} sample(s) of the mutations have no exposures, "
                            f"e.g. {absent[:5]}; use the exposures of the same cohort")
    channels = rows["channel"].astype(str)
    unknown = sorted(set(channels) - set(W.index.map(str)))
    if unknown:
        raise NMFInputError(f"channel(s) {unknown[:5]} are not {mtype.name} channels of the "
                            "signatures")
    Wn = W.to_numpy(dtype=float)
    Wn = Wn / np.where(Wn.sum(axis=0) > 0, Wn.sum(axis=0), 1.0)
    wi = pd.Index(W.index.map(str)).get_indexer(channels)
    ei = E.index.get_indexer(samples)
    weights = Wn[wi] * E.to_numpy(dtype=float)[ei]
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        prob = np.where(total > 0, weights / np.where(total > 0, total, 1.0), np.nan)
    none = int((total[:, 0] <= 0).sum())
    if none:
        warn(f"{none} mutation(s) fall in channels where their sample has no exposure to any "
             "signature; their probabilities are NaN", DataWarning)
    out = rows.reset_index(drop=True).copy()
    names = [str(c) for c in W.columns]
    for j, name in enumerate(names):
        out[name] = prob[:, j]
    best = np.where(np.isnan(prob).all(axis=1), -1, np.nanargmax(np.nan_to_num(prob, nan=-1),
                                                                    axis=1))
    out["most_likely"] = [names[b] if b >= 0 else "" for b in best]
    out["max_probability"] = np.nanmax(np.where(np.isnan(prob), -np.inf, prob), axis=1)
    out.loc[best < 0, "max_probability"] = np.nan
    return out

