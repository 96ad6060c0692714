"""File adapters: turn each field's files into AnnData (obs = samples, var = features).

:func:`read_matrix` reads generic matrices (``.h5ad``, ``.csv``/``.tsv``/``.txt``, ``.npy``,
``.npz``, Matrix Market). Field-specific adapters live in their own modules and are
re-exported here by name: mutation catalogs from tables (:func:`read_catalog`), from VCF
and MAF files with a reference genome (:func:`catalog_from_vcf`, :func:`catalog_from_maf`,
:func:`mutation_table`, :class:`FastaReader`; context counts of a genome or target
regions: :func:`opportunities`), gene-expression counts from h5ad, 10x Genomics
and text files (:func:`read_expression`), spike data as time bins × units (:func:`bin_spikes`,
:func:`read_spike_table`, :func:`read_binned`, :func:`from_traces`, :func:`read_phy`,
:func:`read_nwb`; any of them by name or detected: :func:`read_spikes`,
:func:`spike_format`).
"""

from nmfbio.io.catalogs import read_catalog
from nmfbio.io.expression import read_expression
from nmfbio.io.genome import FastaReader
from nmfbio.io.maf import catalog_from_maf
from nmfbio.io.matrix import SAMPLES_IN, SUPPORTED_EXTENSIONS, read_matrix
from nmfbio.io.mutations import opportunities, read_regions
from nmfbio.io.nwb import read_nwb
from nmfbio.io.phy import read_phy
from nmfbio.io.spike_input import read_spikes, spike_format
from nmfbio.io.spikes import bin_spikes, from_traces, read_binned, read_spike_table
from nmfbio.io.variants import catalog_from_vcf, mutation_table

__all__ = ["SAMPLES_IN", "SUPPORTED_EXTENSIONS", "FastaReader", "catalog_from_maf",
           "catalog_from_vcf", "mutation_table", "opportunities", "read_catalog", "read_matrix",
           "read_regions"]
__all__ += ["read_expression"]
__all__ += ["bin_spikes", "from_traces", "read_binned", "read_nwb", "read_phy",
            "read_spike_table", "read_spikes", "spike_format"]
