rule train:
    """Train one algorithm on every seed of a poisoned cell in one vectorised pass (synthetic data)."""
    wildcard_constraints:
        dataset=PLAN.dataset_regex(image=False),
    input:
        data=PLAN.data_path("{dataset}"),
        poisoned=PLAN.poisoned_path("{dataset}", "{alpha}", "{alpha_val}"),
    output:
        PLAN.run_path("{dataset}", "{algorithm}", "{alpha}", "{alpha_val}"),
    params:
        spec=lambda wc: PLAN.train_params(wc.dataset, wc.algorithm, wc.alpha, wc.alpha_val),
        # an execution setting: not part of `spec`, so switching devices reruns nothing
        device=config["device"],
    threads: config["execution"]["train_threads"]
    log:
        "logs/train/{dataset}/{algorithm}/a{alpha}_v{alpha_val}.log",
    script:
        STEP_SCRIPT


use rule train as train_image with:
    # the same step for image data: its own rule so that clusters can give it GPUs (see the SLURM profile)
    wildcard_constraints:
        dataset=PLAN.dataset_regex(image=True),


rule evaluate:
    """Per-epoch success and accuracy of every run, and the epoch each stopping rule picks."""
    input:
        run=PLAN.run_path("{dataset}", "{algorithm}", "{alpha}", "{alpha_val}"),
        data=PLAN.data_path("{dataset}"),
        poisoned=PLAN.poisoned_path("{dataset}", "{alpha}", "{alpha_val}"),
    output:
        PLAN.metrics_path("{dataset}", "{algorithm}", "{alpha}", "{alpha_val}"),
    params:
        spec=lambda wc: PLAN.evaluate_params(wc.dataset),
    log:
        "logs/evaluate/{dataset}/{algorithm}/a{alpha}_v{alpha_val}.log",
    script:
        STEP_SCRIPT
