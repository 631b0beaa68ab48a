# The robustness atlases (on request): every listed claim under each variant of the choices the paper
# leaves open (config 'atlases'); a variant's runs are the baseline's wherever it changes nothing
# they depend on (see collective_action/planning/atlas.py).


# An atlas's claims under one variant, from that variant's tables.
rule atlas_claims:
    input:
        unpack(JOBS["atlas_claims"].inputs),
    output:
        paths.pattern("atlas_variant"),
        paths.pattern("atlas_variant") + ".prov.json",
    log:
        "logs/atlas/{atlas}/claims_{variant}.log",
    conda:
        ENV
    params:
        spec=JOBS["atlas_claims"].params,
    script:
        STEP_SCRIPT


# One row per claim and variant (overrides, verdict, main effect with its interval), and per claim
# "holds in k of n variants".
rule atlas:
    input:
        unpack(JOBS["atlas"].inputs),
    output:
        csv=report(
            paths.pattern("atlas_csv"),
            caption="../report/atlas.rst",
            category="Atlas",
        ),
        md=paths.pattern("atlas_md"),
        csv_prov=paths.pattern("atlas_csv") + ".prov.json",
        md_prov=paths.pattern("atlas_md") + ".prov.json",
    log:
        "logs/atlas/{atlas}/summary.log",
    conda:
        ENV
    params:
        spec=JOBS["atlas"].params,
    script:
        STEP_SCRIPT
