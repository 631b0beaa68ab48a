"""The bridge from Snakemake rules to the package.

Every rule runs ``workflow/scripts/step.py``, which calls :func:`run_step` with
the ``snakemake`` object; the rule's name selects the package function. Logging
goes to the rule's log file and to stderr; a failure logs its cause and
traceback there and exits non-zero, and the atomic writers leave no output.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable


def _prepare(sm) -> None:
    from . import datasets

    datasets.prepare_any(sm.params.spec, sm.output[0])


def _poison(sm) -> None:
    from . import collective

    p = sm.params.spec
    collective.poison(data_path=sm.input.data, signal_spec=p["signal"], alpha=p["alpha"], alpha_val=p["alpha_val"],
                      seeds=p["seeds"], base_seed=p["base_seed"], dataset=p["dataset"], output=sm.output[0], record=p)


def _train(sm) -> None:
    from . import training

    training.train(data_path=sm.input.data, poisoned_path=sm.input.poisoned, spec=sm.params.spec,
                   output=sm.output[0], threads=sm.threads, device=sm.params.device)


def _evaluate(sm) -> None:
    from . import metrics

    metrics.evaluate(run_path=sm.input.run, data_path=sm.input.data, poisoned_path=sm.input.poisoned,
                     spec=sm.params.spec, output=sm.output[0])


def _table(sm) -> None:
    from . import tables

    tables.build(panel=sm.wildcards.panel, spec=sm.params.spec, metrics_paths=list(sm.input), output=sm.output[0])


def _epoch_table(sm) -> None:
    from . import tables

    tables.build_epochs(panel=sm.wildcards.panel, spec=sm.params.spec, metrics_paths=list(sm.input),
                        output=sm.output[0])


def _claims(sm) -> None:
    from .claims import core

    core.build(table_paths=dict(sm.input.items()), spec=sm.params.spec, output_csv=sm.output.csv,
                 output_md=sm.output.md)


def _figure(sm) -> None:
    from . import figures

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
    "train_image": _train,
    "evaluate": _evaluate,
    "table": _table,
    "epoch_table": _epoch_table,
    "claims": _claims,
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


def run_step(sm) -> None:
    _setup_logging(sm.log[0] if len(sm.log) else None)
    log = logging.getLogger("collective_action.pipeline")
    step = STEPS.get(sm.rule)
    if step is None:
        log.error("no package step for rule '%s'", sm.rule)
        sys.exit(2)
    log.info("rule %s: %s -> %s", sm.rule, list(sm.input), list(sm.output))
    if os.environ.get("SLURM_JOB_ID"):
        log.info("running in SLURM job %s on %s", os.environ["SLURM_JOB_ID"], os.environ.get("SLURMD_NODENAME", "?"))
    try:
        step(sm)
    except Exception as exc:
        log.error("rule %s failed: %s: %s", sm.rule, type(exc).__name__, exc, exc_info=True)
        sys.exit(1)
    log.info("rule %s done", sm.rule)
