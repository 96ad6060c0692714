"""Generated spike recordings with planted cell assemblies, and the oracle that scores them.

The generator follows the spirit of Lopes-dos-Santos, Ribeiro & Tort (2013, J. Neurosci.
Methods 220:149): independent Poisson units with heterogeneous background rates, a few
assemblies whose members fire at ``gain`` times their rate in the bins where the assembly is
active, optionally slowly drifting rates (a nuisance that must not look like an assembly).
:func:`oracle_activation` computes what an observer who knows the truth (members, rates, gain,
activation probability) can say about each bin; detection methods are judged against it.
Detection itself lives in :mod:`nmfbio.assemblies`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PlantedRecording", "planted_assemblies", "oracle_activation", "oracle_membership"]


@dataclass
class PlantedRecording:
    """A generated recording and its ground truth.

    Attributes
    ----------
    trains : dict of str -> ndarray
        Spike times (seconds, sorted) per unit id (``"u0"``, ``"u1"``, ...).
    counts : ndarray of shape (n_units, n_bins)
        The same spikes binned at ``bin_width`` over ``window``.
    members : list of list of int
        Unit indices of each planted assembly.
    active : ndarray of bool, shape (n_assemblies, n_bins)
        Whether each assembly is active in each bin.
    rates : ndarray of shape (n_units, n_bins)
        Background rate of each unit in each bin (Hz), drift included.
    gain, bin_width, window, p_active
        The generator's parameters (``p_active`` per assembly).
    """

    trains: dict
    counts: np.ndarray
    members: list
    active: np.ndarray
    rates: np.ndarray
    gain: float
    bin_width: float
    window: tuple
    p_active: np.ndarray
    unit_ids: list = field(default_factory=list)


def _drift(n_units, n_bins, bin_width, amplitude, rng):
    """Slow multiplicative drift: a smooth random walk in log rate, period of minutes."""
    if amplitude <= 0:
        return np.ones((n_units, n_bins))
    knots = max(int(n_bins * bin_width / 60.0) + 2, 3)  # one knot per minute
    grid = np.linspace(0, n_bins - 1, knots)
    walk = np.cumsum(rng.normal(0, 1, (n_units, knots)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    walk /= np.maximum(walk.std(axis=1, keepdims=True), 1e-12)
    t = np.arange(n_bins)
    log_factor = np.stack([np.interp(t, grid, w) for w in walk]) * amplitude
    return np.exp(log_factor)


def planted_assemblies(n_units=50, n_assemblies=3, *, duration=600.0, bin_width=0.025,
                       rate_range=(1.0, 10.0), size_range=(5, 10), overlap=(1, 2),
                       active_range=(0.01, 0.05), gain=3.0, drift=0.0, seed=None):
    """Generate a spike recording with planted assemblies.

    Parameters
    ----------
    n_units : int, default 50
    n_assemblies : int, default 3
        0 gives a null recording (independent units only).
    duration : float, default 600
        Seconds; the window is ``(0, duration)``.
    bin_width : float, default 0.025
        Seconds per bin of the returned ``counts`` (spike times are continuous).
    rate_range : (float, float), default (1, 10)
        Background rates are drawn uniformly in this range (Hz).
    size_range : (int, int), default (5, 10)
        Members per assembly, drawn uniformly (inclusive).
    overlap : (int, int), default (1, 2)
        Assemblies 0 and 1 share this many units (drawn inclusive); ``(0, 0)`` for none.
    active_range : (float, float), default (0.01, 0.05)
        Fraction of bins in which each assembly is active, drawn uniformly.
    gain : float, default 3
        Members fire at ``gain`` × their rate while their assembly is active.
    drift : float, default 0
        Standard deviation of each unit's slow log-rate drift (0.3 ≈ ±35 %).
    seed : int, optional

    Returns
    -------
    PlantedRecording

    Examples
    --------
    >>> rec = planted_assemblies(seed=0)
    >>> rec.counts.shape, len(rec.members)
    ((50, 24000), 3)
    """
    rng = np.random.default_rng(seed)
    n_bins = int(round(duration / bin_width))
    base = rng.uniform(*rate_range, size=n_units)
    rates = base[:, None] * _drift(n_units, n_bins, bin_width, drift, rng)

    members: list[list[int]] = []
    order = rng.permutation(n_units)
    used = 0
    for k in range(n_assemblies):
        size = int(rng.integers(size_range[0], size_range[1] + 1))
        shared: list[int] = []
        if k == 1 and overlap[1] > 0:
            shared = list(rng.choice(members[0], size=int(rng.integers(overlap[0], overlap[1] + 1)),
                                     replace=False))
        fresh = [int(u) for u in order[used:used + size - len(shared)]]
        used += len(fresh)
        members.append(sorted(int(u) for u in shared) + fresh)
        members[-1].sort()
    p_active = rng.uniform(*active_range, size=n_assemblies)
    active = rng.random((n_assemblies, n_bins)) < p_active[:, None]

    factor = np.ones((n_units, n_bins))
    for k, m in enumerate(members):
        factor[np.ix_(m, np.flatnonzero(active[k]))] = gain
    counts = rng.poisson(rates * factor * bin_width).astype(np.float64)

    unit_ids = [f"u{i}" for i in range(n_units)]
    trains = {}
    for i, uid in enumerate(unit_ids):
        bins = np.repeat(np.arange(n_bins), counts[i].astype(np.int64))
        trains[uid] = np.sort((bins + rng.random(bins.size)) * bin_width)
    return PlantedRecording(trains=trains, counts=counts, members=members, active=active,
                            rates=rates, gain=float(gain), bin_width=float(bin_width),
                            window=(0.0, float(n_bins * bin_width)), p_active=p_active,
                            unit_ids=unit_ids)


def oracle_activation(rec: PlantedRecording) -> np.ndarray:
    """Posterior probability that each planted assembly is active in each bin, given the truth.

    The oracle knows the members, their background rates, the gain and the activation
    probability; it ignores the other assemblies (as a detector of one assembly would).

    Returns
    -------
    ndarray of shape (n_assemblies, n_bins)

    Examples
    --------
    >>> rec = planted_assemblies(seed=0)
    >>> post = oracle_activation(rec)
    >>> post.shape == rec.active.shape
    True
    """
    out = np.empty(rec.active.shape)
    for k, m in enumerate(rec.members):
        mu = rec.rates[m] * rec.bin_width
        llr = (rec.counts[m] * np.log(rec.gain) - (rec.gain - 1.0) * mu).sum(axis=0)
        prior = np.log(rec.p_active[k]) - np.log1p(-rec.p_active[k])
        out[k] = 1.0 / (1.0 + np.exp(-(llr + prior)))
    return out


def oracle_membership(rec: PlantedRecording, alpha: float = 0.05) -> list:
    """Members the detector's membership rule would pick if its gates were the oracle's.

    For each planted assembly, every unit gets the leave-one-out Poisson score ``z`` that
    :func:`nmfbio.assemblies.membership` computes, with the gate posterior of an oracle that
    knows the truth: members, rates, gain, activation probability and *when the other
    assemblies are active* (so a unit of an overlapping assembly is not mistaken for a
    member); a member's own spikes are left out of its gate. Units above the one-sided
    Bonferroni threshold at ``alpha`` over units are members. This is the reference for
    member-set accuracy: a member that this oracle cannot tell from the background is not
    recoverable with the rule by any detector.

    Returns
    -------
    list of list of int
        Unit indices per planted assembly.

    Examples
    --------
    >>> rec = planted_assemblies(seed=2)
    >>> [sorted(m) == sorted(t) for m, t in zip(oracle_membership(rec), rec.members)]
    [True, True, True]
    """
    from scipy import stats

    X = rec.counts
    n_units = X.shape[0]
    threshold = stats.norm.isf(alpha / n_units)
    out = []
    for k, m in enumerate(rec.members):
        # each unit's rate when assembly k is off: the others' activity known
        factor = np.ones(X.shape)
        for j, other in enumerate(rec.members):
            if j != k:
                factor[np.ix_(other, np.flatnonzero(rec.active[j]))] = rec.gain
        mu = rec.rates * factor * rec.bin_width
        mu_on = rec.rates * rec.gain * rec.bin_width
        contrib = np.zeros(X.shape)
        contrib[m] = X[m] * np.log(mu_on[m] / mu[m]) - (mu_on[m] - mu[m])
        llr = contrib.sum(axis=0) + np.log(rec.p_active[k]) - np.log1p(-rec.p_active[k])
        q = 1.0 / (1.0 + np.exp(-np.clip(llr[None, :] - contrib, -700, 700)))
        z = (q * (X - mu)).sum(axis=1) / np.sqrt(np.maximum((q ** 2 * mu).sum(axis=1), 1e-300))
        out.append([int(i) for i in np.flatnonzero(z > threshold)])
    return out
