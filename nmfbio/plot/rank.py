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
    sel : nmfbio.model_selection.rank.RankSelection
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> X = np.random.default_rng(0).poisson(20.0, size=(20, 30))
    >>> ax = nmfbio.select_rank(X, ranks=[1, 2], repeats=2, restarts=2, seed=0).plot()
    >>> ax.get_legend().get_texts()[-1].get_text()
    'stability threshold 0.8'
    """
    ax = ax or new_axes((6.5, 4.5))
    t = sel.table
    ranks = t.index.to_numpy()
    ax.errorbar(ranks, t["test_error"], yerr=t["test_se"], marker="o", color="#c0392b",
                label="held-out error", capsize=3)
    ax.plot(ranks, t["train_error"], marker="s", color="#7f8c8d", label="training error")
    ax.axvline(sel.best, color="k", ls="--", lw=1, label=f"recommended rank {sel.best}")
    ax.set_xlabel("rank")
    ax.set_ylabel(f"mean {sel.params.get('loss')} loss per entry")
    ax.set_xticks(ranks)
    handles, labels = ax.get_legend_handles_labels()
    if np.isfinite(t["stability"]).any():
        ax2 = ax.twinx()
        threshold = sel.params.get("threshold", 0.8)
        ax2.plot(ranks, t["stability"], marker="^", color="#2a7ab0", label="stability (min)")
        ax2.axhline(threshold, color="#2a7ab0", ls=":", lw=1,
                    label=f"stability threshold {threshold:g}")
        ax2.set_ylabel("lowest component stability", color="#2a7ab0")
        ax2.set_ylim(min(-0.1, float(np.nanmin(t["stability"])) - 0.05), 1.05)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    # one legend below the axes: inside, wherever it went, it covered the curves or the
    # threshold line
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3,
              fontsize=8, frameon=False)
    ax.set_title("rank selection: under- and over-fitting")
    return ax
