rule table:
    """Tidy CSV of one panel: one row per run and stopping rule."""
    input:
        lambda wc: PLAN.table_inputs(wc.panel),
    output:
        report(PLAN.table_path("{panel}"), caption="../report/caption.rst", category="Tables"),
        PLAN.table_path("{panel}") + ".prov.json",
    params:
        spec=lambda wc: PLAN.table_params(wc.panel),
        caption=lambda wc: PLAN.table_caption(wc.panel),
    log:
        "logs/table/{panel}.log",
    script:
        STEP_SCRIPT


rule claims:
    """The claims registry, computed from the panel tables only."""
    input:
        **PLAN.claims_inputs(),
    output:
        csv=report("results/claims.csv", caption="../report/claims.rst", category="Claims"),
        md="results/claims.md",
        csv_prov="results/claims.csv.prov.json",
        md_prov="results/claims.md.prov.json",
    params:
        spec=PLAN.claims_params(),
    log:
        "logs/claims.log",
    script:
        STEP_SCRIPT


rule figure:
    """One figure (PDF and its provenance sidecar) from tables and data."""
    input:
        unpack(lambda wc: PLAN.figure_inputs(wc.figure)),
    output:
        report(PLAN.figure_path("{figure}"), caption="../report/caption.rst", category="Figures"),
        PLAN.figure_path("{figure}") + ".prov.json",
    params:
        spec=lambda wc: PLAN.figure_params(wc.figure),
        caption=lambda wc: PLAN.figure_caption(wc.figure),
    log:
        "logs/figure/{figure}.log",
    script:
        STEP_SCRIPT


rule epoch_table:
    """Tidy CSV of a panel's per-epoch metrics at its per_epoch_alphas (Fig 3a)."""
    input:
        lambda wc: PLAN.epoch_table_inputs(wc.panel),
    output:
        PLAN.epoch_table_path("{panel}"),
        PLAN.epoch_table_path("{panel}") + ".prov.json",
    params:
        spec=lambda wc: PLAN.table_params(wc.panel),
    log:
        "logs/table/{panel}_epochs.log",
    script:
        STEP_SCRIPT


rule audit:
    """Verify every artifact behind the default target, as far as it is built (checksums, config, code,
    inputs); fails on any finding.
    For one figure: python -m collective_action audit figures/fig1b.pdf"""
    params:
        targets=PLAN.default_targets(),
        schema=workflow.source_path("../schemas/config.schema.yaml"),
    log:
        "logs/audit.log",
    script:
        STEP_SCRIPT
