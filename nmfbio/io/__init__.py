"""File adapters: turn each field's files into AnnData (obs = samples, var = features).

:func:`read_matrix` reads generic matrices (``.h5ad``, ``.csv``/``.tsv``/``.txt``, ``.npy``,
``.npz``, Matrix Market). Field-specific adapters (mutation catalogs, spike trains,
expression) live in their own modules and are re-exported here by name.
"""

from nmfbio.io.matrix import SAMPLES_IN, SUPPORTED_EXTENSIONS, read_matrix

__all__ = ["SAMPLES_IN", "SUPPORTED_EXTENSIONS", "read_matrix"]
