# One self-contained HTML page of every result folder (`nmfbio report`). Switch it off with
# `report: false` in the config.


rule report:
    input:
        lambda wildcards: model_selection_targets() + domain_targets(),
    output:
        "results/report.html",
    log:
        "logs/report.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        folders=lambda wildcards: report_folders(),
    resources:
        mem_mb=resources_of("report", "mem_mb"),
        runtime=resources_of("report", "runtime"),
    shell:
        "nmfbio report {params.folders:q} -o {output:q} > {log:q} 2>&1"
