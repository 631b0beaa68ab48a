rule table:
    """Tidy CSV of one panel: one row per run and stopping rule."""
    input:
        lambda wc: PLAN.table_inputs(wc.panel),
    output:
        PLAN.table_path("{panel}"),
        PLAN.table_path("{panel}") + ".prov.json",
    params:
        spec=lambda wc: PLAN.table_params(wc.panel),
    log:
        "logs/table/{panel}.log",
    script:
        STEP_SCRIPT


rule claims:
    """The claims registry, computed from the panel tables only."""
    input:
        **PLAN.claims_inputs(),
    output:
        csv="results/claims.csv",
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
        PLAN.figure_path("{figure}"),
        PLAN.figure_path("{figure}") + ".prov.json",
    params:
        spec=lambda wc: PLAN.figure_params(wc.figure),
    log:
        "logs/figure/{figure}.log",
    script:
        STEP_SCRIPT
