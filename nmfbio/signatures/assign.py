"""Assigning known signatures to samples (refitting): which reference signatures, how many
mutations each, and how sure.

Each sample's counts are explained by non-negative least squares on a subset of the
reference signatures, chosen so that 80 reference signatures do not all get small spurious
exposures: starting from the signatures with a non-zero NNLS exposure, signatures are
removed while removing one lowers the reconstruction cosine by less than ``remove_below``,
and added while adding one raises it by at least ``add_above`` (the cosine-based
forward/backward selection used by SigProfilerAssignment; Díaz-Gay et al. 2023,
Bioinformatics 39:btad756). Bootstrap confidence intervals come from multinomial resampling
of the sample's mutations and refitting on the selected signatures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from nmfbio._store import Stored
from nmfbio._validation import check_seed
from nmfbio.errors import NMFInputError
from nmfbio.signatures._catalog import catalog_frame
from nmfbio.signatures.match import aligned_reference, as_signature_frame

__all__ = ["AssignmentResult", "assign", "ADD_ABOVE", "REMOVE_BELOW"]

ADD_ABOVE = 0.05
REMOVE_BELOW = 0.01


def _cos(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 0.0


def _fit(R, y, cols):
    if not cols:
        return np.zeros(0), 0.0
    w, _ = nnls(R[:, cols], y)
    return w, _cos(R[:, cols] @ w, y)


def _select(R, y, add_above, remove_below, max_rounds=50):
    """Forward/backward selection of columns of R for the profile y."""
    w, _ = nnls(R, y)
    active = [int(j) for j in np.flatnonzero(w > 0)]
    _, cos = _fit(R, y, active)
    for _ in range(max_rounds):
        changed = False
        while len(active) > 1:  # backward: drop what does not pull its weight
            trials = [(_fit(R, y, [a for a in active if a != j])[1], j) for j in active]
            best_cos, drop = max(trials)
            if cos - best_cos < remove_below:
                active.remove(drop)
                cos = best_cos
                changed = True
            else:
                break
        others = [j for j in range(R.shape[1]) if j not in active]
        if others:  # forward: add what clearly helps
            trials = [(_fit(R, y, active + [j])[1], j) for j in others]
            best_cos, add = max(trials)
            if best_cos - cos >= add_above:
                active.append(add)
                cos = best_cos
                changed = True
        if not changed:
            break
    active.sort()
    w, cos = _fit(R, y, active)
    return active, w, cos


@dataclass(repr=False)
class AssignmentResult(Stored):
    """Result of :func:`assign`.

    Attributes
    ----------
    exposures : DataFrame (samples × reference signatures)
        Mutations attributed to each signature (0 where not selected).
    cosine : Series (samples)
        Cosine between each sample's catalog and its reconstruction.
    lower, upper : DataFrame or None
        Bootstrap 95 % intervals of the exposures (when ``bootstrap > 0``).
    params : dict
    """

    exposures: pd.DataFrame
    cosine: pd.Series
    lower: pd.DataFrame | None = None
    upper: pd.DataFrame | None = None
    params: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line: samples, signatures used, median reconstruction cosine; then the
        signatures by the mutations they carry."""
        used = self.exposures.loc[:, (self.exposures > 0).any(axis=0)]
        total = used.sum(axis=0).sort_values(ascending=False)
        share = total / max(float(total.sum()), 1e-300)
        boot = self.params.get("bootstrap", 0)
        head = (f"{len(self.exposures)} samples refitted with {used.shape[1]} of "
                f"{self.exposures.shape[1]} reference signatures; median cosine "
                f"{float(self.cosine.median()):.3f}"
                + (f"; {boot} bootstrap resamples" if boot else ""))
        body = ", ".join(f"{n} {s:.0%}" for n, s in share.items())
        return f"{head}\n  mutations by signature: {body}" if body else head

    def relative(self) -> pd.DataFrame:
        """Exposures as fractions of each sample's assigned mutations."""
        tot = self.exposures.sum(axis=1).replace(0, np.nan)
        return self.exposures.div(tot, axis=0).fillna(0.0)

    def plot(self, ax=None, relative=False):
        """Stacked bars of exposures per sample (returns the Axes)."""
        from nmfbio.plot.signatures import plot_exposures

        used = self.exposures.loc[:, (self.exposures > 0).any(axis=0)]
        return plot_exposures(used, ax=ax, relative=relative)


def assign(catalog, reference, *, add_above=ADD_ABOVE, remove_below=REMOVE_BELOW,
           bootstrap=0, seed=None) -> AssignmentResult:
    """Exposures of known signatures in each sample, with sparsity and optional bootstrap.

    Parameters
    ----------
    catalog : AnnData (samples × channels), DataFrame (channels × samples) or ndarray
        Mutation counts of any registered type (SBS96, DBS78, ID83, …); an unlabelled array
        must have the type's channels as rows in canonical order.
    reference : DataFrame (channels × signatures), e.g. from :func:`nmfbio.signatures.reference`
        Of the catalog's mutation type (a DBS78 catalog needs DBS signatures).
    add_above : float, default 0.05
        A signature is added when it raises the reconstruction cosine by at least this.
    remove_below : float, default 0.01
        A signature is removed when dropping it lowers the cosine by less than this.
    bootstrap : int, default 0
        Multinomial resamples of each sample for 95 % intervals (e.g. 100).
    seed : int, optional

    Returns
    -------
    AssignmentResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nmfbio.io.sbs96 import CHANNELS
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame(rng.dirichlet(np.full(96, 0.5), 5).T, index=CHANNELS,
    ...                    columns=[f"R{k}" for k in range(5)])
    >>> cat = pd.DataFrame(rng.poisson(ref.to_numpy() @ [[2000], [0], [800], [0], [0]]),
    ...                    index=CHANNELS, columns=["t1"])
    >>> res = assign(cat, ref)
    >>> sorted(res.exposures.columns[res.exposures.loc["t1"] > 0])
    ['R0', 'R2']
    """
    C = catalog_frame(catalog)
    Rf = as_signature_frame(reference, "reference")
    R = aligned_reference(C, Rf, "catalog").to_numpy(dtype=float)
    if (R < 0).any() or not np.isfinite(R).all():
        raise NMFInputError("reference signatures must be finite and non-negative")
    R = R / np.where(R.sum(axis=0) > 0, R.sum(axis=0), 1.0)
    Y = C.to_numpy(dtype=float)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    K, n = R.shape[1], Y.shape[1]
    E = np.zeros((n, K))
    cos = np.zeros(n)
    lo = np.zeros((n, K)) if bootstrap else None
    hi = np.zeros((n, K)) if bootstrap else None
    for j in range(n):
        y = Y[:, j]
        if y.sum() <= 0:
            continue
        active, w, cos[j] = _select(R, y, add_above, remove_below)
        E[j, active] = w
        if bootstrap and active:
            total = int(round(y.sum()))
            boots = np.empty((bootstrap, len(active)))
            for b in range(bootstrap):
                yb = rng.multinomial(total, y / y.sum()).astype(float)
                boots[b] = nnls(R[:, active], yb)[0]
            lo[j, active] = np.percentile(boots, 2.5, axis=0)
            hi[j, active] = np.percentile(boots, 97.5, axis=0)
    idx = pd.Index(C.columns, name="sample")
    def frame(A):
        return pd.DataFrame(A, index=idx, columns=Rf.columns)

    return AssignmentResult(
        exposures=frame(E), cosine=pd.Series(cos, index=idx, name="cosine"),
        lower=frame(lo) if bootstrap else None, upper=frame(hi) if bootstrap else None,
        params=dict(add_above=add_above, remove_below=remove_below, bootstrap=bootstrap,
                    seed=seed),
    )
