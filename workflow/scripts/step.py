# Runs one workflow step: the rule's name selects the function in collective_action.steps.runner (through collective_action.steps.script).
import time

started = time.time()  # after Python started and Snakemake's preamble ran (for the timing line)
from collective_action.steps.script import run_step  # noqa: E402

run_step(snakemake, started)  # noqa: F821 (injected by Snakemake)
