"""Gene-expression programs (cNMF-style consensus NMF) on AnnData: :func:`find`, plus the
gene selection and normalisation it uses. Expression readers live in :mod:`nmfbio.io`,
plots in :mod:`nmfbio.plot.programs`."""

from nmfbio.programs.find import ProgramsResult, find
from nmfbio.programs.select import normalize_for_nmf, overdispersed_genes

__all__ = ["ProgramsResult", "find", "normalize_for_nmf", "overdispersed_genes"]
