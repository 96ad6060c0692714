# Load/adapt the input: the field's file → results/data/data.h5ad (samples × features).


rule convert:
    input:
        input_path(),
    output:
        DATA,
    log:
        "logs/convert.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        reader=config["reader"],
        options=reader_options(),  # already quoted word by word
    resources:
        mem_mb=resources_of("convert", "mem_mb"),
        runtime=resources_of("convert", "runtime"),
    shell:
        "nmfbio convert {input:q} --reader {params.reader:q} {params.options} -o {output:q} "
        "> {log:q} 2>&1"
