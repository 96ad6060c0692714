"""Figures for gene-expression programs: rank choice, usage heatmap, top genes."""

from __future__ import annotations

import numpy as np

from nmfbio.plot.consensus import new_axes

__all__ = ["plot_program_rank", "plot_usage_heatmap", "plot_top_genes"]


def plot_program_rank(res, ax=None):
    """Stability (mean and lowest program) and error against rank, chosen rank marked.

    Parameters
    ----------
    res : nmfbio.programs.ProgramsResult
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = ax or new_axes((6.5, 4))
    t = res.table
    ranks = t.index.to_numpy()
    ax.plot(ranks, t["stability_mean"], marker="o", color="#2a7ab0", label="stability (mean)")
    ax.plot(ranks, t["stability_min"], marker="v", color="#2a7ab0", ls=":",
            label="stability (lowest program)")
    ax.axvline(res.rank, color="k", ls="--", lw=1, label=f"chosen rank {res.rank}")
    ax.set_xlabel("number of programs")
    ax.set_ylabel("stability (cosine silhouette)", color="#2a7ab0")
    ax.set_xticks(ranks)
    ax2 = ax.twinx()
    ax2.plot(ranks, t["error"], marker="s", color="#c0392b", label="error")
    ax2.set_ylabel("relative error (Frobenius)", color="#c0392b")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("choosing the number of programs")
    return ax


def plot_usage_heatmap(usage, groups=None, ax=None, max_cells=2000):
    """Heatmap of program usage (cells × programs), cells grouped by an annotation.

    Parameters
    ----------
    usage : DataFrame (cells × programs)
    groups : sequence or Series (one label per cell), optional
    ax : matplotlib Axes, optional
    max_cells : int
        Cells drawn at most (an even subsample per group beyond that).

    Returns
    -------
    matplotlib Axes
    """
    ax = ax or new_axes((7, 4.5))
    U = usage.to_numpy()
    order = np.arange(U.shape[0])
    labels = None
    if groups is not None:
        g = np.asarray(groups).astype(str)
        order = np.lexsort((-U.argmax(axis=1), g))
        labels = g[order]
    if order.size > max_cells:
        order = order[np.linspace(0, order.size - 1, max_cells).astype(int)]
        labels = labels[np.linspace(0, labels.size - 1, max_cells).astype(int)] \
            if labels is not None else None
    im = ax.imshow(U[order].T, aspect="auto", interpolation="nearest", cmap="magma_r",
                   vmin=0, vmax=1)
    ax.set_yticks(range(U.shape[1]), list(usage.columns))
    ax.set_xlabel("cells" + (" (grouped)" if groups is not None else ""))
    if labels is not None:
        edges = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        starts = np.r_[0, edges]
        ends = np.r_[edges, labels.size]
        for e in edges:
            ax.axvline(e - 0.5, color="w", lw=1)
        ax.set_xticks((starts + ends) / 2 - 0.5, [labels[s] for s in starts], rotation=45,
                      ha="right", fontsize=8)
    ax.figure.colorbar(im, ax=ax, label="usage")
    ax.set_title("program usage per cell")
    return ax


def plot_top_genes(scores, n=10, ncols=3):
    """Horizontal bars of the ``n`` highest-scoring genes of each program.

    Returns
    -------
    matplotlib Figure
    """
    from matplotlib.figure import Figure

    k = scores.shape[1]
    nrows = int(np.ceil(k / ncols))
    fig = Figure(figsize=(3.2 * min(k, ncols), 0.25 * n * nrows + 1), layout="constrained")
    axes = fig.subplots(nrows, min(k, ncols), squeeze=False)
    for i, p in enumerate(scores.columns):
        ax = axes[i // ncols][i % ncols]
        top = scores[p].sort_values(ascending=False).iloc[:n][::-1]
        ax.barh(range(len(top)), top.to_numpy(), color="#2a7ab0")
        ax.set_yticks(range(len(top)), list(top.index), fontsize=7)
        ax.set_title(p)
        ax.set_xlabel("score")
    for j in range(k, nrows * min(k, ncols)):
        axes[j // ncols][j % ncols].remove()
    return fig
