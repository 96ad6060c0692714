"""Figures: every plot takes a result object (or arrays) and an optional matplotlib Axes,
draws, and returns the Axes. Matplotlib only; nothing here computes science."""

from nmfbio.plot.anchors import plot_anchors
from nmfbio.plot.consensus import plot_run_cosines, plot_stability
from nmfbio.plot.rank import plot_rank_selection

__all__ = ["plot_anchors", "plot_rank_selection", "plot_run_cosines", "plot_stability"]
from nmfbio.plot.signatures import (
    plot_cosine_heatmap,
    plot_exposures,
    plot_signature,
    plot_signatures,
    save,
)

__all__ += ["plot_signature", "plot_signatures", "plot_exposures", "plot_cosine_heatmap",
            "save"]
