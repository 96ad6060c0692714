"""``nmfbio signatures catalog | extract | match | assign | attribute | opportunities |
convert | plot`` — thin wrappers over :mod:`nmfbio.signatures` and the catalog readers. No
science here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nmfbio._atomic import output_set
from nmfbio.cli._common import (
    add_command,
    cosine_threshold,
    fraction,
    nonneg_float,
    nonneg_int,
    positive_int,
    save_figure,
    shard_type,
    write_tsv,
)

__all__ = ["add_signatures"]

_CATALOG_HELP = ("mutation catalog of any type (SBS96, DBS78, ID83, SBS288, SBS1536, …; found "
                 "from the labels): SigProfiler matrix (MutationType + one column per sample,"
                 " e.g. *.DBS78.all), COSMIC-style or plain CSV/TSV with channel labels like "
                 "A[C>A]T, CC>TT or 1:Del:T:5 (rows or header; aligned by label, any order), "
                 "or .h5ad")


def _say(args, text):
    if not getattr(args, "quiet", False):
        sys.stdout.write(text.rstrip("\n") + "\n")


def _outdir(args, names, inputs):
    from nmfbio._atomic import check_not_input

    out = Path(args.outdir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output folder {out} exists and is not a folder")
    paths = {n: out / n for n in names}
    check_not_input(paths.values(), inputs)
    return out, paths


def _read_catalog(path):
    from nmfbio.io import read_catalog, read_matrix

    if str(path).lower().endswith(".h5ad"):
        return read_matrix(path)
    return read_catalog(path)


def add_signatures(subparsers) -> None:
    """Register ``nmfbio signatures`` and its verbs."""
    p = add_command(
        subparsers, "signatures",
        description="Mutational signatures from tumour cohorts. Catalogs are channels × "
                    "samples of one mutation type (SBS6, SBS24, SBS96, SBS288, SBS384, "
                    "SBS1536, DBS78 or ID83, told from the labels); signatures are channels ×"
                    " signatures (COSMIC layout: a 'Type' column of channel labels, one "
                    "column per signature). A reference must be of the catalog's type.")
    sub = p.add_subparsers(dest="verb", metavar="VERB", required=True, title="verbs")

    c = sub.add_parser("catalog", help="VCF/MAF + reference FASTA (or a matrix) → catalogs of "
                                       "SBS96, DBS78, ID83, …",
                       description="Count mutations of VCF/VCF.gz or MAF files into catalogs "
                                   "(channels × samples) of one or more mutation types, with "
                                   "the reference genome FASTA (local file; nothing is "
                                   "downloaded) and, for the stranded types, a gene "
                                   "annotation; or re-read a matrix file. Counts follow "
                                   "SigProfilerMatrixGenerator's conventions (the SNVs of a "
                                   "doublet also count in the SBS types).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="types: SBS6, SBS24, SBS96, SBS288, SBS384, SBS1536 (SBS24/288/"
                              "384 need --annotation), DBS78, ID83.\nWith several types, "
                              "-o OUT.tsv writes OUT.<TYPE>.tsv for each (e.g. cohort.DBS78"
                              ".tsv).\nexample: nmfbio signatures catalog *.vcf.gz --fasta "
                              "GRCh37.fa --context SBS96,DBS78,ID83 -o cohort.tsv")
    c.add_argument("inputs", nargs="+", metavar="INPUT", help=".vcf/.vcf.gz/.maf(.gz) files, "
                   "or one catalog matrix")
    c.add_argument("--fasta", help="reference genome FASTA of the same build as the calls")
    c.add_argument("--context", default="SBS96", metavar="TYPES",
                   help="mutation type(s) to count, comma-separated (default: %(default)s)")
    c.add_argument("--annotation", metavar="GTF_OR_BED",
                   help="gene annotation (GTF, or BED with strand) for SBS24/SBS288/SBS384")
    c.add_argument("--doublets", choices=("split", "separate"), default="split",
                   help="'split': the SNVs of doublets also count in the SBS types (as "
                        "SigProfilerMatrixGenerator); 'separate': only isolated SNVs do "
                        "(default: %(default)s)")
    c.add_argument("--all-filters", action="store_true",
                   help="keep non-PASS variants (default: PASS only)")
    c.add_argument("--chrom-alias", choices=("none", "auto"), default="none",
                   help="'auto' adds/removes a 'chr' prefix when that matches the FASTA")
    c.add_argument("--max-ref-mismatch", type=fraction, default=0.01, metavar="FRACTION",
                   help="refuse the input when more than this fraction of substitutions "
                        "disagree with the FASTA's base (a wrong genome build); records "
                        "below it are skipped and counted (default: %(default)s)")
    c.add_argument("-o", "--output", required=True, help="output catalog .tsv (SigProfiler "
                   "layout: MutationType + one column per sample)")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(run=_run_catalog)

    e = sub.add_parser("extract", help="de novo signatures, rank chosen by CV + stability",
                       description="Extract de novo signatures: KL NMF, rank chosen by "
                                   "held-out cross-validation and stability, consensus over "
                                   "resampled restarts, exposures refitted.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="outputs: signatures.tsv (COSMIC layout), exposures.tsv "
                              "(samples × signatures),\n  rank_selection.tsv, stability.tsv, "
                              "signatures.png, exposures.png, rank_selection.png,\n  "
                              "stability.png, normalization.tsv; with --reference also "
                              "matches.tsv and\n  decomposition.tsv.\n"
                              "Several catalogs of different types of the same samples (e.g. "
                              "cohort.SBS96.tsv\n  cohort.DBS78.tsv cohort.ID83.tsv) are "
                              "fitted jointly with shared exposures:\n  "
                              "signatures.<TYPE>.tsv and signatures.<TYPE>.png per type, "
                              "shares.tsv (each\n  signature's mutations by type), "
                              "exposures.tsv, rank_selection.tsv, stability.tsv,\n  "
                              "normalization.tsv (samples fitted by their total over all "
                              "types),\n  joint.h5 and the plots.\n"
                              "In shards (one catalog; the rank selection is most of the "
                              "work):\n  nmfbio signatures extract cat.tsv --seed 0 --shard "
                              "1/4 -o shards/   # ... 4/4\n  nmfbio signatures extract cat.tsv "
                              "--seed 0 --rank-shards shards/*.h5 -o sigs/\n  gives exactly "
                              "the unsharded result.")
    e.add_argument("catalog", metavar="CATALOG", nargs="+", help=_CATALOG_HELP + "; several "
                   "(of different types, same samples) for a joint extraction")
    e.add_argument("--weights", choices=("counts", "equal"), default="counts",
                   help="joint extraction: fit the counts as they are, or scale each type "
                   "to equal total weight (default: %(default)s)")
    e.add_argument("-o", "--outdir", required=True)
    e.add_argument("--ranks", default="1-15", help="candidate ranks (default: %(default)s)")
    e.add_argument("--rank", type=positive_int, default=None,
                   help="use this rank instead of the recommended one")
    e.add_argument("--choose", choices=("largest", "smallest"), default="largest",
                   help="rank rule: 'largest' (the most signatures whose held-out error is "
                   "within two standard errors of the best, as are the ranks between: "
                   "separates processes that "
                   "predict equally well, as real cohorts need) or 'smallest' (parsimony, "
                   "as 'nmfbio rank') (default: %(default)s)")
    e.add_argument("--restarts", type=positive_int, default=100,
                   help="consensus restarts (default: %(default)s)")
    e.add_argument("--resample", choices=("poisson", "multinomial", "none"), default="poisson")
    e.add_argument("--seed", type=nonneg_int, default=None)
    e.add_argument("--normalize", default="gmm", metavar="METHOD",
                   help="scale hypermutated samples down before fitting: gmm (cutoff from "
                   "a mixture of the sample totals, at least 100 × channels), 100X, log2, "
                   "none, or a number of mutations; exposures are refitted on the raw counts "
                   "(default: %(default)s)")
    e.add_argument("--volume", type=nonneg_float, default=0.0,
                   help="minimum-volume refinement of the consensus signatures (λ̃; 0: "
                   "none): can tighten flat, overlapping signatures such as SBS3/SBS5/SBS40 "
                   "in generated mixtures, but on real genomes it recovered fewer known "
                   "signatures (default: %(default)s)")
    e.add_argument("--merge", type=cosine_threshold, default=0.93, metavar="COSINE",
                   help="merge consensus components at least this alike into one signature "
                   "(a process split in two; no two COSMIC v3.4 signatures but SBS10d/SBS56 "
                   "are this alike); 1: only identical ones (default: %(default)s)")
    e.add_argument("--reference", help="reference signature file to match against")
    e.add_argument("--shard", type=shard_type, default=None, metavar="I/N",
                   help="only score shard I of N of the rank selection (most of the work) "
                   "and write it to OUTDIR/rank-I-of-N.h5; then extract with --rank-shards "
                   "(needs --seed; give every run the same options)")
    e.add_argument("--rank-shards", nargs="+", default=None, metavar="FILE",
                   help="the files of every --shard run: the rank selection is combined from "
                   "them instead of computed (the result of one unsharded run; needs the "
                   "shards' --seed and options)")
    e.add_argument("-q", "--quiet", action="store_true")
    e.set_defaults(run=_run_extract)

    m = sub.add_parser("match", help="compare signatures with a reference set",
                       description="Cosine matrix, one-to-one matches and decomposition of "
                                   "each signature into the reference set.")
    m.add_argument("signatures", metavar="SIGNATURES", help="signature file (COSMIC layout)")
    m.add_argument("--reference", required=True, help="reference signature file (COSMIC "
                   "layout) or a registered name")
    m.add_argument("-o", "--outdir", required=True)
    m.add_argument("-q", "--quiet", action="store_true")
    m.set_defaults(run=_run_match)

    a = sub.add_parser("assign", help="exposures of known signatures per sample (refitting)",
                       description="Refit known signatures to each sample with sparse "
                                   "forward/backward selection; optional bootstrap intervals.")
    a.add_argument("catalog", metavar="CATALOG", help=_CATALOG_HELP)
    a.add_argument("--reference", required=True, help="reference signature file or name")
    a.add_argument("--bootstrap", type=nonneg_int, default=0, help="resamples for 95 %% "
                   "intervals (default: 0)")
    a.add_argument("--method", choices=("cosine", "likelihood"), default="cosine",
                   help="selection of each sample's signatures: by reconstruction cosine "
                   "(SigProfilerAssignment's rule) or by Poisson likelihood with an "
                   "over-dispersion allowance (MuSiCal-like; slower, more accurate "
                   "exposures) (default: %(default)s)")
    a.add_argument("--seed", type=nonneg_int, default=None)
    a.add_argument("-o", "--outdir", required=True)
    a.add_argument("-q", "--quiet", action="store_true")
    a.set_defaults(run=_run_assign)

    at = sub.add_parser("attribute", help="probability of each signature for each mutation of "
                                          "VCF/MAF files",
                        description="For every mutation of the VCF/MAF files, the probability "
                                    "that each signature made it (W·E at its channel and "
                                    "sample, normalised; SigProfilerAssignment's "
                                    "'probabilities'). The mutations are counted as by "
                                    "'nmfbio signatures catalog', in the signatures' type.")
    at.add_argument("inputs", nargs="+", metavar="INPUT", help=".vcf/.vcf.gz files or one "
                    ".maf(.gz)")
    at.add_argument("--fasta", required=True, help="reference genome FASTA of the calls")
    at.add_argument("--signatures", required=True, help="signatures.tsv (COSMIC layout) of "
                    "'signatures extract', or a reference file/name used by 'assign'")
    at.add_argument("--exposures", required=True, help="exposures.tsv (samples × signatures) "
                    "of 'signatures extract' or 'signatures assign'")
    at.add_argument("--annotation", metavar="GTF_OR_BED", help="genes, for stranded types")
    at.add_argument("--doublets", choices=("split", "separate"), default="split")
    at.add_argument("--all-filters", action="store_true",
                    help="keep non-PASS variants (default: PASS only)")
    at.add_argument("--chrom-alias", choices=("none", "auto"), default="none")
    at.add_argument("-o", "--output", help="output TSV (default: probabilities.tsv beside the "
                    "exposures)")
    at.add_argument("-q", "--quiet", action="store_true")
    at.set_defaults(run=_run_attribute)

    op = sub.add_parser("opportunities", help="tri-/pentanucleotide counts of a genome or of "
                                              "target regions (for 'convert')",
                        description="Count how often each pyrimidine-centred context occurs "
                                    "in the FASTA, or in the BED regions of a capture kit, "
                                    "both strands (contexts with N are not counted). Writes "
                                    "a TSV: Context, Count.")
    op.add_argument("fasta", metavar="FASTA", help="reference genome (.fa, .fa.gz)")
    op.add_argument("--regions", metavar="BED", help="target regions (default: every "
                    "sequence, whole)")
    op.add_argument("--width", type=int, choices=(1, 2), default=1, help="bases on each "
                    "side: 1 = the 32 trinucleotides of SBS96/288/384, 2 = the 512 "
                    "pentanucleotides of SBS1536 (default: 1)")
    op.add_argument("-o", "--output", required=True, help="output TSV")
    op.add_argument("-q", "--quiet", action="store_true")
    op.set_defaults(run=_run_opportunities)

    cv = sub.add_parser("convert", help="signatures moved from one territory's opportunities "
                                        "to another's (genome ↔ exome)",
                        description="Weight each SBS channel by target/source opportunities "
                                    "of its context and renormalise each signature, e.g. "
                                    "genome signatures for an exome cohort.")
    cv.add_argument("signatures", metavar="SIGNATURES", help="signature file (COSMIC layout) "
                    "or a registered name; SBS96, SBS288, SBS384 or SBS1536")
    cv.add_argument("--source", required=True, metavar="TSV", help="opportunities of the "
                    "territory the signatures come from ('signatures opportunities')")
    cv.add_argument("--target", required=True, metavar="TSV", help="opportunities of the "
                    "territory wanted")
    cv.add_argument("-o", "--output", required=True, help="output TSV (COSMIC layout)")
    cv.add_argument("-q", "--quiet", action="store_true")
    cv.set_defaults(run=_run_convert)

    pl = sub.add_parser("plot", help="bar plots of signatures in their type's layout "
                                     "(SBS96, DBS78, ID83, …; PNG/PDF/SVG)")
    pl.add_argument("signatures", metavar="SIGNATURES", help="signature file (COSMIC layout)")
    pl.add_argument("-o", "--output", required=True, help="figure file: .png, .pdf or .svg")
    pl.set_defaults(run=_run_plot)


def _run_catalog(args) -> int:
    from nmfbio._atomic import atomic_path, check_not_input
    from nmfbio.data import as_frame
    from nmfbio.errors import NMFInputError
    from nmfbio.io import catalog_from_maf, catalog_from_vcf
    from nmfbio.io.mutation_types import mutation_type

    types = [mutation_type(t).name for t in args.context.split(",") if t.strip()]
    if not types:
        raise NMFInputError("--context names no mutation type, e.g. --context SBS96,DBS78,ID83")
    output = Path(args.output)
    outputs = ({types[0]: output} if len(types) == 1 else
               {t: output.with_name(f"{output.stem}.{t}{output.suffix or '.tsv'}")
                for t in types})
    check_not_input(outputs.values(), args.inputs)
    lower = [p.lower() for p in args.inputs]
    alias = "auto" if args.chrom_alias == "auto" else None
    options = dict(context=types, annotation=args.annotation, doublets=args.doublets,
                   chrom_alias=alias, pass_only=not args.all_filters,
                   max_ref_mismatch=args.max_ref_mismatch)
    if all(p.endswith((".vcf", ".vcf.gz")) for p in lower):
        if not args.fasta:
            raise NMFInputError("--fasta is needed to read the context of the VCFs' mutations")
        catalogs = catalog_from_vcf(args.inputs, args.fasta, **options)
    elif all(p.endswith((".maf", ".maf.gz")) for p in lower) and len(args.inputs) == 1:
        if not args.fasta:
            raise NMFInputError("--fasta is needed to read the context of the MAF's mutations")
        catalogs = catalog_from_maf(args.inputs[0], args.fasta, **options)
    elif len(args.inputs) == 1:
        ad = _read_catalog(args.inputs[0])
        kind = ad.uns.get("catalog", {}).get("mutation_type", types[0])
        if len(types) > 1 or (args.context != "SBS96" and kind != types[0]):
            raise NMFInputError(f"{args.inputs[0]} is a {kind} matrix; --context chooses what "
                                "to count from VCF/MAF files, it cannot convert a matrix")
        catalogs = {kind: ad}
        outputs = {kind: output}
    else:
        raise NMFInputError("give VCF files, or one MAF, or one catalog matrix")
    for kind, ad in catalogs.items():
        frame = as_frame(ad, index_name="MutationType")
        with atomic_path(outputs[kind]) as tmp:
            frame.to_csv(tmp, sep="\t")
        skipped = ad.uns.get("catalog", {}).get("skipped", {})
        _say(args, f"{kind} catalog of {frame.shape[1]} samples, "
                   f"{int(frame.to_numpy().sum())} mutations; wrote {outputs[kind]}")
    shown = {k: v for k, v in skipped.items() if v}
    _say(args, f"skipped: {shown or 'none'}")
    return 0


def _run_extract(args) -> int:
    import nmfbio.signatures as sg
    from nmfbio.cli._common import parse_ranks

    ranks = parse_ranks(args.ranks)  # before reading: a bad list fails at once
    if args.shard is not None or args.rank_shards:
        _check_shard_args(args)
    if len(args.catalog) > 1:
        return _run_extract_joint(args, ranks)
    if args.weights != "counts":
        from nmfbio.errors import NMFInputError

        raise NMFInputError("--weights weighs the types of a joint extraction of several "
                            "catalogs; one catalog has one type: leave --weights out")
    if args.shard is not None:
        return _run_extract_shard(args, ranks)
    out, _ = _outdir(args, ["signatures.tsv", "exposures.tsv"], args.catalog)
    cat = _read_catalog(args.catalog[0])
    res = sg.extract(cat, ranks, restarts=args.restarts,
                     resample=None if args.resample == "none" else args.resample,
                     seed=args.seed, rank=args.rank, normalize=_normalize(args.normalize),
                     volume=args.volume, choose=args.choose, merge=args.merge,
                     shards=args.rank_shards)
    from nmfbio.plot.signatures import save

    mres = sg.match(res.signatures, sg.reference(args.reference)) if args.reference else None
    names = ["signatures.tsv", "exposures.tsv", "stability.tsv", "rank_selection.tsv",
             "normalization.tsv", "signatures.png", "exposures.png", "rank_selection.png",
             "stability.png"]
    names += ["matches.tsv", "decomposition.tsv"] if mres is not None else []
    with output_set(out, names, command="nmfbio signatures extract"):
        written = res.to_tsv(out)
        for name, figure in (("signatures.png", res.plot_signatures),
                             ("exposures.png", res.plot_exposures),
                             ("rank_selection.png", res.selection.plot),
                             ("stability.png", res.consensus.plot_stability)):
            written.append(save(figure(), out / name))
        if mres is not None:
            write_tsv(mres.pairs, out / "matches.tsv", "denovo")
            write_tsv(mres.decomposition, out / "decomposition.tsv", "denovo")
            written += [out / "matches.tsv", out / "decomposition.tsv"]
    _say(args, f"{res.summary()}\nwrote {', '.join(p.name for p in written)} to {out}")
    return 0


def _check_shard_args(args) -> None:
    from nmfbio.errors import NMFInputError

    if len(args.catalog) > 1:
        raise NMFInputError("--shard and --rank-shards split the rank selection of one "
                            "catalog; a joint extraction of several catalogs is not sharded")
    if args.shard is not None and args.rank_shards:
        raise NMFInputError("--shard scores one shard and --rank-shards combines them all: "
                            "give one or the other")
    if args.shard is not None and args.seed is None:
        raise NMFInputError("--shard needs --seed (the same for every shard and for the "
                            "extraction that combines them)")


def _run_extract_shard(args, ranks) -> int:
    import nmfbio.signatures as sg

    i, n = args.shard
    name = f"rank-{i}-of-{n}.h5"
    out, paths = _outdir(args, [name], args.catalog)
    cat = _read_catalog(args.catalog[0])
    part = sg.extract_rank_shard(cat, ranks, shard=args.shard, seed=args.seed,
                                 normalize=_normalize(args.normalize), choose=args.choose,
                                 source={"input": str(args.catalog[0])})
    out.mkdir(parents=True, exist_ok=True)
    part.save(paths[name])
    done = ", ".join(str(s["rank"]) for s in part.scores)
    _say(args, f"rank-selection shard {i}/{n} of the extraction: scored ranks {done}; wrote "
               f"{name} to {out}")
    return 0


def _normalize(text: str):
    """--normalize: a method name, or a whole number of mutations (a cutoff)."""
    return int(text) if text.strip().isdigit() else text.strip()


def _run_extract_joint(args, ranks) -> int:
    import nmfbio.signatures as sg
    from nmfbio.errors import NMFInputError
    from nmfbio.plot.signatures import save

    if args.reference:
        raise NMFInputError("--reference matches one type; after a joint extraction run "
                            "'nmfbio signatures match OUT/signatures.<TYPE>.tsv --reference "
                            "...' for each type")
    if args.volume:
        raise NMFInputError("--volume refines the signatures of one catalog; a joint "
                            "extraction of several catalogs has no minimum-volume "
                            "refinement: leave --volume out")
    out, _ = _outdir(args, ["joint.h5"], args.catalog)
    res = sg.extract_joint({p: _read_catalog(p) for p in args.catalog}, ranks,
                           weights=args.weights, restarts=args.restarts,
                           resample=None if args.resample == "none" else args.resample,
                           seed=args.seed, rank=args.rank, choose=args.choose,
                           normalize=_normalize(args.normalize), merge=args.merge)
    names = [*(f"signatures.{t}.{x}" for t in res.types for x in ("tsv", "png")),
             "shares.tsv", "exposures.tsv", "stability.tsv", "rank_selection.tsv",
             "normalization.tsv", "joint.h5",
             "exposures.png", "rank_selection.png", "stability.png"]
    with output_set(out, names, command="nmfbio signatures extract (joint)"):
        written = res.to_tsv(out)
        res.save(out / "joint.h5")
        written.append(out / "joint.h5")
        for t in res.types:
            written.append(save(_plot_typed(res, t), out / f"signatures.{t}.png"))
        for name, figure in (("exposures.png", res.plot_exposures),
                             ("rank_selection.png", res.selection.plot),
                             ("stability.png", res.consensus.plot_stability)):
            written.append(save(figure(), out / name))
    _say(args, f"{res.summary()}\nwrote {', '.join(Path(p).name for p in written)} to {out}")
    return 0


def _plot_typed(res, mutation_type):
    from nmfbio.plot.signatures import plot_signatures

    shares = res.shares[mutation_type]
    return plot_signatures(res.signatures_of(mutation_type),
                           annotations={str(k): f"{v:.0%} of its mutations"
                                        for k, v in shares.items()})


def _run_match(args) -> int:
    import nmfbio.signatures as sg

    names = ["cosine.tsv", "matches.tsv", "decomposition.tsv", "cosine.png"]
    out, paths = _outdir(args, names, [args.signatures, args.reference])
    res = sg.match(sg.reference(args.signatures), sg.reference(args.reference))
    with output_set(out, names, command="nmfbio signatures match"):
        write_tsv(res.cosine, paths["cosine.tsv"], "denovo")
        write_tsv(res.pairs, paths["matches.tsv"], "denovo")
        write_tsv(res.decomposition, paths["decomposition.tsv"], "denovo")
        save_figure(res.plot(), paths["cosine.png"])
    _say(args, f"{res.summary()}\nwrote {', '.join(names)} to {out}")
    return 0


def _run_assign(args) -> int:
    import nmfbio.signatures as sg

    names = ["exposures.tsv", "cosine.tsv", "exposures.png"]
    out, paths = _outdir(args, names, [args.catalog, args.reference])
    res = sg.assign(_read_catalog(args.catalog), sg.reference(args.reference),
                    bootstrap=args.bootstrap, seed=args.seed, method=args.method)
    if args.bootstrap:
        names += ["exposures_lower.tsv", "exposures_upper.tsv"]
    with output_set(out, names, command="nmfbio signatures assign"):
        write_tsv(res.exposures, paths["exposures.tsv"], "Samples")
        write_tsv(res.cosine.to_frame(), paths["cosine.tsv"], "Samples")
        if args.bootstrap:
            write_tsv(res.lower, out / "exposures_lower.tsv", "Samples")
            write_tsv(res.upper, out / "exposures_upper.tsv", "Samples")
        save_figure(res.plot(), paths["exposures.png"])
    used = int((res.exposures > 0).any(axis=0).sum())
    _say(args, f"assigned {used} of {res.exposures.shape[1]} reference signatures to "
               f"{res.exposures.shape[0]} samples (median cosine "
               f"{float(res.cosine.median()):.3f}); wrote results to {out}")
    return 0


def _run_plot(args) -> int:
    import nmfbio.signatures as sg
    from nmfbio._atomic import check_not_input
    from nmfbio.plot.signatures import plot_signatures, save

    check_not_input([args.output], [args.signatures])
    save(plot_signatures(sg.reference(args.signatures)), args.output)
    return 0


def _run_attribute(args) -> int:
    import pandas as pd

    import nmfbio.signatures as sg
    from nmfbio._atomic import atomic_path, check_not_input
    from nmfbio.io import mutation_table
    from nmfbio.signatures._catalog import frame_type

    output = Path(args.output) if args.output else Path(args.exposures).with_name(
        "probabilities.tsv")
    check_not_input([output], [*args.inputs, args.signatures, args.exposures])
    sigs = sg.reference(args.signatures)
    exposures = pd.read_csv(args.exposures, sep="\t", index_col=0)
    mtype = frame_type(sigs, "signatures").name
    table = mutation_table(args.inputs, args.fasta, context=mtype, annotation=args.annotation,
                           doublets=args.doublets, pass_only=not args.all_filters,
                           chrom_alias="auto" if args.chrom_alias == "auto" else None)
    prob = sg.attribute(table, sigs, exposures)
    with atomic_path(output) as tmp:
        prob.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    share = prob["most_likely"].value_counts(normalize=True)
    _say(args, f"{len(prob)} {mtype} mutations of {prob['sample'].nunique()} samples; most "
               "likely signature: " + ", ".join(f"{k} {v:.0%}" for k, v in share.items())
               + f"; wrote {output}")
    return 0


def _run_opportunities(args) -> int:
    from nmfbio._atomic import check_not_input
    from nmfbio.io import opportunities

    check_not_input([args.output], [args.fasta, *([args.regions] if args.regions else [])])
    opp = opportunities(args.fasta, args.regions, width=args.width)
    write_tsv(opp.rename("Count").to_frame(), args.output, "Context")
    where = f"the regions of {args.regions}" if args.regions else f"all of {args.fasta}"
    _say(args, f"{len(opp)} contexts, {int(opp.sum())} in {where}; wrote {args.output}")
    return 0


def _read_opportunities(path):
    import pandas as pd

    from nmfbio.errors import FormatError
    from nmfbio.io._textfile import check_input_file

    path = check_input_file(path, "an opportunities TSV (Context, Count)")
    try:
        # as text, so that an error quotes the cell as written
        frame = pd.read_csv(path, sep="\t", index_col=0, comment="#", dtype=str,
                            keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FormatError(f"not a TSV of Context and Count: {exc}", path) from None
    if frame.shape[1] != 1:
        raise FormatError(f"{frame.shape[1] + 1} columns; an opportunities file has two "
                          "(Context, Count), as 'nmfbio signatures opportunities' writes",
                          path)
    counts = pd.to_numeric(frame.iloc[:, 0], errors="coerce")
    if counts.isna().any():
        row = int(counts.isna().to_numpy().argmax())
        cell = frame.iloc[row, 0]
        what = "is missing" if pd.isna(cell) or cell == "" else f"{cell!r} is not a number"
        raise FormatError(f"count {what}", path, row + 2, 2)
    return counts


def _run_convert(args) -> int:
    import nmfbio.signatures as sg
    from nmfbio._atomic import check_not_input

    check_not_input([args.output], [args.signatures, args.source, args.target])
    converted = sg.convert_opportunities(sg.reference(args.signatures),
                                         _read_opportunities(args.source),
                                         _read_opportunities(args.target))
    write_tsv(converted, args.output, "Type")
    _say(args, f"converted {converted.shape[1]} signatures ({converted.shape[0]} channels); "
               f"wrote {args.output}")
    return 0
