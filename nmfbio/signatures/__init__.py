"""Mutational signatures: de novo extraction, matching to reference sets, and refitting.

``extract`` (KL NMF + rank selection + resampled consensus), ``extract_joint`` (several
mutation types of the same tumours with shared exposures), ``match`` (cosine, Hungarian
pairs, decomposition into a reference), ``assign`` (sparse refitting with bootstrap
intervals), ``attribute`` (the probability of each signature for each mutation) and
``reference`` (registered sets, loaded from a path or an installed package; nothing is
downloaded) and ``convert_opportunities`` (signatures moved between genome, exome and
panel opportunities). Every mutation type of :mod:`nmfbio.io.mutation_types` is handled. Catalog
readers live in :mod:`nmfbio.io`, plots in :mod:`nmfbio.plot.signatures`.
"""

from nmfbio.signatures.assign import AssignmentResult, assign
from nmfbio.signatures.attribute import attribute
from nmfbio.signatures.extract import (
    ExtractionResult,
    extract,
    extract_rank_shard,
    signature_names,
)
from nmfbio.signatures.joint import JointExtractionResult, extract_joint
from nmfbio.signatures.match import MatchResult, decompose, match
from nmfbio.signatures.opportunities import convert_opportunities
from nmfbio.signatures.reference import ReferenceNotFoundError, reference, registry

__all__ = [
    "AssignmentResult", "ExtractionResult", "MatchResult", "ReferenceNotFoundError", "assign",
    "JointExtractionResult", "attribute", "convert_opportunities", "decompose", "extract",
    "extract_joint", "extract_rank_shard", "match",
    "reference", "registry", "signature_names",
]
