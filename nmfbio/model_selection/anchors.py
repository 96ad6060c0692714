"""Anchors and separability: are there pure samples that pin the parts down?

Data are *separable* when every part appears alone in at least one sample (an anchor): then
the parts are the extreme rays of the cone of samples, NMF is unique, and the successive
projection algorithm (SPA) finds them in polynomial time (Arora et al. 2012; Gillis &
Vavasis 2014). Real data are at best near-separable. This module finds candidate anchors
(:func:`spa`), fits the separable model (anchors as parts, recipes refitted), and compares it
with the best ordinary NMF fit to give a verdict with its evidence:

* per component of the NMF fit, its *purity* — the largest share of any one sample that the
  component explains — and the cosine between the component and its matched anchor sample;
* the relative excess loss of the separable fit over the NMF fit.

The data set is called near-separable when every component has a sample at least
``min_purity`` pure and an anchor at cosine ≥ ``min_cosine``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from nmfbio._store import Stored
from nmfbio.data import as_matrix
from nmfbio.model_selection.matching import match_columns
from nmfbio.solver import nmf, refit_H
from nmfbio.solver.init import spa as _spa
from nmfbio.solver.validate import check_data, check_rank

__all__ = ["SeparabilityReport", "spa", "separable_fit", "separability",
           "MIN_PURITY", "MIN_COSINE"]

MIN_PURITY = 0.9
MIN_COSINE = 0.9


def spa(X, rank, *, denoise=True, layer=None) -> np.ndarray:
    """Indices of ``rank`` candidate anchor samples (columns of X), in the order found.

    Parameters
    ----------
    X : ndarray, sparse matrix, DataFrame or AnnData
        Non-negative data, features × samples (AnnData: samples × features).
    rank : int
    denoise : bool, default True
        Project samples on the leading ``rank`` singular vectors first (robust to noise).
    layer : str, optional

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio import anchors
    >>> X = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    >>> sorted(anchors.spa(X, 2).tolist())
    [0, 1]
    """
    Xm, _, _, _ = as_matrix(X, layer=layer)
    Xv, _ = check_data(Xm)
    rank = check_rank(rank, Xv.shape)
    return _spa(Xv, rank, denoise=denoise)


def separable_fit(X, rank, *, loss="kl", anchors=None, layer=None):
    """The separable model: parts = (scaled) anchor samples, recipes refitted.

    Parameters
    ----------
    X : ndarray, sparse matrix, DataFrame or AnnData
    rank : int
    loss : {"kl", "frobenius"}
    anchors : sequence of int, optional
        Sample indices to use; found by :func:`spa` when omitted.
    layer : str, optional

    Returns
    -------
    W : ndarray (n_features, rank), columns sum to 1
    H : ndarray (rank, n_samples)
    value : float
        Loss of the separable model.
    anchors : ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> from nmfbio import anchors
    >>> X = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]]) * 10
    >>> W, H, value, idx = anchors.separable_fit(X, 2)
    >>> bool(value < 1e-6)
    True
    """
    Xm, _, _, _ = as_matrix(X, layer=layer)
    Xv, _ = check_data(Xm)
    rank = check_rank(rank, Xv.shape)
    idx = _spa(Xv, rank) if anchors is None else np.asarray(anchors, dtype=int)
    cols = Xv[:, idx]
    W = np.asarray(cols.todense() if sp.issparse(cols) else cols, dtype=np.float64)
    W = W / np.maximum(W.sum(axis=0), 1e-300)
    H, value = refit_H(Xv, W, loss=loss, _warn=False)
    return W, H, value, idx


@dataclass(repr=False)
class SeparabilityReport(Stored):
    """Result of :func:`separability`.

    Attributes
    ----------
    separable : bool
        The verdict: near-separable or not.
    anchors : ndarray of int
        Sample indices of the SPA anchors, matched to the NMF components (anchor k is the
        best match of component k).
    anchor_names : list of str
    purity : ndarray (rank,)
        For each NMF component, the largest share of one sample's total it explains.
    purest_samples : list of str
        The sample reaching that share.
    anchor_cosine : ndarray (rank,)
        Cosine between each NMF component and its matched anchor sample.
    separable_loss, nmf_loss : float
        Loss of the separable fit and of the best NMF fit.
    excess : float
        ``separable_loss / nmf_loss − 1`` (NaN when NMF fits exactly: no ratio to take).
    W : ndarray (n_features, rank)
        The NMF parts compared against (columns sum to 1).
    W_separable, H_separable : ndarray
        The separable fit.
    reason : str
        The verdict in words, with the evidence.
    """

    separable: bool
    anchors: np.ndarray
    anchor_names: list
    purity: np.ndarray
    purest_samples: list
    anchor_cosine: np.ndarray
    separable_loss: float
    nmf_loss: float
    excess: float
    W: np.ndarray
    W_separable: np.ndarray
    H_separable: np.ndarray
    reason: str
    params: dict = field(default_factory=dict)
    coordinates: np.ndarray | None = None  # 2-D projection of samples, for the plot
    part_coordinates: np.ndarray | None = None

    def summary(self) -> str:
        """The verdict on one line, then the evidence (the reason)."""
        verdict = "near-separable" if self.separable else "NOT near-separable"
        return (f"rank {len(self.purity)}: {verdict}; anchors "
                f"{', '.join(map(str, self.anchor_names))}\n  {self.reason}")

    def table(self):
        """Per-component evidence as a DataFrame."""
        import pandas as pd

        names = [f"C{k + 1}" for k in range(len(self.purity))]
        return pd.DataFrame({"purity": self.purity, "purest_sample": self.purest_samples,
                             "anchor": self.anchor_names, "anchor_cosine": self.anchor_cosine},
                            index=pd.Index(names, name="component"))

    def plot(self, ax=None):
        """Samples in a 2-D projection of the simplex, anchors and parts marked."""
        from nmfbio.plot.anchors import plot_anchors

        return plot_anchors(self, ax=ax)


def _compare_losses(X, loss, separable_loss, nmf_loss):
    """``(excess, words)``: how much the separable fit's loss exceeds NMF's. When NMF fits
    exactly (its loss below 1e-9 of the data's own scale: the total count for KL, ½‖X‖² for
    Frobenius) a ratio means nothing; the excess is NaN and the words say so."""
    vals = X.data if sp.issparse(X) else np.asarray(X).ravel()
    scale = float(vals.sum()) if loss == "kl" else 0.5 * float(vals @ vals)
    if nmf_loss > 1e-9 * max(scale, 1e-300):
        excess = separable_loss / nmf_loss - 1.0
        return excess, f"the separable fit's loss exceeds NMF's by {100 * excess:.3g} %"
    return float("nan"), (f"NMF fits the data exactly at this rank (loss {nmf_loss:.3g}); "
                          f"the separable fit's loss is {separable_loss:.3g}, "
                          f"{separable_loss / max(scale, 1e-300):.3g} of the data's scale")


def separability(X, rank, *, loss="kl", restarts=10, seed=None, min_purity=MIN_PURITY,
                 min_cosine=MIN_COSINE, layer=None) -> SeparabilityReport:
    """Is the data set near-separable at this rank? Verdict, anchors and evidence.

    Parameters
    ----------
    X : ndarray, sparse matrix, DataFrame or AnnData
        Non-negative data, features × samples (AnnData: samples × features).
    rank : int
    loss : {"kl", "frobenius"}
    restarts : int
        Restarts of the NMF fit that the separable fit is compared with.
    seed : int, optional
    min_purity, min_cosine : float
        Thresholds of the verdict (see the module docstring).
    layer : str, optional

    Returns
    -------
    SeparabilityReport

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> rng = np.random.default_rng(0)
    >>> W = rng.dirichlet(np.ones(20), size=3).T
    >>> H = np.hstack([np.eye(3), rng.dirichlet(np.ones(3), size=40).T]) * 500
    >>> rep = nmfbio.anchors.separability(W @ H, 3, seed=0)
    >>> sorted(rep.anchors.tolist())  # the three pure samples
    [0, 1, 2]
    """
    Xm, _, fnames, snames = as_matrix(X, layer=layer)
    Xv, _ = check_data(Xm)
    rank = check_rank(rank, Xv.shape)
    n = Xv.shape[1]
    names = snames or [str(j) for j in range(n)]
    best = nmf(Xv, rank, loss=loss, restarts=restarts, seed=seed, init="auto")
    Ws, Hs, sep_value, idx = separable_fit(Xv, rank, loss=loss)
    perm, cos = match_columns(best.W, Ws)
    idx = idx[perm]
    Ws, Hs = Ws[:, perm], Hs[perm]
    shares = best.H / np.maximum(best.H.sum(axis=0, keepdims=True), 1e-300)
    purest = shares.argmax(axis=1)
    purity = shares.max(axis=1)
    excess, loss_text = _compare_losses(Xv, loss, float(sep_value), float(best.loss))
    ok = (purity >= min_purity) & (cos >= min_cosine)
    separable = bool(ok.all())
    if separable:
        reason = (f"near-separable: every component has a sample at least {min_purity:g} pure "
                  f"(lowest {purity.min():.3f}) and an SPA anchor at cosine ≥ {min_cosine:g} "
                  f"(lowest {cos.min():.3f}); {loss_text}")
    else:
        bad = [f"C{k + 1}" for k in np.flatnonzero(~ok)]
        reason = (f"not separable: component(s) {', '.join(bad)} have no sample at least "
                  f"{min_purity:g} pure or no anchor at cosine ≥ {min_cosine:g} (lowest purity "
                  f"{purity.min():.3f}, lowest anchor cosine {cos.min():.3f}); {loss_text}")
    # 2-D coordinates for the plot: samples scaled to sum 1, projected on 2 principal axes
    coords, part_coords = _project(Xv, best.W)
    return SeparabilityReport(
        separable=separable, anchors=idx, anchor_names=[names[j] for j in idx],
        purity=purity, purest_samples=[names[j] for j in purest], anchor_cosine=cos,
        separable_loss=float(sep_value), nmf_loss=float(best.loss), excess=float(excess),
        W=best.W, W_separable=Ws, H_separable=Hs, reason=reason,
        params=dict(rank=rank, loss=loss, restarts=restarts, seed=best.seed,
                    min_purity=min_purity, min_cosine=min_cosine),
        coordinates=coords, part_coordinates=part_coords,
    )


def _project(X, W):
    s = np.asarray(X.sum(axis=0)).ravel()
    scale = 1.0 / np.where(s > 0, s, 1.0)
    Y = (sp.csc_matrix(X) @ sp.diags(scale)) if sp.issparse(X) else X * scale
    mean = np.asarray(Y.mean(axis=1)).ravel()
    # principal axes of the scaled samples from the small Gram of W-space: use W's span
    A = np.linalg.svd(W - mean[:, None], full_matrices=False)[0][:, :2]
    coords = np.asarray(Y.T @ A) - mean @ A
    parts = (W.T @ A) - mean @ A
    return coords, parts
