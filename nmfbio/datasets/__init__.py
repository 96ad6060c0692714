"""Bundled example data (small, real, redistributable; see ``data/README.md`` for sources,
licences and citations) and generators of planted data for tutorials and tests.

* :func:`breast21` — SBS96 catalog of 21 breast cancers (Nik-Zainal et al. 2012).
* :func:`songbird_hvc` — calcium activity of 75 HVC neurons (Mackevicius et al. 2019).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DATA_DIR", "breast21", "songbird_hvc"]

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
