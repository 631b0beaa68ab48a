"""Each step's jobs: their input files and their params, built in one place for the rules and the audit.

A job's params are exactly what its output depends on: the slice of config (defaults
and per-dataset overrides resolved) and, under ``code``, the hashes of the package
modules it runs (see :mod:`codehash`). Snakemake reruns a job when its params change,
so editing one learner's hyperparameter, or its module, reruns that learner's train
jobs and what reads them, nothing else; the audit compares the same params against
what each artifact recorded.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ..planning import paths
from . import STEPS
from .base import Step


class Jobs:
    """Every step's jobs for one plan (every step of the registry); ``jobs[rule]`` gives its :class:`Step`."""

    def __init__(self, plan):
        self.plan = plan
        self.steps = {name: STEPS.get(name)(plan) for name in STEPS.names()}

    def __getitem__(self, rule: str) -> Step:
        return self.steps[paths.step_of(rule)]

    def params_of(self, file: str) -> tuple[str, dict[str, Any]]:
        """(step, params) of the job that writes ``file`` under the current config (for the audit)."""
        artifact, wildcards = paths.parse(file)
        return artifact.step, self.steps[artifact.step].params(SimpleNamespace(**wildcards))
