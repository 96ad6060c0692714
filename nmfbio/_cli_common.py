"""Pieces shared by the ``nmfbio`` commands: argument types, the input/output options every
command has, reading the input and writing tables and figures atomically. No science."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["positive_int", "nonneg_int", "nonneg_float", "add_input_args", "read_input",
           "write_tsv", "save_figure", "warn_line", "INPUT_HELP"]

INPUT_HELP = ("data file: .csv, .tsv, .txt (optionally .gz), .npy, .npz, .mtx, .mtx.gz or "
              ".h5ad; text/npy/npz/mtx files are features × samples unless --samples-in rows")


def warn_line(message: str) -> None:
    """One ``nmfbio: warning: ...`` line on stderr."""
    sys.stderr.write(f"nmfbio: warning: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value



def add_input_args(p: argparse.ArgumentParser) -> None:
    """INPUT, -o/--outdir, --samples-in, --layer and -q/--quiet."""
    p.add_argument("input", metavar="INPUT", help=INPUT_HELP)
    p.add_argument("-o", "--outdir", metavar="OUTDIR", required=True,
                   help="output folder (created if needed)")
    p.add_argument("--samples-in", choices=("columns", "rows"), default=None,
                   help="where the samples are in a text/.npy/.npz/.mtx file (default: "
                        "columns, i.e. the file is features × samples); ignored for .h5ad")
    p.add_argument("--layer", metavar="NAME", default=None,
                   help=".h5ad only: use this layer instead of X")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print the summary (warnings and errors still go to stderr)")


def read_input(args: argparse.Namespace, names):
    """Check the output paths, then read INPUT as AnnData.

    Returns
    -------
    outdir : Path
    outputs : dict of name -> Path
    adata : anndata.AnnData (samples × features)
    """
    from nmfbio._atomic import check_not_input
    from nmfbio.io import read_matrix

    outdir = Path(args.outdir)
    outputs = {name: outdir / name for name in names}
    check_not_input(outputs.values(), [args.input])
    if outdir.exists() and not outdir.is_dir():
        raise FileExistsError(f"output folder {outdir} exists and is not a folder; choose "
                              "another -o/--outdir")
    if args.input.lower().endswith(".h5ad") and args.samples_in is not None:
        warn_line("--samples-in is ignored for .h5ad files (AnnData is samples × features)")
    adata = read_matrix(args.input, samples_in=args.samples_in or "columns", layer=args.layer)
    return outdir, outputs, adata


def write_tsv(frame, path, index_label) -> None:
    """Write a DataFrame as TSV atomically."""
    from nmfbio._atomic import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index_label=index_label)


def save_figure(ax, path) -> None:
    """Save the figure of ``ax`` atomically (format from the suffix: .png, .pdf, .svg)."""
    from nmfbio._atomic import atomic_path

    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, dpi=150)
