"""Figure for rank selection: the under/over-fitting curve and stability against rank."""

from __future__ import annotations

import numpy as np

from nmfbio.plot.consensus import new_axes

__all__ = ["plot_rank_selection"]


def plot_rank_selection(sel, ax=None):
    """Train and held-out error (left axis) and lowest component stability (right axis)
    against rank, with the recommended rank marked.

    Parameters
    ----------
    sel : nmfbio.rank.RankSelection
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = ax or new_axes((6.5, 4))
    t = sel.table
    ranks = t.index.to_numpy()
    ax.errorbar(ranks, t["test_error"], yerr=t["test_se"], marker="o", color="#c0392b",
                label="held-out error", capsize=3)
    ax.plot(ranks, t["train_error"], marker="s", color="#7f8c8d", label="training error")
    ax.axvline(sel.best, color="k", ls="--", lw=1, label=f"recommended rank {sel.best}")
    ax.set_xlabel("rank")
    ax.set_ylabel(f"mean {sel.params.get('loss')} loss per entry")
    ax.set_xticks(ranks)
    if np.isfinite(t["stability"]).any():
        ax2 = ax.twinx()
        ax2.plot(ranks, t["stability"], marker="^", color="#2a7ab0", label="stability (min)")
        ax2.axhline(sel.params.get("threshold", 0.8), color="#2a7ab0", ls=":", lw=1)
        ax2.set_ylabel("lowest component stability", color="#2a7ab0")
        ax2.set_ylim(min(-0.1, float(np.nanmin(t["stability"])) - 0.05), 1.05)
        ax2.legend(loc="upper center", fontsize=8)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("rank selection: under- and over-fitting")
    return ax
