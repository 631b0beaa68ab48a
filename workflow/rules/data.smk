# Draw a synthetic dataset from its generator, or build a dataset from its sources.
rule prepare:
    input:
        JOBS["prepare"].inputs,
    output:
        paths.pattern("data"),
    log:
        "logs/prepare/{dataset}.log",
    # first, so that a missing or unreachable source stops the workflow before other work
    priority: 50
    conda:
        ENV
    params:
        spec=JOBS["prepare"].params,
    script:
        STEP_SCRIPT


# Plant the collective's signal in round(alpha n) training and round(alpha_val n) validation points, per seed.
rule poison:
    input:
        unpack(JOBS["poison"].inputs),
    output:
        paths.pattern("poisoned"),
    log:
        "logs/poison/{dataset}/a{alpha}_v{alpha_val}.log",
    wildcard_constraints:
        dataset=PLAN.dataset_regex(external=False),
    conda:
        ENV
    params:
        spec=JOBS["poison"].params,
    script:
        STEP_SCRIPT


# The same step on external (image, text) data: its own rule, so that the SLURM profile can group
# the synthetic cells' poison and train jobs without the image training between them.
use rule poison as poison_external with:
    wildcard_constraints:
        dataset=PLAN.dataset_regex(external=True),
