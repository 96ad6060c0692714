"""Figures for consensus results: per-component stability and run-by-run cosines."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_stability", "plot_run_cosines", "new_axes"]


def new_axes(figsize=(6, 4)):
    """A fresh Axes on a Figure that does not need pyplot (safe without a display)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def plot_stability(res, ax=None):
    """Bar plot of each component's stability, coloured by the stable/unstable verdict.

    Parameters
    ----------
    res : nmfbio.model_selection.ConsensusResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> X = np.random.default_rng(0).poisson(20.0, size=(20, 30))
    >>> ax = nmfbio.consensus(X, 2, restarts=5, seed=0).plot_stability()
    """
    ax = ax or new_axes()
    names = res.component_names
    colors = ["#2a7ab0" if s else "#c0392b" for s in res.stable]
    ax.bar(names, res.stability, color=colors)
    ax.axhline(res.threshold, color="k", ls="--", lw=1, label=f"threshold {res.threshold:g}")
    for i, (s, rep) in enumerate(zip(res.stability, res.reproduced, strict=True)):
        # beyond the bar's free end: above a positive bar, below a negative one (inside,
        # on the bar's colour, it could not be read)
        below = s < 0
        ax.text(i, s - 0.02 if below else min(s, 1.0) + 0.02, f"{rep}/{res.run_W.shape[0]}",
                ha="center", va="top" if below else "bottom", fontsize=8)
    ax.set_ylim(min(0.0, float(np.nanmin(res.stability)) - 0.15), 1.1)
    ax.set_ylabel("stability (cosine silhouette)")
    ax.set_xlabel("component (numbers: runs reproducing it at cosine ≥ 0.9)")
    ax.set_title(f"consensus of {res.run_W.shape[0]} runs, rank {res.rank}")
    # beside the axes: inside it could cover a bar or a label
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax


def plot_run_cosines(res, ax=None, max_runs=50):
    """Heatmap of cosines between all aligned parts of (up to ``max_runs``) runs, grouped by
    component: stable components show as bright blocks on the diagonal.

    Returns
    -------
    matplotlib Axes
    """
    ax = ax or new_axes((6, 5))
    R = min(res.run_W.shape[0], max_runs)
    r = res.rank
    V = res.run_W[:R].transpose(2, 0, 1).reshape(r * R, -1)  # component-major
    V = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-300)
    C = V @ V.T
    im = ax.imshow(C, vmin=0, vmax=1, cmap="viridis", interpolation="nearest")
    ticks = np.arange(r) * R + R / 2 - 0.5
    ax.set_xticks(ticks, res.component_names)
    ax.set_yticks(ticks, res.component_names)
    for k in range(1, r):
        ax.axhline(k * R - 0.5, color="w", lw=0.5)
        ax.axvline(k * R - 0.5, color="w", lw=0.5)
    ax.set_title(f"cosine between runs' parts ({R} runs per component)")
    ax.figure.colorbar(im, ax=ax, label="cosine")
    return ax
