# Shared by every rule: the script that hands a job to collective_action.steps.runner, and the
# software environment (used with --use-conda).
import gc

from collective_action.training import devices

STEP_SCRIPT = "../scripts/step.py"
ENV = "../envs/collective-action.yaml"
# GPUs one image training holds (rule train_external): 1 unless device is cpu; with
# `snakemake --resources gpu=N` at most N image trainings run at once, and SLURM gets --gpus=1.
TRAINING_GPUS = devices.training_gpus(config["device"])


# device: cuda without a CUDA device stops the workflow here, before any job runs (not in a dry
# run); jobs submitted to other machines (SLURM) check on their node instead.
onstart:
    devices.check_workflow_device(config["device"], local_exec=workflow.local_exec)


# What Snakemake, this package and the config have put in memory so far lives as long as this process:
# freezing it spares the garbage collector from scanning it again at every collection while the DAG is
# built and at exit (a sixth of a no-op dry run). Jobs run in processes of their own; nothing else changes.
gc.freeze()
