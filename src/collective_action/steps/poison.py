"""Poison: plant the collective's signal in round(alpha n) training and round(alpha_val n) validation points, per
seed."""
from __future__ import annotations

from ..planning import paths
from .base import Step, collectives, reuses, signal_modules


class Poison(Step):
    name = "poison"
    entry = "collective"
    artifacts = {"poisoned": "results/poisoned/{dataset}/a{alpha}_v{alpha_val}.h5"}

    def inputs(self, wc):
        return {"data": paths.data_file(self.plan, wc.dataset)}

    def spec(self, wc):
        return {"dataset": wc.dataset, **collectives(self.plan.dataset_spec(wc.dataset)),
                "alpha": float(wc.alpha), "alpha_val": float(wc.alpha_val), "seeds": self.plan.seeds(wc.dataset),
                "base_seed": self.plan.config["base_seed"], **reuses(self.plan, wc.dataset, "streams")}

    def code_roots(self, wc):
        return [*super().code_roots(wc), *signal_modules(self.plan.dataset_spec(wc.dataset))]

    @staticmethod
    def run(job) -> None:
        from .. import collective

        p = job.params.spec
        collective.poison(data_path=job.input.data, signal_spec=p["signal"], alpha=p["alpha"],
                          alpha_val=p["alpha_val"], seeds=p["seeds"], base_seed=p["base_seed"], dataset=p["dataset"],
                          output=job.output[0], record=p, collective_2=p.get("collective_2"),
                          stream=(p.get("reuses") or {}).get("streams"))
