# Consensus at each rank: the restarts split into shards (rank × restart chunk, one job
# each, `nmfbio consensus --shard i/n`), then combined into the consensus parts, their
# stability and the refitted recipes (`nmfbio combine`), identical to one unsharded run.


rule consensus_shard:
    input:
        DATA,
    output:
        "results/consensus/k{rank}/shards/runs-{i}-of-{n}.h5",
    log:
        "logs/consensus/k{rank}/shard-{i}-of-{n}.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        restarts=config["consensus"]["restarts"],
        resample=config["consensus"]["resample"],
        threshold=config["consensus"]["threshold"],
        seed=config["seed"],
        loss=config["loss"],
        max_iter=config["max_iter"],
        outdir=lambda wildcards, output: Path(output[0]).parent,
    threads: config["threads"]
    resources:
        mem_mb=resources_of("consensus_shard", "mem_mb"),
        runtime=resources_of("consensus_shard", "runtime"),
    shell:
        "NUMBA_NUM_THREADS={threads} nmfbio consensus {input:q} -k {wildcards.rank:q} "
        "--restarts {params.restarts:q} --resample {params.resample:q} "
        "--threshold {params.threshold:q} --loss {params.loss:q} --max-iter {params.max_iter:q} "
        "--seed {params.seed:q} --shard {wildcards.i}/{wildcards.n} -o {params.outdir:q} "
        "> {log:q} 2>&1"


rule combine_consensus:
    input:
        shards=consensus_shards,
        data=DATA,
    output:
        expand("results/consensus/k{{rank}}/{name}", name=CONSENSUS_OUT),
    log:
        "logs/consensus/k{rank}/combine.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        outdir=lambda wildcards, output: Path(output[0]).parent,
    resources:
        mem_mb=resources_of("combine_consensus", "mem_mb"),
        runtime=resources_of("combine_consensus", "runtime"),
    shell:
        "nmfbio combine {input.shards:q} --input {input.data:q} -o {params.outdir:q} "
        "> {log:q} 2>&1"
