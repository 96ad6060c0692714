"""Neural assemblies: groups of units that fire together, found by gated Poisson NMF on
spike counts (:func:`detect`), with a PCA/ICA baseline (:func:`ica_baseline`).

Data come from :mod:`nmfbio.io` spike readers (AnnData, bins × units) or spike trains in
memory; generated recordings with planted assemblies are in :mod:`nmfbio.datasets.assemblies`.
"""

from nmfbio.assemblies.baseline import ica_baseline
from nmfbio.assemblies.detect import detect, membership
from nmfbio.assemblies.result import AssemblyResult

__all__ = ["AssemblyResult", "detect", "ica_baseline", "membership"]
