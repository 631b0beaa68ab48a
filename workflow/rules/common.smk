# The one script every rule runs: it hands the job to collective_action.pipeline.
STEP_SCRIPT = "../scripts/step.py"
