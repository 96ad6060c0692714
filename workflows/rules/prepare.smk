# Load/adapt the input: the field's file → results/data/data.h5ad (samples × features).
# With reader 'variants', VCF/MAF calls are first counted into the catalog of
# signatures.context (results/data/catalog.tsv; with several types, one
# results/data/catalog.<TYPE>.tsv each, and data.h5ad holds the first).


if config["reader"] == "variants":

    rule count_catalog:
        input:
            variants=variant_files(),
            fasta=input_path(config["signatures"]["fasta"]),
            annotation=annotation_files(),
        output:
            CATALOGS,
        log:
            "logs/count_catalog.log",
        conda:
            "../envs/nmfbio.yaml"
        params:
            options=catalog_options(),  # already quoted word by word
            out=CATALOG,  # several types: catalog.<TYPE>.tsv beside it
        resources:
            mem_mb=resources_of("count_catalog", "mem_mb"),
            runtime=resources_of("count_catalog", "runtime"),
        shell:
            "nmfbio signatures catalog {input.variants:q} --fasta {input.fasta:q} "
            "{params.options} -o {params.out:q} > {log:q} 2>&1"


rule convert:
    input:
        CATALOGS[0] if config["reader"] == "variants" else input_path(),
    output:
        DATA,
    log:
        "logs/convert.log",
    conda:
        "../envs/nmfbio.yaml"
    params:
        reader="catalog" if config["reader"] == "variants" else config["reader"],
        options=reader_options(),  # already quoted word by word
    resources:
        mem_mb=resources_of("convert", "mem_mb"),
        runtime=resources_of("convert", "runtime"),
    shell:
        "nmfbio convert {input:q} --reader {params.reader:q} {params.options} -o {output:q} "
        "> {log:q} 2>&1"
