# Tidy CSV of one panel: one row per run and stopping rule.
rule table:
    input:
        JOBS["table"].inputs,
    output:
        report(
            paths.pattern("table"),
            caption="../report/caption.rst",
            category="Tables",
        ),
        paths.pattern("table") + ".prov.json",
    log:
        "logs/table/{panel}.log",
    conda:
        ENV
    params:
        spec=JOBS["table"].params,
        caption=lambda wc: captions.table(PLAN, wc.panel),
    script:
        STEP_SCRIPT


# Tidy CSV of a panel's per-epoch metrics at its per_epoch_alphas (Fig 3a).
rule epoch_table:
    input:
        JOBS["epoch_table"].inputs,
    output:
        paths.pattern("epoch_table"),
        paths.pattern("epoch_table") + ".prov.json",
    log:
        "logs/table/{panel}_epochs.log",
    conda:
        ENV
    params:
        spec=JOBS["epoch_table"].params,
    script:
        STEP_SCRIPT


# A study's claims, computed from its panels' tables only.
rule claims:
    input:
        unpack(JOBS["claims"].inputs),
    output:
        csv=report(
            paths.pattern("claims_csv"),
            caption="../report/claims.rst",
            category="Claims",
        ),
        md=paths.pattern("claims_md"),
        csv_prov=paths.pattern("claims_csv") + ".prov.json",
        md_prov=paths.pattern("claims_md") + ".prov.json",
    log:
        "logs/claims/{study}.log",
    conda:
        ENV
    params:
        spec=JOBS["claims"].params,
    script:
        STEP_SCRIPT


# One figure (PDF and its provenance sidecar) from tables and data.
rule figure:
    input:
        unpack(JOBS["figure"].inputs),
    output:
        report(
            paths.pattern("figure"),
            caption="../report/caption.rst",
            category="Figures",
        ),
        paths.pattern("figure") + ".prov.json",
        paths.pattern("figure_png"),
    log:
        "logs/figure/{figure}.log",
    conda:
        ENV
    params:
        spec=JOBS["figure"].params,
        caption=lambda wc: captions.figure(PLAN, wc.figure),
    script:
        STEP_SCRIPT


# results/findings.md: a table at a glance, then a section per study and per atlas, from whatever is built
# (the default studies are its inputs; the others are read where they exist, and never built by it).
rule findings:
    input:
        unpack(JOBS["findings"].inputs),
    output:
        report(
            paths.pattern("findings"),
            caption="../report/findings.rst",
            category="Findings",
        ),
        paths.pattern("findings") + ".prov.json",
    log:
        "logs/findings.log",
    conda:
        ENV
    params:
        spec=JOBS["findings"].params,
    script:
        STEP_SCRIPT


# Verify every artifact behind the default target, as far as it is built (checksums, config, code,
# inputs); fails on any finding.
# For one figure: python -m collective_action audit figures/fig1b.pdf
rule audit:
    log:
        "logs/audit.log",
    conda:
        ENV
    params:
        targets=PLAN.default_targets(),
        schema=workflow.source_path("../schemas/config.schema.yaml"),
    script:
        STEP_SCRIPT
