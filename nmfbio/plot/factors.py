"""Domain-neutral figures of one factorization: the objective per iteration of a fit, and the
parts (W) as a heatmap of their strongest features. Matplotlib only; nothing is computed
here beyond choosing which rows to show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio.errors import NMFInputError
from nmfbio.plot.consensus import new_axes

__all__ = ["plot_history", "plot_parts"]


def plot_history(res, ax=None):
    """The objective after each iteration of a fit (log scale when positive). Where a fit
    evaluated its objective only now and then (dense KL: NaN between), the evaluated points
    are joined and marked.

    Parameters
    ----------
    res : nmfbio.NMFResult
        Uses ``history``, ``loss_name``, ``n_iter`` and ``converged``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30))
    >>> ax = plot_history(nmfbio.fit(X, 2, seed=0))
    >>> len(ax.lines)
    1
    """
    ax = ax or new_axes((6, 3.5))
    h = np.asarray(res.history, dtype=float)
    if h.size == 0:
        raise NMFInputError("this result has no objective history to plot")
    it = np.arange(1, h.size + 1)
    ok = np.isfinite(h)  # the fast KL path evaluates the objective only now and then
    h = h[ok]
    ax.plot(it[ok], h, color="#2a7ab0", lw=1.5, marker="o" if not ok.all() else None, ms=3)
    if np.all(h > 0):
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"objective ({res.loss_name})")
    state = "converged" if res.converged else "stopped at max_iter"
    ax.set_title(f"objective per iteration: {res.n_iter} iterations, {state}")
    ax.grid(color="0.9", lw=0.6)
    return ax


def plot_parts(W, *, max_features: int = 40, ax=None):
    """Heatmap of the parts: the features that weigh most in any part (rows), grouped by the
    part they weigh most in, against the parts (columns).

    Parameters
    ----------
    W : pandas.DataFrame of shape (n_features, rank), or array-like
        Features × parts, columns summing to 1 (as ``NMFResult.W_frame()``).
    max_features : int, default 40
        Rows shown at most: the top features of every part, in turn, until this many.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> W = pd.DataFrame({"C1": [0.7, 0.2, 0.1], "C2": [0.0, 0.1, 0.9]}, index=list("abc"))
    >>> ax = plot_parts(W)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b', 'c']
    """
    frame = W if isinstance(W, pd.DataFrame) else pd.DataFrame(np.asarray(W, dtype=float))
    values = frame.to_numpy(dtype=float)
    if values.ndim != 2 or 0 in values.shape:
        raise NMFInputError(f"W must be a non-empty 2-D matrix, got shape {values.shape}")
    m, r = values.shape
    order = np.argsort(-values, axis=0, kind="stable")  # each part's features, best first
    chosen: list[int] = []
    for depth in range(m):
        for k in range(r):
            j = int(order[depth, k])
            if j not in chosen and len(chosen) < max_features:
                chosen.append(j)
        if len(chosen) >= min(max_features, m):
            break
    rows = np.array(chosen)
    best = values[rows].argmax(axis=1)
    rows = rows[np.lexsort((-values[rows, best], best))]
    shown = values[rows]
    ax = ax or new_axes((min(12.0, 2.5 + 0.6 * r), min(14.0, 1.5 + 0.22 * len(rows))))
    im = ax.imshow(shown, aspect="auto", cmap="viridis", interpolation="nearest", vmin=0)
    ax.set_xticks(np.arange(r), [str(c) for c in frame.columns])
    ax.set_yticks(np.arange(len(rows)), [str(frame.index[j]) for j in rows], fontsize=7)
    ax.set_xlabel("part")
    ax.set_ylabel("feature" + (f" ({len(rows)} of {m} shown)" if len(rows) < m else ""))
    ax.set_title("parts (W): strongest features")
    ax.figure.colorbar(im, ax=ax, label="weight (column sums to 1)")
    return ax
