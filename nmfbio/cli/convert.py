"""``nmfbio convert`` — read a field's own file with one of the :mod:`nmfbio.io` readers and
write it as one ``.h5ad`` (samples × features, AnnData convention) that every other command
reads. The first step of the Snakemake workflow; no science here.
"""

from __future__ import annotations

import argparse
import sys

from nmfbio.cli._common import add_command

__all__ = ["add_convert"]

_READERS = ("matrix", "catalog", "expression")

_EPILOG = """\
readers:
  matrix      nmfbio.io.read_matrix: .csv/.tsv/.txt(.gz), .npy, .npz, .mtx(.gz), .h5ad;
              text/npy/npz/mtx files are features × samples unless --samples-in rows
  catalog     nmfbio.io.read_catalog: a 96-channel SBS catalog (SigProfiler matrix,
              COSMIC-style or plain table with channel labels, either orientation), channels
              in canonical order
  expression  nmfbio.io.read_expression: 10x .h5, 10x Matrix Market folder, .h5ad, or a
              CSV/TSV count table (then --samples-in is required)

output: OUTPUT.h5ad, samples × features (obs = samples, var = features), written
atomically; an input is never overwritten.

example:
  nmfbio convert catalog.tsv --reader catalog -o results/data/data.h5ad
"""


def add_convert(subparsers) -> None:
    """Register ``nmfbio convert``."""
    p = add_command(
        subparsers, "convert", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read INPUT with one of nmfbio's readers and write it as .h5ad "
                    "(samples × features), the input every other command accepts.",
        epilog=_EPILOG)
    p.add_argument("input", metavar="INPUT", help="data file or folder (see readers)")
    p.add_argument("-o", "--output", metavar="OUTPUT", required=True,
                   help="output file, ending in .h5ad")
    p.add_argument("--reader", choices=_READERS, default="matrix",
                   help="how to read INPUT (default: %(default)s)")
    p.add_argument("--samples-in", choices=("columns", "rows"), default=None,
                   help="where the samples are in a text/.npy/.npz/.mtx file (matrix: default "
                        "columns; catalog: detected; expression: required for text tables)")
    p.add_argument("--layer", metavar="NAME", default=None,
                   help="matrix reader, .h5ad input only: use this layer as X")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(run=_run_convert)


def _run_convert(args) -> int:
    from nmfbio._atomic import atomic_path, check_not_input
    from nmfbio.errors import NMFInputError
    from nmfbio.io import read_catalog, read_expression, read_matrix

    if not args.output.lower().endswith(".h5ad"):
        raise NMFInputError(f"-o/--output must end in .h5ad, got {args.output!r}")
    if args.layer is not None and args.reader != "matrix":
        raise NMFInputError(f"--layer is for the matrix reader only (got --reader "
                            f"{args.reader})")
    check_not_input([args.output], [args.input])
    if args.reader == "matrix":
        adata = read_matrix(args.input, samples_in=args.samples_in or "columns",
                            layer=args.layer)
    elif args.reader == "catalog":
        adata = read_catalog(args.input, samples_in=args.samples_in)
    else:
        adata = read_expression(args.input, samples_in=args.samples_in)
    with atomic_path(args.output) as tmp:
        adata.write_h5ad(tmp)
    if not args.quiet:
        sys.stdout.write(f"read {args.input} ({args.reader}): {adata.n_obs} samples × "
                         f"{adata.n_vars} features; wrote {args.output}\n")
    return 0
