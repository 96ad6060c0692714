"""The model-selection commands: ``nmfbio consensus``, ``nmfbio rank``, ``nmfbio anchors``.

Each reads the same inputs as ``nmfbio fit``, calls one public function and writes TSV tables
plus figures (PNG) atomically into OUTDIR. No science here.
"""

from __future__ import annotations

import argparse
import sys

from nmfbio._cli_common import (
    add_input_args,
    nonneg_int,
    positive_int,
    read_input,
    save_figure,
    write_tsv,
)

__all__ = ["add_consensus", "add_rank", "add_anchors"]

_ORIENTATION = """\
X is features × samples (text/.npy/.npz/.mtx files: samples in columns unless
--samples-in rows; .h5ad: samples × features by AnnData convention). Parts (W) are
columns over features, each summing to 1; recipes (H) are rows over samples.
"""


def _common(p, *, loss_default="kl"):
    add_input_args(p)
    p.add_argument("--loss", choices=("kl", "frobenius"), default=loss_default,
                   help="kl for counts (default), frobenius for normalised data")
    p.add_argument("--seed", type=nonneg_int, default=None, metavar="N",
                   help="random seed; the same seed gives the same result")
    p.add_argument("--max-iter", type=positive_int, default=500, metavar="N",
                   help="maximum iterations per run (default: %(default)s)")


def _say(args, text):
    if not args.quiet:
        sys.stdout.write(text.rstrip("\n") + "\n")


# --------------------------------------------------------------------------- consensus
def add_consensus(subparsers) -> None:
    """Register ``nmfbio consensus``."""
    p = subparsers.add_parser(
        "consensus", help="many seeded runs at one rank: which parts are reproducible",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit many seeded runs at one rank, align their parts (Hungarian matching "
                    "on cosine) and report the stability of each part.\n\n" + _ORIENTATION,
        epilog="""\
outputs (in OUTDIR):
  W.tsv            features × components: consensus parts (median of each cluster)
  H.tsv            components × samples: recipes refitted with the consensus parts
  stability.tsv    per component: stability (cosine silhouette), mean cosine, runs
                   reproducing it, stable (True/False), contribution
  consensus.h5     everything, readable with nmfbio.ConsensusResult.load
  stability.png    bar plot of stability with the threshold
  run_cosines.png  cosines between all runs' parts, grouped by component
""")
    _common(p)
    p.add_argument("-k", "--rank", type=positive_int, required=True, help="number of parts")
    p.add_argument("--restarts", type=positive_int, default=100, metavar="N",
                   help="seeded runs (default: %(default)s)")
    p.add_argument("--resample", choices=("none", "poisson", "multinomial"), default="none",
                   help="fit each run on a resampled copy of the counts (default: none)")
    p.add_argument("--threshold", type=float, default=0.8,
                   help="minimum stability (silhouette) of a stable part (default: 0.8)")
    p.set_defaults(run=_run_consensus)


def _run_consensus(args) -> int:
    import nmfbio

    names = ("W.tsv", "H.tsv", "stability.tsv", "consensus.h5", "stability.png",
             "run_cosines.png")
    outdir, out, adata = read_input(args, names)
    res = nmfbio.consensus(adata, args.rank, restarts=args.restarts, loss=args.loss,
                           resample=None if args.resample == "none" else args.resample,
                           seed=args.seed, max_iter=args.max_iter, threshold=args.threshold)
    write_tsv(res.W_frame(), out["W.tsv"], "feature")
    write_tsv(res.H_frame(), out["H.tsv"], "component")
    write_tsv(res.table(), out["stability.tsv"], "component")
    res.save(out["consensus.h5"])
    save_figure(res.plot_stability(), out["stability.png"])
    save_figure(res.plot_run_cosines(), out["run_cosines.png"])
    _say(args, f"{res.summary()}\nwrote {', '.join(names)} to {outdir}")
    return 0


# --------------------------------------------------------------------------- rank
def add_rank(subparsers) -> None:
    """Register ``nmfbio rank``."""
    p = subparsers.add_parser(
        "rank", help="choose the number of parts by held-out cross-validation and stability",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Hold out random entries, fit each rank on the rest, score the held-out "
                    "entries, and measure each rank's stability; recommend the smallest rank "
                    "within one standard error of the best whose parts are all stable.\n\n"
                    + _ORIENTATION,
        epilog="""\
outputs (in OUTDIR):
  rank_selection.tsv  one row per rank: train/test error, test_se, stability, n_stable, ...
                      (first line: '# best=K; rule: ...')
  rank_selection.png  error and stability against rank, recommended rank marked
""")
    _common(p)
    p.add_argument("--ranks", default="1-10", metavar="LIST",
                   help="ranks to try: '1-10' or '2,3,5' (default: %(default)s)")
    p.add_argument("--holdout", type=float, default=0.1,
                   help="fraction of entries held out per repeat (default: %(default)s)")
    p.add_argument("--repeats", type=positive_int, default=3, metavar="N",
                   help="hold-out repeats (default: %(default)s)")
    p.add_argument("--restarts", type=positive_int, default=5, metavar="N",
                   help="seeded runs per repeat and rank (default: %(default)s)")
    p.set_defaults(run=_run_rank)


def parse_ranks(text: str) -> list[int]:
    """'1-10' or '2,3,5' (or a mix, '1-3,8') → a list of ints.

    Examples
    --------
    >>> parse_ranks("1-3,8")
    [1, 2, 3, 8]
    """
    from nmfbio.errors import NMFInputError

    ranks: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part:
                lo, hi = part.split("-")
                ranks.extend(range(int(lo), int(hi) + 1))
            else:
                ranks.append(int(part))
    except ValueError:
        raise NMFInputError(f"--ranks must look like '1-10' or '2,3,5', got {text!r}") from None
    return ranks


def _run_rank(args) -> int:
    import nmfbio

    names = ("rank_selection.tsv", "rank_selection.png")
    outdir, out, adata = read_input(args, names)
    sel = nmfbio.select_rank(adata, parse_ranks(args.ranks), loss=args.loss,
                             holdout=args.holdout, repeats=args.repeats, restarts=args.restarts,
                             seed=args.seed, max_iter=args.max_iter)
    sel.save(out["rank_selection.tsv"])
    save_figure(sel.plot(), out["rank_selection.png"])
    _say(args, f"{sel.summary()}\nwrote {', '.join(names)} to {outdir}")
    return 0


# --------------------------------------------------------------------------- anchors
def add_anchors(subparsers) -> None:
    """Register ``nmfbio anchors``."""
    p = subparsers.add_parser(
        "anchors", help="anchor (pure) samples and a separability verdict at one rank",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Find candidate anchor samples by the successive projection algorithm, "
                    "fit the separable model and compare it with the best NMF fit.\n\n"
                    + _ORIENTATION,
        epilog="""\
outputs (in OUTDIR):
  anchors.tsv   per component: purity (largest share of one sample), purest sample,
                matched anchor sample and its cosine to the component
  anchors.png   samples in a 2-D projection of the simplex, anchors and parts marked
  The verdict (near-separable or not, with the evidence) is printed.
""")
    _common(p)
    p.add_argument("-k", "--rank", type=positive_int, required=True, help="number of parts")
    p.add_argument("--restarts", type=positive_int, default=10, metavar="N",
                   help="restarts of the NMF fit compared against (default: %(default)s)")
    p.set_defaults(run=_run_anchors)


def _run_anchors(args) -> int:
    from nmfbio import anchors

    names = ("anchors.tsv", "anchors.png")
    outdir, out, adata = read_input(args, names)
    rep = anchors.separability(adata, args.rank, loss=args.loss, restarts=args.restarts,
                               seed=args.seed)
    write_tsv(rep.table(), out["anchors.tsv"], "component")
    save_figure(rep.plot(), out["anchors.png"])
    _say(args, f"{rep.reason}\nanchors: {', '.join(rep.anchor_names)}\n"
               f"wrote {', '.join(names)} to {outdir}")
    return 0
