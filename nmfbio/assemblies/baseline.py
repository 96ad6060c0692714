"""The PCA/ICA baseline as a detector returning an :class:`AssemblyResult`, so users can put
NMF and the field's usual method side by side (Lopes-dos-Santos et al. 2013; see
:mod:`nmfbio.assemblies.ica` for the maths). Counts are standardised against each unit's own
slow background, as for the gated NMF, so both see the same data.
"""

from __future__ import annotations

import numpy as np

from nmfbio.assemblies.ica import ica_activity, ica_patterns, standardise
from nmfbio.assemblies.result import AssemblyResult, as_counts

__all__ = ["ica_baseline"]


def ica_baseline(data, *, bin_width=None, window=None, rank=None, timescale=30.0, seed=0):
    """Assemblies by PCA (Marchenko–Pastur count) and ICA; members above median + 2 robust SD.

    Parameters
    ----------
    data, bin_width, window, timescale, seed
        As in :func:`nmfbio.assemblies.detect`.
    rank : int, optional
        Number of patterns; default: eigenvalues above the Marchenko–Pastur edge.

    Returns
    -------
    AssemblyResult
        ``weights`` are the signed ICA weights, ``activations`` the activation strengths,
        ``pvalues`` NaN (the count comes from the eigenvalue bound, not a test).

    Examples
    --------
    >>> from nmfbio.datasets.assemblies import planted_assemblies
    >>> rec = planted_assemblies(n_units=20, n_assemblies=1, duration=120, seed=0,
    ...                          active_range=(0.05, 0.05), size_range=(8, 8))
    >>> res = ica_baseline(rec.counts, bin_width=0.025)
    >>> res.n_assemblies, {int(u) for u in res.members[0]} <= set(rec.members[0])
    (1, True)

    The baseline finds the assembly but only part of its members here (1 of 8);
    :func:`nmfbio.assemblies.detect` recovers all of them.
    """
    from nmfbio.solver.gated import gated_nmf

    X, unit_ids, t_start, width = as_counts(data, bin_width, window)
    base = gated_nmf(X, None, timescale=timescale / width, max_iter=100)
    Z = standardise(X, base.background())
    patterns, evals, n_sig = ica_patterns(Z, rank, seed=seed)
    act = ica_activity(patterns, Z)
    k = patterns.shape[1]
    # the paper's mean + 2 SD, with robust centre and spread (median, 1.4826·MAD): when a
    # third of the units are members the plain SD is inflated by them and 1–2 units pass
    centre = np.median(patterns, axis=0)
    spread = 1.4826 * np.median(np.abs(patterns - centre), axis=0)
    members = patterns > centre + 2 * spread
    nan = np.full((X.shape[0], k), np.nan)
    params = dict(method="ica", rank=rank, timescale=timescale, seed=seed,
                  n_significant_pcs=int(n_sig), top_eigenvalues=evals[:10].round(6).tolist())
    return AssemblyResult._build(
        patterns, act, members, nan, nan, np.full(k, np.nan), unit_ids, t_start, width,
        base.background().mean(axis=1) / width, X, [f"A{i + 1}" for i in range(k)],
        np.full(k, np.nan), np.zeros((0, k)), params)
