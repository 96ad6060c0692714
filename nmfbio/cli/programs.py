"""``nmfbio programs find`` — a thin wrapper over :func:`nmfbio.programs.find` and
:func:`nmfbio.io.read_expression`. No science here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nmfbio.cli._common import add_command, nonneg_int, positive_int, save_figure

__all__ = ["add_programs"]


def add_programs(subparsers) -> None:
    """Register ``nmfbio programs`` and its verb ``find``."""
    p = add_command(
        subparsers, "programs",
        description="Gene-expression programs from raw counts (cells or samples × genes).")
    sub = p.add_subparsers(dest="verb", metavar="VERB", required=True, title="verbs")
    f = sub.add_parser(
        "find", help="find programs, choosing their number by stability",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Find gene-expression programs: over-dispersed genes, consensus NMF over "
                    "restarts for each candidate number of programs, usages per cell and gene "
                    "scores.\n\nInput: .h5ad (cells × genes, raw counts in layers['counts'] or "
                    "X), a 10x .h5 file or Matrix Market folder, or CSV/TSV with --samples-in "
                    "(rows: cells × genes; columns: genes × cells).",
        epilog="outputs (in OUTDIR): programs.tsv (genes × programs, spectra), usage.tsv "
               "(cells × programs),\n  scores.tsv, top_genes.tsv, rank_selection.tsv, "
               "result.h5ad, rank_selection.png,\n  usage.png, top_genes.png")
    f.add_argument("input", metavar="INPUT")
    f.add_argument("-o", "--outdir", required=True)
    f.add_argument("--ranks", default="2-10", help="candidate numbers of programs "
                   "(default: %(default)s)")
    f.add_argument("--n-top-genes", type=positive_int, default=2000)
    f.add_argument("--restarts", type=positive_int, default=20)
    f.add_argument("--seed", type=nonneg_int, default=None)
    f.add_argument("--samples-in", choices=("rows", "columns"), default=None,
                   help="text files only: are cells the rows or the columns?")
    f.add_argument("--groupby", default=None, help="obs column to group cells by in the "
                   "usage heatmap")
    f.add_argument("-q", "--quiet", action="store_true")
    f.set_defaults(run=_run_find)


def _run_find(args) -> int:
    import nmfbio.programs as pg
    from nmfbio._atomic import atomic_path, check_not_input, output_set
    from nmfbio.cli._common import parse_ranks
    from nmfbio.io import read_expression
    from nmfbio.plot.signatures import save

    out = Path(args.outdir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output folder {out} exists and is not a folder")
    check_not_input([out / "result.h5ad"], [args.input])
    ranks = parse_ranks(args.ranks)  # before reading: a bad list fails at once
    adata = read_expression(args.input, samples_in=args.samples_in)
    res = pg.find(adata, ranks, n_top_genes=args.n_top_genes,
                  restarts=args.restarts, seed=args.seed)
    names = ["programs.tsv", "usage.tsv", "scores.tsv", "top_genes.tsv", "rank_selection.tsv",
             "result.h5ad", "rank_selection.png", "usage.png", "top_genes.png"]
    with output_set(out, names, command="nmfbio programs find"):
        res.to_tsv(out)
        with atomic_path(out / "result.h5ad") as tmp:
            adata.write_h5ad(tmp)
        save_figure(res.plot_rank_selection(), out / "rank_selection.png")
        groups = adata.obs[args.groupby] if args.groupby else None
        save_figure(res.plot_usage(groups=groups), out / "usage.png")
        save(res.plot_top_genes(), out / "top_genes.png")
    if not args.quiet:
        sys.stdout.write(f"{res.summary()}\nwrote results to {out}\n")
    return 0
