# The robustness atlas (on request): every listed claim under each variant of the choices the paper
# leaves open (config 'robustness'); a variant's runs are the baseline's wherever it changes nothing
# they depend on (see collective_action/planning/atlas.py).


# The atlas's claims under one variant, from that variant's tables.
rule robustness_claims:
    input:
        unpack(JOBS["robustness_claims"].inputs),
    output:
        paths.path("variant_claims", variant="{variant}"),
        paths.path("variant_claims", variant="{variant}") + ".prov.json",
    log:
        "logs/robustness/claims_{variant}.log",
    conda:
        ENV
    params:
        spec=JOBS["robustness_claims"].params,
    script:
        STEP_SCRIPT


# One row per claim and variant (overrides, verdict, main effect with its interval), and per claim
# "holds in k of n variants".
rule robustness:
    input:
        unpack(JOBS["robustness"].inputs),
    output:
        csv=report(
            paths.path("robustness_csv"),
            caption="../report/robustness.rst",
            category="Robustness",
        ),
        md=paths.path("robustness_md"),
        csv_prov=paths.path("robustness_csv") + ".prov.json",
        md_prov=paths.path("robustness_md") + ".prov.json",
    log:
        "logs/robustness/summary.log",
    conda:
        ENV
    params:
        spec=JOBS["robustness"].params,
    script:
        STEP_SCRIPT
