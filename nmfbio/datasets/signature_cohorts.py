"""Generated tumour cohorts that look like real ones, for tuning and testing extraction.

Real catalogs differ from the textbook Poisson mixture in three ways that matter for
extraction (issue 17): a few hypermutated tumours carry most of the mutations (in 100
breast genomes, 15 had more than 3× the median count), counts are over-dispersed relative
to Poisson, and flat signatures (SBS3, SBS5, SBS40) that overlap each other act beside the
peaked ones. :func:`realistic_catalog` draws such cohorts from any set of signatures (e.g.
COSMIC's, taken from an installed SigProfilerAssignment; nothing is bundled):

* each signature is active in a sample with its own prevalence (:data:`BREAST_PREVALENCE`
  by default, from the signatures reported in breast cancers; Nik-Zainal et al. 2016,
  Nature 534:47; Alexandrov et al. 2020, Nature 578:94), with a Gamma(1) weight;
* sample burdens are log-normal (median ``median_burden``, log-sd ``burden_sigma``);
* a fraction of samples are hypermutators: ``hyper_fold`` × the burden, the extra mutations
  made by the ``hyper_signatures`` (APOBEC SBS2/SBS13 by default);
* counts are negative binomial around the mixture (Gamma–Poisson with shape
  ``dispersion``; ``dispersion=None`` gives Poisson).

:func:`grouped_signatures` draws signatures of any registered mutation type shaped like the
COSMIC DBS and ID ones (concentrated on one or two channel groups), for tests and tutorials
without COSMIC. The bundled real catalog is in :func:`nmfbio.datasets.breast21`; extraction
is in :mod:`nmfbio.signatures`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio._validation import check_seed
from nmfbio.errors import NMFInputError

__all__ = ["BREAST_PREVALENCE", "BREAST_SIGNATURES", "realistic_catalog", "grouped_signatures"]

#: the signatures known to act in breast cancer, and the fraction of tumours each acts in
#: (COSMIC v3.4 splits SBS40 into SBS40a/b/c; SBS40a is the flat signature of earlier
#: versions)
BREAST_PREVALENCE = {"SBS1": 0.9, "SBS2": 0.5, "SBS3": 0.35, "SBS5": 0.95, "SBS8": 0.4,
                     "SBS13": 0.5, "SBS18": 0.4, "SBS40a": 0.6}
BREAST_SIGNATURES = tuple(BREAST_PREVALENCE)


def realistic_catalog(signatures: pd.DataFrame, n_samples: int = 100, *, prevalence=None,
                      median_burden: float = 3000.0, burden_sigma: float = 0.6,
                      hyper_fraction: float = 0.12, hyper_fold=(3.0, 15.0),
                      hyper_signatures=("SBS2", "SBS13"), dispersion: float | None = 30.0,
                      seed=None):
    """A generated cohort with real cohorts' burden spread, hypermutators and over-dispersion.

    Parameters
    ----------
    signatures : DataFrame (channels × signatures)
        Columns are normalised to sum to 1; names are used by ``prevalence`` and
        ``hyper_signatures``.
    n_samples : int, default 100
    prevalence : dict name → probability, optional
        Fraction of samples each signature is active in (default
        :data:`BREAST_PREVALENCE` for the names it has, else 0.5). A sample with no active
        signature gets the most prevalent one.
    median_burden, burden_sigma : float
        Log-normal sample burden before hypermutation.
    hyper_fraction : float, default 0.12
        Fraction of hypermutated samples.
    hyper_fold : (low, high), default (3, 15)
        Their burden multiplier, log-uniform; the extra mutations are made by the
        ``hyper_signatures`` present in ``signatures`` (Gamma(1) weights).
    dispersion : float or None, default 30
        Negative-binomial shape (variance μ + μ²/dispersion); None for Poisson counts.
    seed : int, optional

    Returns
    -------
    catalog : DataFrame (channels × samples)
        Integer counts, samples ``tumour000``, ….
    exposures : DataFrame (samples × signatures)
        The mutations each signature made in each sample (the expected counts).
    hyper : list of str
        The hypermutated samples.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = pd.DataFrame(rng.dirichlet(np.ones(96), 3).T, columns=["SBS1", "SBS2", "SBS5"])
    >>> cat, E, hyper = realistic_catalog(S, 50, seed=1)
    >>> cat.shape, len(hyper), bool((cat.sum() > 3 * cat.sum().median()).sum() >= 3)
    ((96, 50), 6, True)
    """
    if not isinstance(signatures, pd.DataFrame):
        raise NMFInputError("signatures must be a DataFrame (channels × signatures)")
    S = signatures.to_numpy(dtype=float)
    if not np.isfinite(S).all() or (S < 0).any() or (S.sum(axis=0) <= 0).any():
        raise NMFInputError("signatures must be finite, >= 0 and not all zero")
    S = S / S.sum(axis=0)
    names = [str(c) for c in signatures.columns]
    prev = dict(BREAST_PREVALENCE if prevalence is None else prevalence)
    p = np.array([prev.get(name, 0.5) for name in names])
    rng = np.random.default_rng(check_seed(seed))
    k = len(names)
    active = rng.random((n_samples, k)) < p
    active[~active.any(axis=1), int(np.argmax(p))] = True
    weights = np.where(active, rng.gamma(1.0, 1.0, (n_samples, k)), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    burden = median_burden * np.exp(burden_sigma * rng.standard_normal(n_samples))
    E = weights * burden[:, None]
    n_hyper = int(round(hyper_fraction * n_samples))
    hyper_idx = np.sort(rng.choice(n_samples, n_hyper, replace=False)) if n_hyper else []
    drivers = [names.index(h) for h in hyper_signatures if h in names]
    if n_hyper and not drivers:
        raise NMFInputError(f"none of hyper_signatures {list(hyper_signatures)} is among the "
                            f"signatures {names[:8]}")
    lo, hi = hyper_fold
    for j in hyper_idx:
        fold = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        w = rng.gamma(1.0, 1.0, len(drivers))
        E[j, drivers] += (fold - 1.0) * burden[j] * w / w.sum()
    mean = S @ E.T
    if dispersion is not None:
        mean = rng.gamma(dispersion, mean / dispersion)
    X = rng.poisson(mean)
    columns = [f"tumour{j:03d}" for j in range(n_samples)]
    catalog = pd.DataFrame(X, index=signatures.index, columns=columns)
    exposures = pd.DataFrame(E, index=columns, columns=names)
    return catalog, exposures, [columns[j] for j in hyper_idx]


def grouped_signatures(mutation_type, k: int, seed, *, prefix: str = "T") -> pd.DataFrame:
    """``k`` signatures over a registered type's channels, each concentrated on one or two
    of its channel groups (as COSMIC's DBS and ID signatures are), no channel quite zero.

    Examples
    --------
    >>> S = grouped_signatures("DBS78", 3, seed=0)
    >>> S.shape, list(S.columns), bool(np.allclose(S.sum(), 1))
    ((78, 3), ['T1', 'T2', 'T3'], True)
    """
    from nmfbio.io.mutation_types import mutation_type as lookup

    t = lookup(mutation_type)
    rng = np.random.default_rng(seed)
    groups = np.array(t.groups)
    names = list(dict.fromkeys(t.groups))
    sigs = []
    for _ in range(k):
        focus = rng.choice(names, size=rng.integers(1, 3), replace=False)
        s = rng.dirichlet(np.where(np.isin(groups, focus), 3.0, 0.1) * 0.6)
        s = 0.95 * s + 0.05 * rng.dirichlet(np.full(len(t), 2.0))
        sigs.append(s / s.sum())
    return pd.DataFrame(np.array(sigs).T, index=list(t.labels),
                        columns=[f"{prefix}{i + 1}" for i in range(k)])
