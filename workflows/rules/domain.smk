# Domain interpretation, chosen by `domain:` in the config:
#   signatures  `nmfbio signatures extract` with its rank selection in shards
#               (`--shard i/n`, then `--rank-shards`): the same signatures as one
#               unsharded extraction; with signatures.reference also their matches to it
#               and the known signatures refitted to every sample. With several
#               signatures.context types, one joint extraction of their catalogs (one job)
#   programs    `nmfbio programs find` (gene selection, normalisation, consensus, usages)
#               at the chosen rank, or choosing among programs.ranks
#   assemblies  `nmfbio assemblies detect` on the spike data (assemblies.input or input)
# Only the chosen domain's rules are asked for by `rule all`.


if JOINT:  # several types counted from the same calls: one joint extraction (not sharded)

    rule signatures_joint:
        input:
            CATALOGS,
        output:
            [f"results/signatures/{name}" for name in signatures_out()],
        log:
            "logs/signatures/extract.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            options=lambda wildcards: extract_options(final=True),  # already quoted
            outdir=lambda wildcards, output: Path(output[0]).parent,
        threads: config["threads"]
        resources:
            mem_mb=resources_of("signatures_joint", "mem_mb"),
            runtime=resources_of("signatures_joint", "runtime"),
        shell:
            "NUMBA_NUM_THREADS={threads} nmfbio signatures extract {input:q} "
            "{params.options} -o {params.outdir:q} > {log:q} 2>&1"

else:

    rule signatures_rank_shard:
        input:
            DATA,
        output:
            "results/signatures/shards/rank-{i}-of-{n}.h5",
        log:
            "logs/signatures/shard-{i}-of-{n}.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            options=lambda wildcards: extract_options(),  # already quoted word by word
            outdir=lambda wildcards, output: Path(output[0]).parent,
        threads: config["threads"]
        resources:
            mem_mb=resources_of("signatures_rank_shard", "mem_mb"),
            runtime=resources_of("signatures_rank_shard", "runtime"),
        shell:
            "NUMBA_NUM_THREADS={threads} nmfbio signatures extract {input:q} {params.options} "
            "--shard {wildcards.i}/{wildcards.n} -o {params.outdir:q} > {log:q} 2>&1"


    rule signatures_extract:
        input:
            catalog=DATA,
            shards=signature_shards(),
            reference=reference_files,
        output:
            [f"results/signatures/{name}" for name in signatures_out()],
        log:
            "logs/signatures/extract.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            options=lambda wildcards: extract_options(final=True),  # already quoted
            outdir=lambda wildcards, output: Path(output[0]).parent,
        threads: config["threads"]
        resources:
            mem_mb=resources_of("signatures_extract", "mem_mb"),
            runtime=resources_of("signatures_extract", "runtime"),
        shell:
            "NUMBA_NUM_THREADS={threads} nmfbio signatures extract {input.catalog:q} "
            "{params.options} --rank-shards {input.shards:q} -o {params.outdir:q} > {log:q} 2>&1"


if config["signatures"]["reference"]:  # refitting needs a reference set

    rule signatures_assign:
        input:
            catalog=DATA,
            reference=reference_files,
        output:
            expand("results/signatures/assign/{name}",
                   name=["exposures.tsv", "cosine.tsv", "exposures.png"]),
        log:
            "logs/signatures/assign.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            reference=input_path(config["signatures"]["reference"]),
            bootstrap=config["signatures"]["bootstrap"],
            seed=config["seed"],
            outdir=lambda wildcards, output: Path(output[0]).parent,
        resources:
            mem_mb=resources_of("signatures_assign", "mem_mb"),
            runtime=resources_of("signatures_assign", "runtime"),
        shell:
            "nmfbio signatures assign {input.catalog:q} --reference {params.reference:q} "
            "--bootstrap {params.bootstrap:q} --seed {params.seed:q} -o {params.outdir:q} "
            "> {log:q} 2>&1"


rule programs_find:
    input:
        DATA,
    output:
        expand("results/programs/{{which}}/{name}", name=PROGRAMS_OUT),
    log:
        "logs/programs/{which}/find.log",
    conda:
        "../envs/nmfbio.yaml"
    wildcard_constraints:
        which=r"k\d+|selected",
    params:
        ranks=programs_ranks,
        n_top_genes=config["programs"]["n_top_genes"],
        restarts=config["programs"]["restarts"],
        seed=config["seed"],
        outdir=lambda wildcards, output: Path(output[0]).parent,
    threads: config["threads"]
    resources:
        mem_mb=resources_of("programs_find", "mem_mb"),
        runtime=resources_of("programs_find", "runtime"),
    shell:
        "NUMBA_NUM_THREADS={threads} nmfbio programs find {input:q} --ranks {params.ranks:q} "
        "--n-top-genes {params.n_top_genes:q} --restarts {params.restarts:q} "
        "--seed {params.seed:q} -o {params.outdir:q} > {log:q} 2>&1"


rule assemblies_detect:
    input:
        input_path(config["assemblies"]["input"] or config["input"]),
    output:
        directory("results/assemblies"),
    log:
        "logs/assemblies/detect.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        options=assemblies_options(),  # already quoted word by word
    threads: config["threads"]
    resources:
        mem_mb=resources_of("assemblies_detect", "mem_mb"),
        runtime=resources_of("assemblies_detect", "runtime"),
    shell:
        "NUMBA_NUM_THREADS={threads} nmfbio assemblies detect {input:q} {params.options} "
        "-o {output:q} > {log:q} 2>&1"
