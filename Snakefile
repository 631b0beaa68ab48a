# Reproduction of "The Role of Learning Algorithms in Collective Action"
# (Ben-Dov, Fawkes, Samadi, Sanyal, ICML 2024). See README.md.
#
# Steps (one module each, collective_action/steps/): prepare -> poison -> train -> evaluate -> table ->
# figure / claims (per study) -> the atlases. All logic lives in the `collective_action` package; rules only
# wire files to it.

from snakemake.utils import min_version

from collective_action.configuration import studies
from collective_action.planning import captions, paths
from collective_action.planning.atlas import Atlas
from collective_action.planning.plan import Plan
from collective_action.steps.jobs import Jobs

min_version("9.0")


configfile: "config.yaml"


# Each study's file (config.yaml's study_files), loaded after config.yaml; overlays given with
# --configfile are merged over them all. A key defined by two of the files is one error naming both.
for study_file in studies.files(config):
    workflow.configfile(study_file)


report: "workflow/report/workflow.rst"


# Validates the whole config against workflow/schemas/config.schema.yaml (completed by the
# learner, signal and dataset registries) before any job runs; a bad key is one error that names it.
PLAN = Plan(
    config, schema_path=workflow.source_path("workflow/schemas/config.schema.yaml"), atlas=Atlas
)
JOBS = Jobs(PLAN)


wildcard_constraints:
    **paths.WILDCARDS,


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/reporting.smk"
include: "workflow/rules/atlas.smk"


rule all:
    default_target: True
    input:
        PLAN.default_targets(),
