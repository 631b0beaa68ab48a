rule prepare:
    """Draw a synthetic dataset from its generator, or build a dataset from its sources."""
    input:
        JOBS["prepare"].inputs,
    output:
        paths.path("data", dataset="{dataset}"),
    params:
        spec=JOBS["prepare"].params,
    # first, so that a missing or unreachable source stops the workflow before other work
    priority: 50
    log:
        "logs/prepare/{dataset}.log",
    conda:
        ENV
    script:
        STEP_SCRIPT


rule poison:
    """Plant the collective's signal in round(alpha n) training and round(alpha_val n) validation points, per seed."""
    input:
        unpack(JOBS["poison"].inputs),
    output:
        paths.path("poisoned", dataset="{dataset}", alpha="{alpha}", alpha_val="{alpha_val}"),
    params:
        spec=JOBS["poison"].params,
    log:
        "logs/poison/{dataset}/a{alpha}_v{alpha_val}.log",
    conda:
        ENV
    script:
        STEP_SCRIPT
