# Domain interpretation, chosen by `domain:` in the config:
#   signatures  the consensus parts at the chosen rank as 96-channel profiles; with
#               signatures.reference also their matches to it and the refitted exposures
#   programs    `nmfbio programs find` (gene selection, normalisation, consensus, usages)
#               at the chosen rank, or choosing among programs.ranks
#   assemblies  `nmfbio assemblies detect` on the spike data (assemblies.input or input)
# Only the chosen domain's rules are asked for by `rule all`.


rule signatures_plot:
    input:
        "results/consensus/k{rank}/W.tsv",
    output:
        "results/signatures/k{rank}/signatures.png",
    log:
        "logs/signatures/k{rank}/plot.log",
    conda:
        "../envs/nmfbio.yaml"
    resources:
        mem_mb=resources_of("signatures_plot", "mem_mb"),
        runtime=resources_of("signatures_plot", "runtime"),
    shell:
        "nmfbio signatures plot {input:q} -o {output:q} > {log:q} 2>&1"


if config["signatures"]["reference"]:  # matching and refitting need a reference set

    rule signatures_match:
        input:
            signatures="results/consensus/k{rank}/W.tsv",
            reference=reference_files,
        output:
            expand("results/signatures/k{{rank}}/match/{name}",
                   name=["cosine.tsv", "matches.tsv", "decomposition.tsv", "cosine.png"]),
        log:
            "logs/signatures/k{rank}/match.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            reference=input_path(config["signatures"]["reference"]),
            outdir=lambda wildcards, output: Path(output[0]).parent,
        resources:
            mem_mb=resources_of("signatures_match", "mem_mb"),
            runtime=resources_of("signatures_match", "runtime"),
        shell:
            "nmfbio signatures match {input.signatures:q} --reference {params.reference:q} "
            "-o {params.outdir:q} > {log:q} 2>&1"


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
