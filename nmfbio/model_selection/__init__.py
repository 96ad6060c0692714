"""Model selection around the solver: many seeded restarts matched and clustered into
consensus parts with their stability (:func:`consensus`), rank selection by held-out
cross-validation (:func:`select_rank`), anchor samples and separability (:mod:`anchors`),
matching of components (:mod:`matching`), and the same work split into shards for a
cluster (:func:`consensus_runs`, :func:`consensus_from_runs`, :func:`select_rank_shard`,
:func:`select_rank_from_shards`).

It works on the arrays and AnnData that :mod:`nmfbio.data` accepts and calls the solver;
it knows nothing of mutations, spikes or genes (that is the domains' work) and imports no
plotting, report or CLI code.
"""

from nmfbio.model_selection import anchors, matching
from nmfbio.model_selection._shards import (
    ConsensusRuns,
    RankShard,
    consensus_from_runs,
    consensus_runs,
    load_shard,
    parse_shard,
    select_rank_from_shards,
    select_rank_shard,
)
from nmfbio.model_selection.consensus import DEFAULT_THRESHOLD, ConsensusResult, consensus
from nmfbio.model_selection.matching import cosine_matrix, match_columns
from nmfbio.model_selection.rank import RankSelection, select_rank

__all__ = [
    "ConsensusResult", "ConsensusRuns", "DEFAULT_THRESHOLD", "RankSelection", "RankShard",
    "anchors", "consensus", "consensus_from_runs", "consensus_runs", "cosine_matrix",
    "load_shard", "match_columns", "matching", "parse_shard", "select_rank",
    "select_rank_from_shards", "select_rank_shard",
]
