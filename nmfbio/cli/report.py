"""``nmfbio report`` — one self-contained HTML page from the outputs of nmfbio commands; a
thin wrapper over :func:`nmfbio.report.write_report`. No science here."""

from __future__ import annotations

import argparse
import sys

from nmfbio.cli._common import add_command

__all__ = ["add_report"]

_EPILOG = """\
RESULT is an output folder of an nmfbio command, or a result file:
  nmfbio fit                  result.h5
  nmfbio consensus            consensus.h5
  nmfbio rank                 rank_selection.tsv
  nmfbio anchors              anchors.tsv (+ anchors.png)
  nmfbio signatures extract   signatures.tsv, exposures.tsv, stability.tsv, ...
  nmfbio signatures match     cosine.tsv, matches.tsv, decomposition.tsv
  nmfbio signatures assign    exposures.tsv, cosine.tsv
  nmfbio programs find        programs.tsv, usage.tsv, scores.tsv, top_genes.tsv, ...
  a folder of such folders    searched one level down

output: one HTML file (figures embedded as PNG, no script, no external link) with the
inputs and parameters, one section per result and the software versions; written
atomically, never over a file it reads.

example:
  nmfbio report rank/ consensus/ -o report.html --title "Cohort A, rank 4"
"""


def add_report(subparsers) -> None:
    """Register ``nmfbio report``."""
    p = add_command(
        subparsers, "report",
        description="Write one self-contained HTML report of the results of nmfbio commands: "
                    "inputs and parameters, rank-selection and stability plots, the domain "
                    "figures (signature profiles and matches, program heatmaps), tables and "
                    "software versions.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", metavar="RESULT",
                   help="output folder of an nmfbio command, or a result file")
    p.add_argument("-o", "--output", required=True, metavar="HTML",
                   help="the report file to write, e.g. report.html")
    p.add_argument("--title", default=None, help="page title (default: the RESULT names)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print the summary (warnings and errors still go to stderr)")
    p.set_defaults(run=_run_report)


def _run_report(args) -> int:
    from nmfbio.report import write_report

    out = write_report(args.results, args.output, title=args.title)
    if not args.quiet:
        size = out.stat().st_size / 1e6
        sys.stdout.write(f"wrote {out} ({size:.1f} MB) from {len(args.results)} result(s)\n")
    return 0
