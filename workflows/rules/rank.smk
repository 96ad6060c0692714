# Rank selection by held-out cross-validation and stability, the ranks split into shards
# (one job each), then combined; the combine step is a checkpoint because the chosen rank
# decides which consensus jobs exist.


rule rank_shard:
    input:
        DATA,
    output:
        "results/rank/shards/rank-{i}-of-{n}.h5",
    log:
        "logs/rank/shard-{i}-of-{n}.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        ranks=config["rank_selection"]["ranks"],
        holdout=config["rank_selection"]["holdout"],
        repeats=config["rank_selection"]["repeats"],
        restarts=config["rank_selection"]["restarts"],
        choose=config["rank_selection"]["choose"],
        seed=config["seed"],
        loss=config["loss"],
        max_iter=config["max_iter"],
        outdir=lambda wildcards, output: Path(output[0]).parent,
    threads: config["threads"]
    resources:
        mem_mb=resources_of("rank_shard", "mem_mb"),
        runtime=resources_of("rank_shard", "runtime"),
    shell:
        "NUMBA_NUM_THREADS={threads} nmfbio rank {input:q} --ranks {params.ranks:q} "
        "--holdout {params.holdout:q} --repeats {params.repeats:q} --restarts {params.restarts:q} "
        "--choose {params.choose:q} "
        "--loss {params.loss:q} --max-iter {params.max_iter:q} --seed {params.seed:q} "
        "--shard {wildcards.i}/{wildcards.n} -o {params.outdir:q} > {log:q} 2>&1"


checkpoint combine_rank:
    input:
        rank_shards(),
    output:
        table="results/rank/rank_selection.tsv",
        plot="results/rank/rank_selection.png",
    log:
        "logs/rank/combine.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        outdir=lambda wildcards, output: Path(output.table).parent,
    resources:
        mem_mb=resources_of("combine_rank", "mem_mb"),
        runtime=resources_of("combine_rank", "runtime"),
    shell:
        "nmfbio combine {input:q} -o {params.outdir:q} > {log:q} 2>&1"
