"""The NMF solver on arrays (numpy, scipy.sparse): losses, initialisation, fitting and the
result object. It never imports pandas or AnnData; ``nmfbio.fit`` (in ``nmfbio.data``) is the
bridge that accepts DataFrames and AnnData and calls :func:`nmf`.
"""

from nmfbio.solver.core import DEFAULT_MAX_ITER, DEFAULT_TOL, nmf, nmf_runs, refit_H
from nmfbio.solver.init import INITS, initialize, randomized_svd
from nmfbio.solver.losses import KL, LOSSES, Frobenius, Loss, get_loss
from nmfbio.solver.result import NMFResult

__all__ = [
    "DEFAULT_MAX_ITER", "DEFAULT_TOL", "INITS", "KL", "LOSSES", "Frobenius", "Loss",
    "NMFResult", "get_loss", "initialize", "nmf", "nmf_runs", "randomized_svd", "refit_H",
]
