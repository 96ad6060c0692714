"""Figures of the model-selection results (consensus stability, rank selection): labels and
legends are placed where they can be read (checked on the rendered figure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from nmfbio.model_selection.consensus import ConsensusResult
from nmfbio.model_selection.rank import RankSelection
from nmfbio.plot import plot_rank_selection, plot_stability


def render(ax):
    FigureCanvasAgg(ax.figure).draw()
    return ax.figure.canvas.get_renderer()


def consensus_result(stability):
    r = len(stability)
    return ConsensusResult(
        W=np.full((5, r), 0.2), H=np.ones((r, 4)), stability=np.asarray(stability),
        mean_cosine=np.full(r, 0.9), reproduced=np.array([10, 3, 0][:r]),
        stable=np.asarray(stability) >= 0.8, run_W=np.zeros((10, 5, r)),
        run_losses=np.zeros(10), n_unconverged=0, loss=0.0, threshold=0.8)


def test_stability_labels_sit_beyond_the_bars(tmp_path):
    # the "k/N" label of a negative bar used to be drawn inside it, on the bar's colour
    ax = plot_stability(consensus_result([0.95, 0.4, -0.6]))
    renderer = render(ax)
    ax.figure.savefig(tmp_path / "stability.png")
    bars = ax.patches
    texts = ax.texts
    assert [t.get_text() for t in texts] == ["10/10", "3/10", "0/10"]
    for bar, text, s in zip(bars, texts, [0.95, 0.4, -0.6], strict=True):
        b = bar.get_window_extent(renderer)
        t = text.get_window_extent(renderer)
        assert not b.overlaps(t), text.get_text()
        assert (t.y0 >= b.y1) if s > 0 else (t.y1 <= b.y0)
        # and inside the axes, where it is drawn
        assert ax.get_window_extent(renderer).contains(t.x0, t.y0 if s > 0 else t.y1)
    assert ax.get_ylim()[0] < -0.6 - 0.1
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    assert legend.x1 <= ax.figure.bbox.x1


def test_rank_selection_legend_clears_the_curves_and_threshold(tmp_path):
    ranks = [1, 2, 3, 4, 5, 6]
    table = pd.DataFrame({
        "train_error": [5.0, 2.0, 1.0, 0.9, 0.85, 0.8],
        "test_error": [5.2, 2.2, 1.1, 1.12, 1.2, 1.3], "test_se": [0.0, 0.1, 0, 0.02, 0.05, 0.1],
        "stability": [1.0, 0.95, 0.99, 0.82, -0.4, -0.8],
    }, index=pd.Index(ranks, name="rank"))
    sel = RankSelection(table=table, best=3, rule="", test_errors=np.zeros((6, 2)),
                        train_errors=np.zeros((6, 2)),
                        params=dict(loss="kl", threshold=0.8))
    ax = plot_rank_selection(sel)
    renderer = render(ax)
    ax.figure.savefig(tmp_path / "rank.png")
    legends = [a.get_legend() for a in ax.figure.axes if a.get_legend() is not None]
    assert len(legends) == 1  # one legend (it used to be two, over the threshold line)
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert sorted(labels) == ["held-out error", "recommended rank 3", "stability (min)",
                              "stability threshold 0.8", "training error"]
    box = legends[0].get_window_extent(renderer)
    assert not box.overlaps(ax.get_window_extent(renderer))  # outside the plotting area
    fig_box = ax.figure.bbox
    assert box.y0 >= fig_box.y0 and box.x0 >= fig_box.x0 and box.x1 <= fig_box.x1
    assert box.y1 <= ax.xaxis.label.get_window_extent(renderer).y0 + 1  # below "rank"


def test_history_plot_draws_only_the_evaluated_objectives():
    # a dense KL fit evaluates its objective now and then (NaN between): the curve joins the
    # evaluated points, marked, instead of vanishing into NaN gaps
    import warnings

    import nmfbio
    from nmfbio.plot.factors import plot_history

    X = np.random.default_rng(0).poisson(5.0, size=(40, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nmfbio.fit(X, 3, loss="kl", seed=0, tol=0.0, max_iter=40)
    ok = np.isfinite(res.history)
    assert 3 < ok.sum() < 40
    (line,) = plot_history(res).lines
    x, y = line.get_data()
    np.testing.assert_array_equal(x, np.flatnonzero(ok) + 1)
    np.testing.assert_array_equal(y, res.history[ok])
    assert line.get_marker() == "o"
