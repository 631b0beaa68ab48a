"""Running one job: the rule's name selects the package function (the job as plain data, from :mod:`script`, here
or in the warm worker). Logging goes to the rule's log file and to stderr; a
failure logs its cause and traceback there and exits non-zero, and the atomic
writers leave no output. Execution settings (device, threads, the warm worker) are
read from the config at run time, never from params, so changing them reruns nothing.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from ..planning.paths import step_of
from . import STEPS


def _setup_logging(log_path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    for noisy in ("fontTools", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Named(list):
    """A Snakemake named list as plain data: positions, and names as attributes."""

    def __init__(self, values, names: Mapping[str, Any]):
        super().__init__(values)
        self._names = dict(names)

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_names"][name]
        except KeyError:
            raise AttributeError(name) from None

    def items(self):
        return self._names.items()


class Job:
    def __init__(self, job: Mapping[str, Any]):
        self.rule, self.threads, self.config = job["rule"], job["threads"], job["config"]
        for part in ("input", "output", "params", "log", "wildcards"):
            setattr(self, part, Named(job[part]["values"], job[part]["names"]))


def run_job(job: Mapping[str, Any]) -> None:
    from ..training.timing import log_timings, phase

    if job.get("umask") is not None:
        os.umask(job["umask"])  # in the warm worker's child: the submitting call's, for every file the step creates
    timing = dict(job.get("timing") or {})
    timing["handoff"] = time.time() - timing.pop("submitted", time.time())  # to the worker, or none
    sm = Job(job)
    _setup_logging(sm.log[0] if len(sm.log) else None)
    log = logging.getLogger(__name__)
    if step_of(sm.rule) not in STEPS:
        log.error("no package step for rule '%s' (steps: %s)", sm.rule, ", ".join(STEPS.names()))
        sys.exit(2)
    step = STEPS.get(step_of(sm.rule)).run
    log.info("rule %s: %s -> %s", sm.rule, list(sm.input), list(sm.output))
    if os.environ.get("SLURM_JOB_ID"):
        log.info("running in SLURM job %s on %s", os.environ["SLURM_JOB_ID"], os.environ.get("SLURMD_NODENAME", "?"))
    try:
        with phase("step"):
            step(sm)
    except Exception as exc:
        log.error("rule %s failed: %s: %s", sm.rule, type(exc).__name__, exc, exc_info=True)
        sys.exit(1)
    log_timings({k: v for k, v in timing.items() if v is not None})
    log.info("rule %s done", sm.rule)
