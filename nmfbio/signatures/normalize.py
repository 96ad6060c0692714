"""Sample normalisation of a catalog before extraction: hypermutated tumours scaled down.

In real cohorts a few tumours carry most of the mutations (15 of 100 breast genomes with
more than 3× the median count) and a Poisson fit of the raw counts spends its signatures on
them. SigProfilerExtractor therefore scales such samples down before NMF (its
``matrix_normalization``; Islam et al. 2022, Cell Genomics 2:100179) and so does
:func:`nmfbio.signatures.extract` by default; the final exposures are always refitted on the
raw counts. The methods, with SigProfilerExtractor's definitions:

``"gmm"`` (default)
    A cutoff from the sample totals: a two-component Gaussian mixture is fitted to the
    totals; while the smaller component's mean lies at least 4 standard deviations (of the
    larger component) away, its samples are set aside and the mixture is refitted on the
    rest. The cutoff is the remaining totals' mean + 2 standard deviations, and at least
    100 × the number of channels (9,600 for SBS96). Samples above the cutoff are scaled
    to it. Fewer than :data:`GMM_MIN_SAMPLES` samples are too few for a mixture: the
    ``"100X"`` cutoff is used instead, with a :class:`~nmfbio.errors.DataWarning`.
``"100X"``
    Samples with more than 100 × the number of channels mutations are scaled to that total.
``"log2"``
    Every sample scaled to log2 of its total (samples with fewer than 2 mutations are left
    as they are: log2 would make them empty).
``"none"`` or an integer
    No scaling, or a fixed cutoff.

Extraction itself, the refit and the plots are elsewhere; this module only computes the
scaled catalog and says what it did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio._warn import warn
from nmfbio.errors import DataWarning, NMFInputError

__all__ = ["NORMALIZATIONS", "GMM_MIN_SAMPLES", "normalize_catalog", "gmm_cutoff",
           "scale_factors", "normalization_table"]

#: the named methods (an integer cutoff is accepted too)
NORMALIZATIONS = ("gmm", "100X", "log2", "none")
#: fewest samples a two-component mixture of the totals is fitted to
GMM_MIN_SAMPLES = 10


def _two_gaussians(x: np.ndarray, n_iter: int = 200) -> np.ndarray:
    """Component (0/1) of each value under a two-component 1-D Gaussian mixture fitted by
    EM from a deterministic start (the two halves of the sorted values)."""
    order = np.sort(x)
    half = len(x) // 2
    mu = np.array([order[:half].mean(), order[half:].mean()])
    floor = max(1e-6 * float(np.var(x)), 1e-12)
    var = np.array([max(order[:half].var(), floor), max(order[half:].var(), floor)])
    pi = np.array([0.5, 0.5])
    for _ in range(n_iter):
        logp = (np.log(pi) - 0.5 * np.log(2 * np.pi * var)
                - 0.5 * (x[:, None] - mu) ** 2 / var)
        logp -= logp.max(axis=1, keepdims=True)
        resp = np.exp(logp)
        resp /= resp.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0)
        if (nk < 1e-9).any():
            break
        new_mu = (resp * x[:, None]).sum(axis=0) / nk
        var = np.maximum((resp * (x[:, None] - new_mu) ** 2).sum(axis=0) / nk, floor)
        pi = nk / len(x)
        if np.allclose(new_mu, mu, rtol=1e-10, atol=0):
            mu = new_mu
            break
        mu = new_mu
    return np.argmax(resp, axis=1)


def gmm_cutoff(totals, n_channels: int) -> float:
    """The ``"gmm"`` cutoff of a cohort's sample totals (see the module docstring).

    Examples
    --------
    >>> totals = [2000, 2500, 3000, 3500, 4000, 4500, 5000, 5500, 6000, 6500, 90000]
    >>> gmm_cutoff(totals, 96)        # the hypermutator set aside; floor 9,600
    9600.0
    """
    x = np.asarray(totals, dtype=float)
    while len(x) >= 4:
        labels = _two_gaussians(x)
        sizes = np.bincount(labels, minlength=2)
        if sizes.min() == 0:
            break
        big, small = x[labels == np.argmax(sizes)], x[labels == np.argmin(sizes)]
        if abs(big.mean() - small.mean()) < 4 * big.std():
            break
        x = big
    return float(max(np.floor(x.mean() + 2 * x.std()), 100 * n_channels))


def scale_factors(totals, applied, cutoff) -> np.ndarray:
    """The factor each sample's counts are multiplied by: ``cutoff / total`` above a cutoff,
    ``log2(total) / total`` for ``applied="log2"`` (totals of at least 2), else 1.

    Examples
    --------
    >>> scale_factors(np.array([100.0, 400.0]), "100X", 200.0).tolist()
    [1.0, 0.5]
    """
    totals = np.asarray(totals, dtype=float)
    factor = np.ones(len(totals))
    if cutoff is not None:
        over = totals > cutoff
        factor[over] = cutoff / totals[over]
    elif applied == "log2":
        ok = totals >= 2
        factor[ok] = np.log2(totals[ok]) / totals[ok]
    return factor


def normalize_catalog(catalog: pd.DataFrame, method="gmm") -> tuple[pd.DataFrame, dict]:
    """A catalog (channels × samples) with hypermutated samples scaled down.

    Parameters
    ----------
    catalog : DataFrame
        Counts, channels × samples.
    method : {"gmm", "100X", "log2", "none"} or int, default "gmm"
        See the module docstring.

    Returns
    -------
    scaled : DataFrame
        The catalog to fit (same labels; floats).
    info : dict
        ``method`` (as given), ``applied`` (the method used, after any fall-back),
        ``cutoff`` (None for log2/none), ``scaled`` (names of the samples scaled down) and
        ``note`` (one sentence saying what was done and why, for summaries and reports).

    Raises
    ------
    nmfbio.errors.NMFInputError
        An unknown method or a cutoff below 1.

    Examples
    --------
    >>> cat = pd.DataFrame({"a": [10, 10], "b": [20, 20], "hyper": [500, 500]})
    >>> scaled, info = normalize_catalog(cat, "100X")
    >>> scaled["hyper"].tolist(), info["scaled"]
    ([100.0, 100.0], ['hyper'])
    """
    n_channels, n_samples = catalog.shape
    if isinstance(method, (bool, np.bool_)) or not (
            method in NORMALIZATIONS or isinstance(method, (int, np.integer))):
        raise NMFInputError(f"normalize must be one of {list(NORMALIZATIONS)} or a whole "
                            f"number (a cutoff of mutations per sample), got {method!r}")
    values = catalog.to_numpy(dtype=float)
    totals = values.sum(axis=0)
    applied, cutoff, note = method, None, ""
    if method == "gmm" and n_samples < GMM_MIN_SAMPLES:
        applied = "100X"
        note = (f"gmm needs at least {GMM_MIN_SAMPLES} samples to fit a mixture of their "
                f"totals, this catalog has {n_samples}: used the 100X cutoff instead")
        warn(f"normalize='gmm': {note}", DataWarning)
    if applied == "gmm":
        cutoff = gmm_cutoff(totals, n_channels)
    elif applied == "100X":
        cutoff = float(100 * n_channels)
    elif isinstance(applied, (int, np.integer)):
        if applied < 1:
            raise NMFInputError(f"a normalize cutoff must be at least 1, got {applied}")
        cutoff = float(applied)
    factor = scale_factors(totals, applied, cutoff)
    scaled_names = [str(c) for c, f in zip(catalog.columns, factor, strict=True) if f < 1]
    what = {"gmm": "the gmm cutoff", "100X": "100 × the channels"}.get(str(applied), "the cutoff")
    if cutoff is not None:
        done = (f"{len(scaled_names)} of {n_samples} samples with more than {cutoff:,.0f} "
                f"mutations ({what}) scaled down to it before fitting")
    elif applied == "log2":
        done = "every sample scaled to log2 of its total before fitting"
    else:
        done = "no sample normalisation"
    note = f"{done}; {note}" if note else done
    scaled = pd.DataFrame(values * factor, index=catalog.index, columns=catalog.columns)
    scaled.attrs.update(catalog.attrs)
    return scaled, dict(method=method if isinstance(method, str) else int(method),
                        applied=applied if isinstance(applied, str) else int(applied),
                        cutoff=cutoff, scaled=scaled_names, note=note)


def normalization_table(catalog: pd.DataFrame, info: dict | None) -> pd.DataFrame:
    """Each sample's total, the total it was fitted with and whether it was scaled down.

    Parameters
    ----------
    catalog : DataFrame (channels × samples)
        The raw counts.
    info : dict or None
        What :func:`normalize_catalog` returned as its second value (an extraction's
        ``params["normalization"]``); None: no normalisation.

    Returns
    -------
    DataFrame
        Columns ``mutations``, ``fitted_as``, ``scaled``; ``attrs["note"]`` says what was done.

    Examples
    --------
    >>> cat = pd.DataFrame({"a": [10, 10], "hyper": [500, 500]})
    >>> _, info = normalize_catalog(cat, 200)
    >>> normalization_table(cat, info)["fitted_as"].tolist()
    [20.0, 200.0]
    """
    info = info or {}
    totals = catalog.sum(axis=0).astype(float)
    scaled = set(info.get("scaled", []))
    fitted = totals * scale_factors(totals, info.get("applied"), info.get("cutoff"))
    table = pd.DataFrame({"mutations": totals, "fitted_as": fitted,
                          "scaled": [str(c) in scaled for c in totals.index]})
    table.index.name = "Samples"
    table.attrs["note"] = info.get("note", "")
    return table
