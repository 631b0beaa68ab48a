# Tidy CSV of one panel: one row per run and stopping rule.
rule table:
    input:
        JOBS["table"].inputs,
    output:
        report(
            paths.path("table", panel="{panel}"),
            caption="../report/caption.rst",
            category="Tables",
        ),
        paths.path("table", panel="{panel}") + ".prov.json",
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
        paths.path("epoch_table", panel="{panel}"),
        paths.path("epoch_table", panel="{panel}") + ".prov.json",
    log:
        "logs/table/{panel}_epochs.log",
    conda:
        ENV
    params:
        spec=JOBS["epoch_table"].params,
    script:
        STEP_SCRIPT


# The claims registry, computed from the panel tables only.
rule claims:
    input:
        **JOBS["claims"].inputs(),
    output:
        csv=report(
            paths.path("claims_csv"),
            caption="../report/claims.rst",
            category="Claims",
        ),
        md=paths.path("claims_md"),
        csv_prov=paths.path("claims_csv") + ".prov.json",
        md_prov=paths.path("claims_md") + ".prov.json",
    log:
        "logs/claims.log",
    conda:
        ENV
    params:
        spec=JOBS["claims"].params(),
    script:
        STEP_SCRIPT


# One figure (PDF and its provenance sidecar) from tables and data.
rule figure:
    input:
        unpack(JOBS["figure"].inputs),
    output:
        report(
            paths.path("figure", figure="{figure}"),
            caption="../report/caption.rst",
            category="Figures",
        ),
        paths.path("figure", figure="{figure}") + ".prov.json",
    log:
        "logs/figure/{figure}.log",
    conda:
        ENV
    params:
        spec=JOBS["figure"].params,
        caption=lambda wc: captions.figure(PLAN, wc.figure),
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
