"""The assembly result: labelled tables, HDF5 save/load, AnnData export and plot methods; and
the input conversion shared by the detectors (spike trains, AnnData or arrays → counts).

Orientation: every table is labelled — ``weights``/``gain``/``z`` are units × assemblies,
``activations`` is bins × assemblies. What is not here: fitting (:mod:`.detect`, :mod:`.ica`)
and drawing (:mod:`nmfbio.plot.assemblies`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nmfbio._store import Stored
from nmfbio.errors import NMFInputError

__all__ = ["AssemblyResult", "as_counts", "events_table"]


def _is_anndata(obj) -> bool:
    return type(obj).__name__ == "AnnData"


def as_counts(data, bin_width=None, window=None):
    """Turn detector input into ``(X, unit_ids, t_start, bin_width)``, X units × bins.

    Examples
    --------
    >>> X, ids, t0, w = as_counts({"a": [0.01, 0.03], "b": [0.02]}, 0.02, window=(0, 0.04))
    >>> X.tolist(), ids, t0.tolist(), w
    ([[1.0, 1.0], [0.0, 1.0]], ['a', 'b'], [0.0, 0.02], 0.02)
    """
    from nmfbio.data import as_matrix

    if isinstance(data, (dict, list, tuple)):
        if bin_width is None:
            raise NMFInputError("bin_width is needed to bin spike trains (seconds, e.g. 0.025)")
        from nmfbio.io import bin_spikes

        data = bin_spikes(data, bin_width, window=window)
    if _is_anndata(data):
        X, _, unit_ids, _ = as_matrix(data)
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
        meta = dict(data.uns.get("spikes", {}))
        width = meta.get("bin_width", bin_width)
        if width is None:
            raise NMFInputError("the AnnData records no bin width (uns['spikes']['bin_width']); "
                                "pass bin_width=")
        if bin_width is not None and abs(float(bin_width) - float(width)) > 1e-12:
            raise NMFInputError(f"bin_width={bin_width} differs from the AnnData's {width}; "
                                "rebin the spike trains with nmfbio.io.bin_spikes instead")
        if "t_start" in data.obs:
            t_start = data.obs["t_start"].to_numpy(dtype=np.float64)
        else:
            t_start = np.arange(X.shape[1]) * float(width)
        if meta.get("units") == "traces":
            raise NMFInputError("these are calcium traces, not spike counts: the gated Poisson "
                                "model needs counts; deconvolve to event counts first, or use "
                                "nmfbio.fit(..., loss='kl') for a plain factorization")
    else:
        X = np.array(data, dtype=np.float64)
        if X.ndim != 2:
            raise NMFInputError(f"counts must be 2-D (units × bins), got shape {X.shape}")
        if bin_width is None:
            raise NMFInputError("bin_width is needed with an array of counts (seconds per bin)")
        width = bin_width
        unit_ids = [str(i) for i in range(X.shape[0])]
        t_start = np.arange(X.shape[1]) * float(width)
    width = float(width)
    if not width > 0:
        raise NMFInputError(f"bin_width must be > 0 seconds, got {width}")
    if X.size == 0 or X.shape[0] < 2:
        raise NMFInputError(f"need at least 2 units and 1 bin, got {X.shape[0]} units × "
                            f"{X.shape[1]} bins")
    bad = ~np.isfinite(X)
    if bad.any():
        i, t = np.argwhere(bad)[0]
        raise NMFInputError(f"counts contain {int(bad.sum())} NaN/inf value(s); first at unit "
                            f"{unit_ids[i]!r}, bin {t}")
    if (X < 0).any():
        i, t = np.argwhere(X < 0)[0]
        raise NMFInputError(f"counts contain {int((X < 0).sum())} negative value(s); first at "
                            f"unit {unit_ids[i]!r}, bin {t}. Spike counts are >= 0; never pass "
                            "z-scored data")
    return X, list(unit_ids), t_start, width


def events_table(q, t_start, bin_width, names, threshold=0.5):
    """Runs of consecutive bins where an assembly's activation exceeds ``threshold``.

    Returns
    -------
    pandas.DataFrame
        One row per event: ``assembly``, ``start_bin``, ``end_bin`` (inclusive), ``t_start``,
        ``t_end`` (seconds), ``peak`` (largest activation in the event).

    Examples
    --------
    >>> events_table(np.array([[0.1, 0.9, 0.8, 0.2, 0.7]]), np.arange(5) * 0.5, 0.5, ["A1"])
      assembly  start_bin  end_bin  t_start  t_end  peak
    0       A1          1        2      0.5    1.5   0.9
    1       A1          4        4      2.0    2.5   0.7
    """
    rows = []
    for k, name in enumerate(names):
        on = np.concatenate([[False], q[k] > threshold, [False]])
        starts = np.flatnonzero(on[1:] & ~on[:-1])
        ends = np.flatnonzero(~on[1:] & on[:-1]) - 1
        for s, e in zip(starts, ends, strict=True):
            rows.append((name, int(s), int(e), float(t_start[s]), float(t_start[e] + bin_width),
                         float(q[k, s:e + 1].max())))
    return pd.DataFrame(rows, columns=["assembly", "start_bin", "end_bin", "t_start", "t_end",
                                       "peak"])


@dataclass(repr=False)
class AssemblyResult(Stored):
    """Detected assemblies.

    Attributes
    ----------
    members : list of list of str
        Unit ids of each assembly (overlaps allowed), strongest weight first.
    weights : pandas.DataFrame
        Units × assemblies. Gated NMF: extra firing rate (Hz) while the assembly is on (0 for
        non-members). ICA baseline: the signed pattern weights.
    gain, z : pandas.DataFrame
        Units × assemblies: firing while on relative to the background, and the
        leave-one-out membership z-score (gated NMF only; NaN for ICA).
    activations : pandas.DataFrame
        Bins × assemblies: probability the assembly is on (gated NMF) or the activation
        strength (ICA). Index = bin names; column ``t_start`` is in :attr:`bin_times`.
    pvalues : pandas.Series
        Holm-adjusted held-out p-value per assembly (NaN for ICA).
    events : pandas.DataFrame
        Activation events (see :func:`events_table`).
    background_rate : pandas.Series
        Mean background rate per unit (Hz).
    counts : ndarray of shape (n_units, n_bins)
        The binned counts (for rasters).
    bin_times : ndarray of shape (n_bins,)
        Start of each bin (s).
    heldout_gains : ndarray of shape (n_assemblies,)
        Held-out log-likelihood gain of the candidate each assembly grew from.
    null_gains : ndarray of shape (n_surrogates, n_assemblies)
        The same gain on shift surrogates of the held-out bins: the null distribution the
        p-value is computed from.
    params : dict

    Saved and loaded through the common store (``save(path)``, ``AssemblyResult.load(path)``:
    HDF5 with format ``nmfbio.AssemblyResult``, version 2; version-1 files still load).
    """

    _format_version = 2

    members: list
    weights: pd.DataFrame
    gain: pd.DataFrame
    z: pd.DataFrame
    activations: pd.DataFrame
    pvalues: pd.Series
    events: pd.DataFrame
    background_rate: pd.Series
    counts: np.ndarray
    bin_times: np.ndarray
    heldout_gains: np.ndarray
    null_gains: np.ndarray
    params: dict = field(default_factory=dict)

    @property
    def n_assemblies(self) -> int:
        return self.weights.shape[1]

    @classmethod
    def from_fit(cls, fit, X, *, unit_ids, t_start, bin_width, z, members, gain, pvalues,
                 heldout_gains, null_gains, n_significant_pcs, params):
        """Assemble the result of the gated NMF detector (internal)."""
        k = fit.W.shape[1]
        order = np.argsort(-(fit.W * members).sum(axis=0), kind="stable")
        names = [f"A{i + 1}" for i in range(k)]
        W = fit.W[:, order] * members[:, order] / bin_width
        params = dict(params, n_significant_pcs=int(n_significant_pcs))
        return cls._build(
            W, fit.q[order], members[:, order], gain[:, order], z[:, order],
            np.asarray(pvalues)[order] if k else np.zeros(0), unit_ids, t_start, bin_width,
            fit.background().mean(axis=1) / bin_width, X, names,
            np.asarray(heldout_gains)[order] if k else np.zeros(0),
            np.asarray(null_gains)[:, order] if k else np.zeros((0, 0)), params)

    @classmethod
    def _build(cls, W, act, members, gain, z, pvalues, unit_ids, t_start, bin_width, bg_rate,
               X, names, heldout_gains, null_gains, params):
        bins = [f"bin{i}" for i in range(X.shape[1])]
        member_ids = []
        for c in range(W.shape[1]):
            idx = np.flatnonzero(members[:, c])
            idx = idx[np.argsort(-np.abs(W[idx, c]), kind="stable")]
            member_ids.append([unit_ids[i] for i in idx])
        frame = lambda M, index: pd.DataFrame(M, index=pd.Index(index, name="unit"),  # noqa: E731
                                              columns=pd.Index(names, name="assembly"))
        return cls(
            members=member_ids, weights=frame(W, unit_ids), gain=frame(gain, unit_ids),
            z=frame(z, unit_ids),
            activations=pd.DataFrame(act.T, index=pd.Index(bins, name="bin"),
                                     columns=pd.Index(names, name="assembly")),
            pvalues=pd.Series(pvalues, index=pd.Index(names, name="assembly"), name="p_adj"),
            events=events_table(act if params.get("method") != "ica" else act > np.inf,
                                t_start, bin_width, names),
            background_rate=pd.Series(bg_rate, index=pd.Index(unit_ids, name="unit"),
                                      name="rate_hz"),
            counts=X, bin_times=np.asarray(t_start, dtype=np.float64),
            heldout_gains=heldout_gains,
            null_gains=null_gains, params=dict(params, bin_width=float(bin_width)))

    def summary(self) -> str:
        """One line: how many assemblies, their sizes and p-values.

        Examples
        --------
        >>> # "3 assemblies (gated-nmf): A1 8 units p=1e-12, ..."
        """
        parts = [f"{n} {len(m)} units p={p:.2g}" for n, m, p in
                 zip(self.weights.columns, self.members, self.pvalues, strict=True)]
        n = self.n_assemblies
        head = f"{n} assembl{'y' if n == 1 else 'ies'} ({self.params.get('method', '?')})"
        return head + (": " + ", ".join(parts) if parts else "")

    # ---------------------------------------------------------------- saving
    def members_table(self) -> pd.DataFrame:
        """One row per (assembly, unit): ``assembly``, ``unit``, the weight, ``gain``, ``z``.

        The weight column is ``weight_hz`` for the gated NMF and ``weight`` for the ICA
        baseline. ``nmfbio assemblies detect`` writes it as ``members.tsv``.
        """
        col = "weight" if self.params.get("method") == "ica" else "weight_hz"
        rows = [(name, u, float(self.weights.at[u, name]), float(self.gain.at[u, name]),
                 float(self.z.at[u, name]))
                for name, members in zip(self.weights.columns, self.members, strict=True)
                for u in members]
        return pd.DataFrame(rows, columns=["assembly", "unit", col, "gain", "z"])

    def summary_table(self) -> pd.DataFrame:
        """One row per assembly: n_members, p_adj, n_events, heldout_gain, members
        (``summary.tsv`` of ``nmfbio assemblies detect``)."""
        names = list(self.weights.columns)
        counts = self.events["assembly"].value_counts() if len(self.events) else {}
        return pd.DataFrame(
            {"n_members": [len(m) for m in self.members],
             "p_adj": self.pvalues.to_numpy(dtype=float),
             "n_events": [int(counts.get(n, 0)) for n in names],
             "heldout_gain": np.asarray(self.heldout_gains, dtype=float),
             "members": [",".join(map(str, m)) for m in self.members]},
            index=pd.Index(names, name="assembly"))

    @classmethod
    def _load_legacy(cls, f, path) -> AssemblyResult:
        """Read the layout of format version 1 (``nmfbio.AssemblyResult/1``, before the
        common store)."""
        import json

        params = json.loads(f.attrs["params"])
        units = [u.decode() if isinstance(u, bytes) else str(u) for u in f["units"][()]]
        names = [u.decode() if isinstance(u, bytes) else str(u) for u in f["assemblies"][()]]
        W, gain, z = f["weights"][()], f["gain"][()], f["z"][()]
        members = W != 0 if params.get("method") != "ica" else np.zeros_like(W, bool)
        res = cls._build(W, f["activations"][()], members, gain, z, f["pvalues"][()], units,
                         f["bin_times"][()], params["bin_width"], f["background_rate"][()],
                         f["counts"][()].astype(np.float64), names, f["heldout_gains"][()],
                         f["null_gains"][()], params)
        res.members = json.loads(f.attrs["members"])
        return res

    def to_anndata(self, key_added: str = "assemblies"):
        """The counts as AnnData (bins × units) with the result under ``key_added``.

        Writes ``obsm["X_" + key_added]`` (activations), ``varm[key_added]`` (weights) and
        ``uns[key_added]`` (members, p-values, parameters), and the spike readers' layout (``obs``
        ``t_start``/``t_end``, ``uns["spikes"]`` with the bin width), so the AnnData can be
        passed to :func:`~nmfbio.assemblies.detect` again.
        """
        import anndata

        from nmfbio import _keys
        from nmfbio.data import samples_by_features

        width = float(self.params["bin_width"])
        t_end = self.bin_times + width
        window = [float(self.bin_times[0]), float(t_end[-1])] if self.bin_times.size else []
        ad = anndata.AnnData(
            X=samples_by_features(self.counts),
            obs=pd.DataFrame({"t_start": self.bin_times, "t_end": t_end},
                             index=self.activations.index),
            var=pd.DataFrame({"background_rate_hz": self.background_rate.to_numpy()},
                             index=self.weights.index),
            uns={"spikes": {"bin_width": width, "window": window, "units": "counts",
                            "source": "assemblies", "window_inferred": False}})
        ad.obsm[_keys.obsm_key(key_added)] = self.activations.to_numpy()
        ad.varm[_keys.varm_key(key_added)] = self.weights.to_numpy()
        ad.uns[_keys.uns_key(key_added)] = {
            "assemblies": list(self.weights.columns),
            "members": dict(zip(self.weights.columns, map(list, self.members), strict=True)),
            "pvalues": self.pvalues.to_numpy(), "params": {
                k: v for k, v in self.params.items() if v is not None}}
        return ad

    # ---------------------------------------------------------------- plots
    def plot_raster(self, ax=None, **kwargs):
        """Raster of spikes with units sorted by assembly (see nmfbio.plot.assemblies)."""
        from nmfbio.plot.assemblies import raster

        return raster(self, ax=ax, **kwargs)

    def plot_membership(self, ax=None):
        """Heatmap of membership z-scores (members outlined)."""
        from nmfbio.plot.assemblies import membership_heatmap

        return membership_heatmap(self, ax=ax)

    def plot_activations(self, ax=None, **kwargs):
        """Activation traces with detected events."""
        from nmfbio.plot.assemblies import activations

        return activations(self, ax=ax, **kwargs)

    def plot_null(self, ax=None):
        """Held-out gains against the shift-surrogate null, per assembly."""
        from nmfbio.plot.assemblies import null_distribution

        return null_distribution(self, ax=ax)
