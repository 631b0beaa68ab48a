# Runs one workflow step: the rule's name selects the function in collective_action.pipeline.
from collective_action.pipeline import run_step

run_step(snakemake)  # noqa: F821 (injected by Snakemake)
