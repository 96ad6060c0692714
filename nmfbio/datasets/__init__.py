"""Bundled example data (small, real, redistributable; see ``data/README.md`` for sources,
licences and citations) and generators of planted data for tutorials and tests.

* :func:`breast21` — SBS96 catalog of 21 breast cancers (Nik-Zainal et al. 2012).
* :func:`songbird_hvc` — calcium activity of 75 HVC neurons (Mackevicius et al. 2019).
* :func:`tenx_chr21` — 10x Genomics UMI counts, 1,107 cells × 507 chr21 genes (scanpy tests).

Generators: :func:`nmfbio.datasets.signature_cohorts.realistic_catalog` (tumour cohorts with
hypermutators and over-dispersed counts), :mod:`nmfbio.datasets.assemblies` (spike
recordings with planted assemblies).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["DATA_DIR", "breast21", "songbird_hvc", "tenx_chr21"]

DATA_DIR = Path(__file__).parent / "data"


def breast21():
    """The SBS96 catalog of 21 breast cancer genomes as AnnData (21 samples × 96 channels).

    Returns
    -------
    anndata.AnnData
        ``X`` holds mutation counts; ``var_names`` are channel labels (``A[C>A]A``…).

    Examples
    --------
    >>> from nmfbio import datasets
    >>> datasets.breast21().shape
    (21, 96)
    """
    from nmfbio.io import read_catalog

    return read_catalog(DATA_DIR / "breast21_sbs96.tsv")


def songbird_hvc():
    """Deconvolved calcium activity of 75 HVC neurons (zebra finch), 666 frames at 30 Hz.

    Returns
    -------
    activity : ndarray of shape (75, 666)
        Non-negative, neurons × frames.
    frame_rate : float
        Frames per second (30).

    Examples
    --------
    >>> from nmfbio import datasets
    >>> A, fs = datasets.songbird_hvc()
    >>> A.shape, fs
    ((75, 666), 30.0)
    """
    with np.load(DATA_DIR / "songbird_hvc_neural.npz") as d:
        return np.array(d["NEURAL"], dtype=np.float64), float(d["VIDEOfs"])


#: Files of :func:`tenx_chr21` in ``DATA_DIR``, by ``kind``.
TENX_CHR21 = {"h5": "tenx_chr21/filtered_feature_bc_matrix.h5", "mtx": "tenx_chr21"}


def tenx_chr21(kind: str = "h5"):
    """UMI counts of 1,107 cells × 507 chr21 genes from Cell Ranger 3 (scanpy's 10x test files).

    The same matrix is bundled as a 10x HDF5 file and as a Matrix Market folder, so both
    readers of :func:`nmfbio.io.read_expression` can be tried on real files. 306 of the 507
    genes have no counts in these cells: they are kept, without the usual DataWarning
    (:mod:`nmfbio.programs` filters them).

    Parameters
    ----------
    kind : {"h5", "mtx"}, default "h5"
        Read ``filtered_feature_bc_matrix.h5`` or the folder with ``matrix.mtx.gz``,
        ``features.tsv.gz`` and ``barcodes.tsv.gz``; both give the same AnnData.

    Returns
    -------
    anndata.AnnData
        Shape (1107, 507): obs = cell barcodes, var = gene symbols with ``var["gene_ids"]``;
        ``X`` (= ``layers["counts"]``) a float32 CSR matrix of integer counts.

    Examples
    --------
    >>> from nmfbio import datasets
    >>> ad = datasets.tenx_chr21()
    >>> ad.shape, ad.var["gene_ids"].iloc[0]
    ((1107, 507), 'ENSG00000279493')
    """
    from nmfbio.errors import DataWarning, NMFInputError
    from nmfbio.io import read_expression

    if kind not in TENX_CHR21:
        raise NMFInputError(f"kind must be one of {list(TENX_CHR21)}, got {kind!r}")
    with warnings.catch_warnings():  # documented above: 306 genes without counts
        warnings.filterwarnings("ignore", r".* genes have no counts", DataWarning)
        return read_expression(DATA_DIR / TENX_CHR21[kind])
