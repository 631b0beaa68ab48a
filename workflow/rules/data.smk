rule prepare:
    """Draw a synthetic dataset from its generator, or build an image dataset from its sources."""
    input:
        lambda wc: PLAN.prepare_inputs(wc.dataset),
    output:
        PLAN.data_path("{dataset}"),
    params:
        spec=lambda wc: PLAN.prepare_params(wc.dataset),
    # first, so that a missing or unreachable source stops the workflow before other work
    priority: 50
    log:
        "logs/prepare/{dataset}.log",
    script:
        STEP_SCRIPT


rule poison:
    """Plant the collective's signal in round(alpha n) training and round(alpha_val n) validation points, per seed."""
    input:
        data=PLAN.data_path("{dataset}"),
    output:
        PLAN.poisoned_path("{dataset}", "{alpha}", "{alpha_val}"),
    params:
        spec=lambda wc: PLAN.poison_params(wc.dataset, wc.alpha, wc.alpha_val),
    log:
        "logs/poison/{dataset}/a{alpha}_v{alpha_val}.log",
    script:
        STEP_SCRIPT
