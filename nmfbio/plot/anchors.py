"""Figure for separability: samples in a 2-D projection of the simplex, anchors marked."""

from __future__ import annotations

from nmfbio.plot.consensus import new_axes

__all__ = ["plot_anchors"]


def plot_anchors(rep, ax=None):
    """Scatter of samples (scaled to sum 1, projected on the plane of the NMF parts), with
    the NMF parts as stars and the SPA anchors circled.

    Parameters
    ----------
    rep : nmfbio.model_selection.anchors.SeparabilityReport
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = ax or new_axes((5.5, 5))
    c = rep.coordinates
    ax.scatter(c[:, 0], c[:, 1], s=8, color="#95a5a6", label="samples")
    a = c[rep.anchors]
    ax.scatter(a[:, 0], a[:, 1], s=80, facecolors="none", edgecolors="#c0392b", lw=1.5,
               label="SPA anchors")
    p = rep.part_coordinates
    ax.scatter(p[:, 0], p[:, 1], marker="*", s=160, color="#2a7ab0", label="NMF parts")
    for k, (x, y) in enumerate(p):
        ax.annotate(f"C{k + 1}", (x, y), xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("projection 1")
    ax.set_ylabel("projection 2")
    verdict = "near-separable" if rep.separable else "not separable"
    ax.set_title(f"samples in the simplex: {verdict}")
    ax.legend(fontsize=8, loc="best")
    return ax
