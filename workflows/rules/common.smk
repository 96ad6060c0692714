# Helpers of the nmfbio workflow: config validation (with defaults from the schema), input
# paths, shard lists, the chosen rank and the final targets. No science: every step is an
# `nmfbio` command in the rules.

import re
import shlex
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("8.0")

validate(config, "../schemas/config.schema.yaml")

DATA = "results/data/data.h5ad"
CATALOG = "results/data/catalog.tsv"
DOMAIN = config["domain"]
# signatures.context: one type, or several counted together (and extracted jointly)
_CONTEXT = config["signatures"]["context"]
CONTEXTS = [_CONTEXT] if isinstance(_CONTEXT, str) else list(_CONTEXT)
JOINT = len(CONTEXTS) > 1
# the catalogs `nmfbio signatures catalog` writes: -o catalog.tsv, or one per type
CATALOGS = ([f"results/data/catalog.{t}.tsv" for t in CONTEXTS] if JOINT else [CATALOG])


def _checked_config():
    """Checks the schema cannot express: shard counts against their items, and which
    domains need which steps."""
    from nmfbio.cli._common import parse_ranks


    def shard_ranks(section, check):
        """The sorted ranks of config[section]; with ``check``, no more shards than ranks."""
        spec = config[section]
        ranks = sorted(set(parse_ranks(spec["ranks"])))
        if check and spec["shards"] > len(ranks):
            raise ValueError(
                f"{section}.shards = {spec['shards']} but only {len(ranks)} ranks "
                f"({spec['ranks']}): use at most {len(ranks)} shards"
            )
        return ranks

    generic = DOMAIN != "signatures"  # domain signatures has its own rank selection
    ranks = shard_ranks("rank_selection", generic)
    shard_ranks("signatures", not generic and not JOINT)  # a joint extraction is one job
    con = config["consensus"]
    if generic and con["shards"] > con["restarts"]:
        raise ValueError(
            f"consensus.shards = {con['shards']} exceeds consensus.restarts = "
            f"{con['restarts']}: every shard needs at least one restart"
        )
    if DOMAIN == "signatures" and not config["model_selection"]:
        raise ValueError("domain 'signatures' runs its own rank selection and consensus "
                         "(nmfbio signatures extract; with rank: N, at that rank): set "
                         "model_selection: true")
    if (DOMAIN == "programs" and not config["model_selection"] and config["rank"] == "auto"
            and config["programs"]["ranks"] is None):
        raise ValueError("domain 'programs' without model_selection needs rank: N or "
                         "programs.ranks: '2-10'")
    sig = config["signatures"]
    if config["reader"] == "variants":
        if not sig["fasta"]:
            raise ValueError("reader 'variants' counts mutations in their genome context: set "
                             "signatures.fasta to the FASTA the calls were made on")
        stranded = [t for t in CONTEXTS if t in ("SBS24", "SBS288", "SBS384")]
        if stranded and not sig["annotation"]:
            raise ValueError(f"signatures.context {stranded[0]} needs the transcriptional "
                             "strand: set signatures.annotation to a GTF or BED of the genes")
    elif JOINT:
        raise ValueError(f"signatures.context lists {len(CONTEXTS)} types, which are counted "
                         "from VCF/MAF calls: set reader: variants (or give one type)")
    if JOINT and DOMAIN != "signatures":
        raise ValueError(f"signatures.context lists {len(CONTEXTS)} types, for a joint "
                         f"extraction (domain signatures); domain {DOMAIN} models one "
                         "matrix: give one type")
    if JOINT and sig["reference"]:  # (a list outside domain signatures is refused above)
        raise ValueError("signatures.reference matches one type; a joint extraction of "
                         f"{', '.join(CONTEXTS)} writes signatures.<TYPE>.tsv per type: "
                         "leave the reference out and run 'nmfbio signatures match' on each")
    return ranks


RANKS = _checked_config()


def input_path(path=None):
    """The configured input as a path; 'nmfbio:NAME' is a file bundled with nmfbio."""
    path = config["input"] if path is None else path
    if path.startswith("nmfbio:"):
        from nmfbio.datasets import DATA_DIR

        return str(DATA_DIR / path.removeprefix("nmfbio:"))
    return path


def shell_words(*words):
    """Command-line words joined for a rule's shell, each one quoted (shlex.quote): a config
    value is always one argument and never shell syntax, whatever the schema let through."""
    return " ".join(shlex.quote(str(word)) for word in words)


VARIANT_SUFFIXES = (".vcf", ".vcf.gz", ".maf", ".maf.gz")


def variant_files():
    """The VCF/MAF files of reader 'variants': the input file, or those in the input folder."""
    path = Path(input_path())
    if not path.is_dir():
        return [str(path)]
    found = sorted(str(p) for p in path.iterdir() if p.name.lower().endswith(VARIANT_SUFFIXES))
    if not found:
        raise ValueError(f"input folder {path} holds no {', '.join(VARIANT_SUFFIXES)} file")
    return found


def annotation_files():
    path = config["signatures"]["annotation"]
    return [input_path(path)] if path else []


def catalog_options():
    """--context / --annotation / --doublets of `nmfbio signatures catalog` (quoted)."""
    sig = config["signatures"]
    opts = ["--context", ",".join(CONTEXTS), "--doublets", sig["doublets"]]
    if sig["annotation"]:
        opts += ["--annotation", input_path(sig["annotation"])]
    return shell_words(*opts)


def reader_options():
    """--samples-in / --layer for `nmfbio convert`, when set (quoted)."""
    opts = []
    if config["samples_in"]:
        opts += ["--samples-in", config["samples_in"]]
    if config["layer"]:
        opts += ["--layer", config["layer"]]
    return shell_words(*opts)


def assemblies_options():
    """The options of `nmfbio assemblies detect` set in the config's `assemblies` section
    (quoted)."""
    asm = config["assemblies"]
    opts = ["--bin-width", asm["bin_width"], "--method", asm["method"],
            "--format", asm["format"], "--seed", config["seed"]]
    if asm["window"] is not None:
        opts += ["--window", asm["window"][0], asm["window"][1]]
    for key in ("rank", "include", "time_unit", "sample_rate", "bins_in"):
        if asm[key] is not None:
            opts += [f"--{key.replace('_', '-')}", asm[key]]
    return shell_words(*opts)


def resources_of(rule, key):
    """A cluster resource of a rule (config 'resources', then its 'default')."""
    res = config["resources"]
    return res.get(rule, {}).get(key, res["default"][key])


def shard_list(n):
    return [f"{i}-of-{n}" for i in range(1, n + 1)]


def rank_shards(wildcards=None):
    n = config["rank_selection"]["shards"]
    return expand("results/rank/shards/rank-{s}.h5", s=shard_list(n))


def signature_shards():
    n = config["signatures"]["shards"]
    return expand("results/signatures/shards/rank-{s}.h5", s=shard_list(n))


def extract_options(final=False):
    """The options of `nmfbio signatures extract` (quoted): those every rank-selection
    shard and the final extraction share, and with ``final`` the consensus's own."""
    sig = config["signatures"]
    opts = ["--ranks", sig["ranks"], "--seed", config["seed"], "--normalize",
            sig["normalize"], "--choose", sig["choose"], "-q"]
    if final:
        opts += ["--restarts", sig["restarts"], "--resample", sig["resample"], "--merge",
                 sig["merge"]]
        if config["rank"] != "auto":
            opts += ["--rank", config["rank"]]
        if JOINT:
            opts += ["--weights", sig["weights"]]
        if sig["reference"]:
            opts += ["--reference", input_path(sig["reference"])]
    return shell_words(*opts)


def signatures_out():
    """The files `nmfbio signatures extract` writes (with a reference, the matches too;
    for a joint extraction, each type's profiles, the shares and joint.h5)."""
    common = ["exposures.tsv", "stability.tsv", "rank_selection.tsv", "normalization.tsv",
              "exposures.png", "rank_selection.png", "stability.png"]
    if JOINT:
        return [*(f"signatures.{t}.{x}" for t in CONTEXTS for x in ("tsv", "png")),
                "shares.tsv", "joint.h5", *common]
    out = ["signatures.tsv", "signatures.png", *common]
    if config["signatures"]["reference"]:
        out += ["matches.tsv", "decomposition.tsv"]
    return out


def consensus_shards(wildcards):
    n = config["consensus"]["shards"]
    return expand("results/consensus/k{rank}/shards/runs-{s}.h5", rank=wildcards.rank,
                  s=shard_list(n))


def read_best_rank(path):
    """The recommended rank from the '# best=K; rule: ...' line of rank_selection.tsv."""
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    match = re.match(r"# best=(\d+);", first)
    if match is None:
        raise ValueError(f"{path}: first line should start with '# best=K;', got {first!r}")
    return int(match.group(1))


def chosen_rank():
    """config 'rank', or the rank recommended by rank selection (after that checkpoint)."""
    if config["rank"] != "auto":
        return int(config["rank"])
    if not config["model_selection"]:
        return None
    return read_best_rank(checkpoints.combine_rank.get().output.table)


def consensus_ranks():
    k = chosen_rank()
    return sorted({k, *config["consensus"]["also_ranks"]} - {None})


CONSENSUS_OUT = ["W.tsv", "H.tsv", "stability.tsv", "consensus.h5", "stability.png",
                 "run_cosines.png"]
PROGRAMS_OUT = ["programs.tsv", "usage.tsv", "scores.tsv", "top_genes.tsv",
                "rank_selection.tsv", "result.h5ad"]


def reference_files(wildcards):
    """The signatures reference file as an input (none for a registered name like
    COSMIC_v3.4_SBS_GRCh37, which nmfbio finds itself; none without a reference)."""
    if not config["signatures"]["reference"]:
        return []
    path = input_path(config["signatures"]["reference"])
    return [path] if Path(path).exists() else []


def programs_ranks(wildcards):
    """--ranks of `nmfbio programs find`: programs.ranks, or the rank in the folder name."""
    if wildcards.which == "selected":
        return config["programs"]["ranks"]
    return wildcards.which.removeprefix("k")


def domain_dir():
    """The folder of the domain step's results (None for domain 'none')."""
    if DOMAIN == "signatures":
        return "results/signatures"
    k = chosen_rank()
    if DOMAIN == "programs":
        if config["programs"]["ranks"] is not None:  # programs chooses among its ranks
            return "results/programs/selected"
        return f"results/programs/k{k}"
    if DOMAIN == "assemblies":
        return "results/assemblies"
    return None


def domain_targets():
    folder = domain_dir()
    if DOMAIN == "signatures":
        out = [f"{folder}/{name}" for name in signatures_out()]
        if config["signatures"]["reference"]:
            out.append("results/signatures/assign/exposures.tsv")
        return out
    if DOMAIN == "programs":
        return [f"{folder}/{name}" for name in PROGRAMS_OUT]
    if DOMAIN == "assemblies":
        return [folder]
    return []


def model_selection_targets():
    """The generic rank selection and consensus (domain signatures has its own)."""
    if not config["model_selection"] or DOMAIN == "signatures":
        return []
    out = ["results/rank/rank_selection.tsv"] if config["rank"] == "auto" else []
    for k in consensus_ranks():
        out += [f"results/consensus/k{k}/{name}" for name in CONSENSUS_OUT]
    return out


def report_folders():
    """The result folders the report shows: rank selection, consensus, the domain's."""
    folders = []
    if config["model_selection"] and DOMAIN != "signatures":
        if config["rank"] == "auto":
            folders.append("results/rank")
        folders += [f"results/consensus/k{k}" for k in consensus_ranks()]
    if DOMAIN == "signatures":  # the extraction (rank selection, consensus, exposures)
        folders.append(domain_dir())
        if config["signatures"]["reference"]:
            folders.append("results/signatures/assign")
    elif DOMAIN != "none":
        folders.append(domain_dir())
    return folders


def final_targets(wildcards):
    """Everything `rule all` asks for (after the rank checkpoint when rank is 'auto')."""
    out = model_selection_targets() + domain_targets()
    if config["report"]:
        out.append("results/report.html")
    return out


wildcard_constraints:
    rank=r"\d+",
    i=r"\d+",
    n=r"\d+",
