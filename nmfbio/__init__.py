"""nmfbio: non-negative matrix factorization for biological and neural data.

X (features × samples) ≈ W H with W, H ≥ 0: W holds the parts (mutational signatures,
neural assemblies, gene programs), H the recipes (exposures, activations, usages). Start
with :func:`nmfbio.fit`; the solver on plain arrays is in :mod:`nmfbio.solver`, file
adapters in :mod:`nmfbio.io`.
"""

from nmfbio import anchors, programs, signatures
from nmfbio.consensus import ConsensusResult, consensus
from nmfbio.data import fit
from nmfbio.errors import ConvergenceWarning, DataWarning, FormatError, NMFInputError
from nmfbio.rank import RankSelection, select_rank
from nmfbio.shards import consensus_from_runs, consensus_runs, select_rank_from_shards
from nmfbio.solver import NMFResult

__version__ = "0.1.0"

__all__ = [
    "ConsensusResult", "ConvergenceWarning", "DataWarning", "FormatError", "NMFInputError",
    "NMFResult", "RankSelection", "anchors", "consensus", "consensus_from_runs",
    "consensus_runs", "fit", "programs", "select_rank", "select_rank_from_shards",
    "signatures", "__version__",
]
