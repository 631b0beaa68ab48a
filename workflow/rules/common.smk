# Shared by every rule: the script that hands a job to collective_action.pipeline, and the
# software environment (used with --use-conda).
STEP_SCRIPT = "../scripts/step.py"
ENV = "../envs/collective-action.yaml"
