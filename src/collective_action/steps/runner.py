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
from collections.abc import Callable, Mapping
from typing import Any

from ..planning.paths import ATLAS_INPUT, step_of


def _prepare(sm) -> None:
    from .. import datasets

    datasets.prepare_any(sm.params.spec, sm.output[0])


def _poison(sm) -> None:
    from .. import collective

    p = sm.params.spec
    collective.poison(data_path=sm.input.data, signal_spec=p["signal"], alpha=p["alpha"], alpha_val=p["alpha_val"],
                      seeds=p["seeds"], base_seed=p["base_seed"], dataset=p["dataset"], output=sm.output[0], record=p,
                      collective_2=p.get("collective_2"), stream=(p.get("reuses") or {}).get("streams"))


def _train(sm) -> None:
    from ..training import fit as training

    training.train(data_path=sm.input.data, poisoned_path=sm.input.poisoned, spec=sm.params.spec,
                   output=sm.output[0], threads=sm.threads, device=sm.config["device"])


def _evaluate(sm) -> None:
    from ..evaluation import metrics

    spec = sm.params.spec
    metrics.evaluate_cells(spec["cells"], spec["collectives"], sm.output[0], spec)


def _table(sm) -> None:
    from ..evaluation import tables

    tables.build(panel=sm.wildcards.panel, spec=sm.params.spec, metrics_paths=list(sm.input), output=sm.output[0])


def _epoch_table(sm) -> None:
    from ..evaluation import tables

    tables.build_epochs(panel=sm.wildcards.panel, spec=sm.params.spec, metrics_paths=list(sm.input),
                        output=sm.output[0])


def _claims(sm) -> None:
    from ..claims import core

    tables = dict(sm.input.items())
    atlas = tables.pop(ATLAS_INPUT, None)  # the atlas's summary, where claims.md carries it (jobs.Claims)
    core.build(table_paths=tables, robustness_path=atlas, spec=sm.params.spec, output_csv=sm.output.csv,
               output_md=sm.output.md)


def _robustness_claims(sm) -> None:
    from ..claims import core

    core.build_variant(table_paths=dict(sm.input.items()), spec=sm.params.spec, output_csv=sm.output[0])


def _robustness(sm) -> None:
    from ..claims import atlas as robustness

    robustness.build(claim_paths=dict(sm.input.items()), spec=sm.params.spec, output_csv=sm.output.csv,
                       output_md=sm.output.md)


def _figure(sm) -> None:
    from .. import figures

    figures.draw(figure=sm.wildcards.figure, inputs=dict(sm.input.items()), params=sm.params.spec,
                 output=sm.output[0])


def _audit(sm) -> None:
    from . import audit

    status = audit.run(sm.params.targets, sm.config, sm.params.schema, skip_unbuilt=True)
    if status:
        raise RuntimeError("the audit found problems (listed above)")


STEPS: dict[str, Callable[[Any], None]] = {
    "prepare": _prepare,
    "poison": _poison,
    "train": _train,
    "evaluate": _evaluate,
    "table": _table,
    "epoch_table": _epoch_table,
    "claims": _claims,
    "robustness_claims": _robustness_claims,
    "robustness": _robustness,
    "figure": _figure,
    "audit": _audit,
}


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
    step = STEPS.get(step_of(sm.rule))
    if step is None:
        log.error("no package step for rule '%s'", sm.rule)
        sys.exit(2)
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
