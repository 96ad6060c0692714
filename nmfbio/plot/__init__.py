"""Figures: every plot takes a result object (or arrays) and an optional matplotlib Axes,
draws, and returns the Axes (or a Figure for multi-panel plots). Matplotlib only; nothing
here computes science."""

from nmfbio.plot.anchors import plot_anchors
from nmfbio.plot.assemblies import activations as plot_assembly_activations
from nmfbio.plot.assemblies import membership_heatmap as plot_membership_heatmap
from nmfbio.plot.assemblies import null_distribution as plot_null_distribution
from nmfbio.plot.assemblies import raster as plot_assembly_raster
from nmfbio.plot.consensus import plot_run_cosines, plot_stability
from nmfbio.plot.programs import plot_program_rank, plot_top_genes, plot_usage_heatmap
from nmfbio.plot.rank import plot_rank_selection
from nmfbio.plot.signatures import (
    plot_cosine_heatmap,
    plot_exposures,
    plot_signature,
    plot_signatures,
    save,
)

__all__ = [
    "plot_anchors", "plot_assembly_activations", "plot_assembly_raster",
    "plot_membership_heatmap", "plot_null_distribution", "plot_cosine_heatmap",
    "plot_exposures", "plot_program_rank",
    "plot_rank_selection", "plot_run_cosines", "plot_signature", "plot_signatures",
    "plot_stability", "plot_top_genes", "plot_usage_heatmap", "save",
]
