"""``nmfbio fit``: one factorization at one rank, written as W.tsv, H.tsv and result.h5."""

from __future__ import annotations

import argparse
import sys

from nmfbio._atomic import output_set
from nmfbio.cli._common import (
    add_command,
    add_input_args,
    nonneg_float,
    nonneg_int,
    positive_int,
    read_input,
    write_tsv,
)

_FIT_DESCRIPTION = """\
Fit X ≈ W H (W, H ≥ 0) at one rank and write the factors.

X is features × samples. In text (.csv/.tsv/.txt, optionally .gz; a header line of sample
names and a first column of feature names), .npy, .npz and .mtx files the samples are the
columns unless --samples-in rows says they are the rows. An .h5ad file is samples ×
features (AnnData convention; --samples-in is ignored) and --layer picks one of its layers.
"""

_FIT_EPILOG = """\
outputs (in OUTDIR, each written atomically; an input file is never overwritten):
  W.tsv      features × components, the parts: one row per feature (index label
             "feature"), one column per component C1..Ck; each column sums to 1
  H.tsv      components × samples, the recipes: one row per component (index label
             "component"), one column per sample; H carries the scale
  result.h5  the full result (W, H, loss, history, parameters, names), readable with
             nmfbio.NMFResult.load

Components are ordered by total contribution (row sums of H), largest first.

example:
  nmfbio fit counts.csv --rank 3 --loss kl --seed 0 -o results/
"""


def add_fit(subparsers) -> None:
    """Register ``nmfbio fit``."""
    from nmfbio.solver import DEFAULT_MAX_ITER, DEFAULT_TOL

    p = add_command(
        subparsers, "fit", description=_FIT_DESCRIPTION, epilog=_FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_args(p)
    p.add_argument("-k", "--rank", type=positive_int, required=True,
                   help="number of components")
    p.add_argument("--loss", choices=("frobenius", "kl"), default="frobenius",
                   help="frobenius: ½‖X − WH‖² (Gaussian noise, normalised data); kl: "
                        "generalised Kullback–Leibler (Poisson; use for counts); default: "
                        "%(default)s")
    p.add_argument("--l1-w", type=nonneg_float, default=0.0, metavar="X",
                   help="L1 (sparsity) penalty on W (default: %(default)s)")
    p.add_argument("--l1-h", type=nonneg_float, default=0.0, metavar="X",
                   help="L1 (sparsity) penalty on H (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=None, metavar="N",
                   help="random seed; the same seed gives the same result (drawn and saved "
                        "in result.h5 when omitted)")
    p.add_argument("--restarts", type=positive_int, default=1, metavar="N",
                   help="seeded runs; the one with the lowest objective is kept "
                        "(default: %(default)s)")
    p.add_argument("--max-iter", type=positive_int, default=DEFAULT_MAX_ITER, metavar="N",
                   help="maximum iterations; a warning is printed when reached "
                        "(default: %(default)s)")
    p.add_argument("--tol", type=nonneg_float, default=DEFAULT_TOL, metavar="X",
                   help="stop when the objective's relative decrease per iteration falls below "
                        "X (dense KL: averaged since the objective was last evaluated) "
                        "(default: %(default)s)")
    p.set_defaults(run=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    """Run ``nmfbio fit``: read, fit, write W.tsv, H.tsv and result.h5."""
    import nmfbio

    outdir, outputs, adata = read_input(args, ("W.tsv", "H.tsv", "result.h5"))
    res = nmfbio.fit(
        adata, args.rank, loss=args.loss, l1_W=args.l1_w, l1_H=args.l1_h,
        restarts=args.restarts, max_iter=args.max_iter, tol=args.tol, seed=args.seed,
    )

    with output_set(outdir, outputs, command="nmfbio fit"):
        write_tsv(res.W_frame(), outputs["W.tsv"], "feature")
        write_tsv(res.H_frame(), outputs["H.tsv"], "component")
        res.save(outputs["result.h5"])

    if not args.quiet:
        sys.stdout.write(
            f"{res.summary()}; seed {res.seed}. Wrote W.tsv (features × components), H.tsv "
            f"(components × samples) and result.h5 to {outdir}\n"
        )
    return 0
