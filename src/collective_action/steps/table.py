"""Table: the tidy CSV of one panel, one row per run and stopping rule; and its per-epoch table (Fig 3a)."""
from __future__ import annotations

from ..datasets import is_synthetic, maker
from ..planning import paths
from .base import Step, signal_modules


class Table(Step):
    name = "table"
    entry = "evaluation.tables"
    artifacts = {"table": "results/tables/{panel}.csv"}

    def inputs(self, wc):
        return [paths.path("metrics", panel=wc.panel)]

    def spec(self, wc):
        p = self.plan.panel(wc.panel)
        return {"panel": wc.panel, **p, "datasets": {d: self.plan.dataset_spec(d)
                                                     for d in self.plan.panel_datasets(wc.panel)},
                "quality": dict(self.plan.config["quality"])}

    def code_roots(self, wc):
        """Tables compute the signal's theory (xi, Delta) from the dataset's generator."""
        specs = [self.plan.dataset_spec(d) for d in self.plan.panel_datasets(wc.panel)]
        return [*super().code_roots(wc), *sorted({m for s in specs for m in signal_modules(s)} |
                                                 {maker(s).module for s in specs if is_synthetic(s)})]

    @staticmethod
    def run(job) -> None:
        from ..evaluation import tables

        tables.build(panel=job.wildcards.panel, spec=job.params.spec, metrics_paths=list(job.input),
                     output=job.output[0])


class EpochTable(Table):
    name = "epoch_table"
    artifacts = {"epoch_table": "results/tables/epochs/{panel}.csv"}

    def inputs(self, wc):
        from ..configuration.errors import ConfigError

        if not self.plan.panel(wc.panel).get("per_epoch_alphas"):
            raise ConfigError(f"config key 'panels.{wc.panel}.per_epoch_alphas': empty, so there is no per-epoch table")
        return super().inputs(wc)

    @staticmethod
    def run(job) -> None:
        from ..evaluation import tables

        tables.build_epochs(panel=job.wildcards.panel, spec=job.params.spec, metrics_paths=list(job.input),
                            output=job.output[0])
