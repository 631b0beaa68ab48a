"""Evaluate: per-epoch success and accuracy of every run a panel shows, and the epoch each stopping rule picks."""
from __future__ import annotations

from typing import Any

from ..planning import paths
from .base import Step, collectives


class Evaluate(Step):
    """One job per panel: every cell the panel's tables read, into one metrics file. Evaluating a cell
    takes milliseconds, so a job per cell was mostly process start; per panel, a changed run re-evaluates
    the panels that show it (as before, their tables and figures rerun), and nothing else."""

    name = "evaluate"
    entry = "evaluation.metrics"
    artifacts = {"metrics": "results/metrics/{panel}.h5"}

    def cells(self, wc) -> list[dict[str, Any]]:
        """The panel's cells (its per-epoch cells are among them: the config check makes per_epoch_alphas a
        subset of alphas), with the paths of their run, data and poisoned files."""
        plan = self.plan
        return [{"dataset": d, "algorithm": a, "alpha": float(x), "alpha_val": float(v),
                 "run": paths.path("run", dataset=d, algorithm=a, alpha=x, alpha_val=v),
                 "data": paths.data_file(plan, d), "poisoned": paths.poisoned_file(plan, d, x, v)}
                for d, a, x, v in plan.panel_cells(wc.panel)]

    def inputs(self, wc):
        return list(dict.fromkeys(c[kind] for c in self.cells(wc) for kind in ("run", "poisoned", "data")))

    def spec(self, wc):
        return {"panel": wc.panel, "cells": self.cells(wc),
                "collectives": {d: {"dataset": d, **collectives(self.plan.dataset_spec(d))}
                                for d in self.plan.panel_datasets(wc.panel)}}

    @staticmethod
    def run(job) -> None:
        from ..evaluation import metrics

        spec = job.params.spec
        metrics.evaluate_cells(spec["cells"], spec["collectives"], job.output[0], spec)
