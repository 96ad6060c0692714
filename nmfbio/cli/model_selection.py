"""The model-selection commands: ``nmfbio consensus``, ``nmfbio rank``, ``nmfbio anchors`` and
``nmfbio combine`` (the shards of ``consensus/rank --shard I/N`` into their result).

Each reads the same inputs as ``nmfbio fit``, calls one public function and writes TSV tables
plus figures (PNG) atomically into OUTDIR. No science here.
"""

from __future__ import annotations

import argparse
import sys

from nmfbio._atomic import output_set
from nmfbio.cli._common import (
    add_command,
    add_input_args,
    nonneg_int,
    parse_ranks,
    positive_int,
    read_input,
    save_figure,
    shard_type,
    write_tsv,
)

__all__ = ["add_consensus", "add_rank", "add_anchors", "add_combine"]

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
    p = add_command(
        subparsers, "consensus", formatter_class=argparse.RawDescriptionHelpFormatter,
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

with --shard I/N, only runs-I-of-N.h5 (this shard's runs: W, H, loss, convergence, restart
index, parameters, names, data fingerprint); combine all N with 'nmfbio combine':
  nmfbio consensus x.csv -k 4 --restarts 100 --seed 0 --shard 1/4 -o shards/   # ... 4/4
  nmfbio combine shards/runs-*-of-4.h5 -o consensus/
""")
    _common(p)
    p.add_argument("-k", "--rank", type=positive_int, required=True, help="number of parts")
    p.add_argument("--restarts", type=positive_int, default=100, metavar="N",
                   help="seeded runs (default: %(default)s)")
    _shard_arg(p, "restarts")
    p.add_argument("--resample", choices=("none", "poisson", "multinomial"), default="none",
                   help="fit each run on a resampled copy of the counts (default: none)")
    p.add_argument("--threshold", type=float, default=0.8,
                   help="minimum stability (silhouette) of a stable part (default: 0.8)")
    p.set_defaults(run=_run_consensus)


_CONSENSUS_OUT = ("W.tsv", "H.tsv", "stability.tsv", "consensus.h5", "stability.png",
                  "run_cosines.png")


def _shard_arg(p, what) -> None:
    p.add_argument("--shard", type=shard_type, default=None, metavar="I/N",
                   help=f"run only shard I of N (1 <= I <= N) of the {what} and write them to "
                        "one .h5 file for 'nmfbio combine' (needs --seed)")


def _source(args) -> dict:
    """How INPUT was read, recorded in shard files so 'nmfbio combine' can read it again."""
    from pathlib import Path

    return dict(input=str(Path(args.input).resolve()), samples_in=args.samples_in,
                layer=args.layer)


def _run_consensus(args) -> int:
    import nmfbio

    resample = None if args.resample == "none" else args.resample
    if args.shard is not None:
        from nmfbio.model_selection._shards import consensus_runs

        i, n = args.shard
        name = f"runs-{i}-of-{n}.h5"
        outdir, out, adata = read_input(args, (name,))
        runs = consensus_runs(adata, args.rank, shard=args.shard, restarts=args.restarts,
                              loss=args.loss, resample=resample, seed=args.seed,
                              max_iter=args.max_iter, threshold=args.threshold,
                              source=_source(args))
        runs.save(out[name])
        _say(args, f"consensus shard {i}/{n}: {len(runs.run_ids)} of {args.restarts} runs at "
                   f"rank {args.rank} ({int(runs.converged.sum())} converged); wrote {name} "
                   f"to {outdir}")
        return 0
    outdir, out, adata = read_input(args, _CONSENSUS_OUT)
    res = nmfbio.consensus(adata, args.rank, restarts=args.restarts, loss=args.loss,
                           resample=resample, seed=args.seed, max_iter=args.max_iter,
                           threshold=args.threshold)
    _write_consensus(args, res, outdir, out)
    return 0


def _write_consensus(args, res, outdir, out) -> None:
    with output_set(outdir, out, command=f"nmfbio {args.command}"):
        write_tsv(res.W_frame(), out["W.tsv"], "feature")
        write_tsv(res.H_frame(), out["H.tsv"], "component")
        write_tsv(res.table(), out["stability.tsv"], "component")
        res.save(out["consensus.h5"])
        save_figure(res.plot_stability(), out["stability.png"])
        save_figure(res.plot_run_cosines(), out["run_cosines.png"])
    _say(args, f"{res.summary()}\nwrote {', '.join(_CONSENSUS_OUT)} to {outdir}")


# --------------------------------------------------------------------------- rank
def add_rank(subparsers) -> None:
    """Register ``nmfbio rank``."""
    p = add_command(
        subparsers, "rank", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Hold out random entries, fit each rank on the rest, score the held-out "
                    "entries, and measure each rank's stability; recommend the smallest rank "
                    "within one standard error of the best whose parts are all stable (or, "
                    "with --choose largest, the largest rank within two standard errors of "
                    "the best, as are the ranks between).\n\n"
                    + _ORIENTATION,
        epilog="""\
outputs (in OUTDIR):
  rank_selection.tsv  one row per rank: train/test error, test_se, stability, n_stable, ...
                      (first line: '# best=K; rule: ...')
  rank_selection.png  error and stability against rank, recommended rank marked

with --shard I/N, only rank-I-of-N.h5 (the scores of this shard's ranks); combine all N
with 'nmfbio combine':
  nmfbio rank x.csv --ranks 1-10 --seed 0 --shard 1/2 -o shards/   # and 2/2
  nmfbio combine shards/rank-*-of-2.h5 -o rank/
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
    p.add_argument("--choose", choices=("smallest", "largest"), default="smallest",
                   help="rank rule: 'smallest' (parsimony: the smallest rank within one "
                        "standard error of the best held-out error whose parts are all "
                        "stable) or 'largest' (resolution: the largest rank within two "
                        "standard errors of the best, as are the ranks between) "
                        "(default: %(default)s)")
    _shard_arg(p, "ranks")
    p.set_defaults(run=_run_rank)


_RANK_OUT = ("rank_selection.tsv", "rank_selection.png")


def _run_rank(args) -> int:
    import nmfbio

    ranks = parse_ranks(args.ranks)  # before reading: a bad list fails at once
    opts = dict(loss=args.loss, holdout=args.holdout, repeats=args.repeats,
                restarts=args.restarts, seed=args.seed, max_iter=args.max_iter,
                choose=args.choose)
    if args.shard is not None:
        from nmfbio.model_selection._shards import select_rank_shard

        i, n = args.shard
        name = f"rank-{i}-of-{n}.h5"
        outdir, out, adata = read_input(args, (name,))
        part = select_rank_shard(adata, ranks, shard=args.shard,
                                 source=_source(args), **opts)
        part.save(out[name])
        done = ", ".join(str(s["rank"]) for s in part.scores)
        _say(args, f"rank-selection shard {i}/{n}: scored ranks {done}; wrote {name} to "
                   f"{outdir}")
        return 0
    outdir, out, adata = read_input(args, _RANK_OUT)
    sel = nmfbio.select_rank(adata, ranks, **opts)
    _write_rank(args, sel, outdir, out)
    return 0


def _write_rank(args, sel, outdir, out) -> None:
    with output_set(outdir, out, command=f"nmfbio {args.command}"):
        sel.to_tsv(out["rank_selection.tsv"])
        save_figure(sel.plot(), out["rank_selection.png"])
    _say(args, f"{sel.summary()}\nwrote {', '.join(_RANK_OUT)} to {outdir}")


# --------------------------------------------------------------------------- combine
_COMBINE_EPILOG = """\
The shard files say what they hold: consensus runs ('nmfbio consensus --shard') give the
outputs of 'nmfbio consensus' (W.tsv, H.tsv, stability.tsv, consensus.h5, stability.png,
run_cosines.png); rank-selection shards ('nmfbio rank --shard') give those of 'nmfbio
rank' (rank_selection.tsv, rank_selection.png). The result equals the unsharded command's
with the same options and seed. Consensus needs the data again to refit H: by default the
input recorded in the shards (path and reading options) is read; --input overrides it.
Shards of different data, options or shard counts, and missing or repeated shards, are
refused.

example:
  nmfbio combine shards/runs-1-of-2.h5 shards/runs-2-of-2.h5 -o consensus/
"""


def add_combine(subparsers) -> None:
    """Register ``nmfbio combine``."""
    p = add_command(
        subparsers, "combine", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Combine every shard written by 'nmfbio consensus --shard I/N' or "
                    "'nmfbio rank --shard I/N' into the outputs of the unsharded command.",
        epilog=_COMBINE_EPILOG)
    p.add_argument("shards", nargs="+", metavar="SHARD", help="shard files (.h5), all N")
    p.add_argument("-o", "--outdir", metavar="OUTDIR", required=True,
                   help="output folder (created if needed)")
    p.add_argument("--input", metavar="INPUT", default=None,
                   help="consensus only: the data file the shards were fitted to (default: "
                        "the one recorded in the shards)")
    p.add_argument("--samples-in", choices=("columns", "rows"), default=None,
                   help="with --input: where the samples are in a text/.npy/.npz/.mtx file")
    p.add_argument("--layer", metavar="NAME", default=None, help="with --input: .h5ad layer")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print the summary (warnings and errors still go to stderr)")
    p.set_defaults(run=_run_combine)


def _run_combine(args) -> int:
    from pathlib import Path

    from nmfbio._atomic import check_not_input
    from nmfbio.io import read_matrix
    from nmfbio.model_selection._shards import (
        ConsensusRuns,
        consensus_from_runs,
        load_shard,
        select_rank_from_shards,
    )

    kind = type(load_shard(args.shards[0]))  # the rest are checked when combined
    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise FileExistsError(f"output folder {outdir} exists and is not a folder; choose "
                              "another -o/--outdir")
    names = _CONSENSUS_OUT if kind is ConsensusRuns else _RANK_OUT
    out = {name: outdir / name for name in names}
    check_not_input(out.values(), list(args.shards) + ([args.input] if args.input else []))
    if kind is not ConsensusRuns:
        _write_rank(args, select_rank_from_shards(args.shards), outdir, out)
        return 0
    src = ConsensusRuns.load(args.shards[0]).source
    path = args.input or src.get("input")
    if args.input:
        samples_in, layer = args.samples_in, args.layer
    else:
        samples_in, layer = src.get("samples_in"), src.get("layer")
        if not path or not Path(path).exists():
            raise FileNotFoundError(f"the input recorded in {args.shards[0]} ({path}) is not "
                                    "there; pass the data file with --input")
    check_not_input(out.values(), [path])
    adata = read_matrix(path, samples_in=samples_in or "columns", layer=layer)
    res = consensus_from_runs(args.shards, adata)
    _write_consensus(args, res, outdir, out)
    return 0


# --------------------------------------------------------------------------- anchors
def add_anchors(subparsers) -> None:
    """Register ``nmfbio anchors``."""
    p = add_command(
        subparsers, "anchors", formatter_class=argparse.RawDescriptionHelpFormatter,
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
    with output_set(outdir, out, command="nmfbio anchors"):
        write_tsv(rep.table(), out["anchors.tsv"], "component")
        save_figure(rep.plot(), out["anchors.png"])
    _say(args, f"{rep.reason}\nanchors: {', '.join(rep.anchor_names)}\n"
               f"wrote {', '.join(names)} to {outdir}")
    return 0
