# Train one algorithm on every seed of a poisoned cell in one vectorised pass (synthetic data).
rule train:
    input:
        unpack(JOBS["train"].inputs),
    output:
        paths.pattern("run"),
    log:
        "logs/train/{dataset}/{algorithm}/a{alpha}_v{alpha_val}.log",
    wildcard_constraints:
        dataset=PLAN.dataset_regex(external=False),
    conda:
        ENV
    threads: config["execution"]["train_threads"]
    params:
        # the device is an execution setting, read from the config when the job runs: switching reruns nothing
        spec=JOBS["train"].params,
    script:
        STEP_SCRIPT


# The same step on external (image, text) data: its own rule, which holds a GPU unless device is cpu.
use rule train as train_external with:
    wildcard_constraints:
        dataset=PLAN.dataset_regex(external=True),
    resources:
        gpu=TRAINING_GPUS,


# Per-epoch success and accuracy of every run a panel shows, and the epoch each stopping rule picks:
# one job per panel (a cell takes milliseconds), one metrics file.
rule evaluate:
    input:
        JOBS["evaluate"].inputs,
    output:
        paths.pattern("metrics"),
    log:
        "logs/evaluate/{panel}.log",
    conda:
        ENV
    params:
        spec=JOBS["evaluate"].params,
    script:
        STEP_SCRIPT
