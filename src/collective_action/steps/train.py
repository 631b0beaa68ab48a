"""Train: one algorithm on every seed of a poisoned cell, in one vectorised pass."""
from __future__ import annotations

from ..planning import paths
from .base import Step, collectives, reuses, signal_modules


class Train(Step):
    name = "train"
    entry = "training.fit"
    artifacts = {"run": "results/runs/{dataset}/{algorithm}/a{alpha}_v{alpha_val}.h5"}

    def inputs(self, wc):
        return {"data": paths.data_file(self.plan, wc.dataset),
                "poisoned": paths.poisoned_file(self.plan, wc.dataset, wc.alpha, wc.alpha_val)}

    def spec(self, wc):
        plan, spec = self.plan, self.plan.dataset_spec(wc.dataset)
        return {
            "dataset": wc.dataset,
            "algorithm": wc.algorithm,
            "learner": plan.algorithm(wc.algorithm)["learner"],
            "alpha": float(wc.alpha),
            "alpha_val": float(wc.alpha_val),
            "seeds": plan.seeds(wc.dataset),
            "base_seed": plan.config["base_seed"],
            **collectives(spec),
            "model": plan.model(wc.dataset),
            "training": plan.training(wc.dataset),
            "hyperparameters": plan.hyperparameters(wc.dataset, wc.algorithm),
            "record_every_epoch": plan.records_every_epoch(wc.dataset, wc.algorithm, float(wc.alpha),
                                                           float(wc.alpha_val)),
            **reuses(plan, wc.dataset, "streams", "poisoned"),
        }

    def code_roots(self, wc):
        from ..learners import LEARNERS
        from ..models import MODELS

        learner = self.plan.algorithm(wc.algorithm)["learner"]
        spec = self.plan.dataset_spec(wc.dataset)
        model = MODELS.entry(self.plan.model(wc.dataset)["kind"]).module  # imported by name: only its own jobs hash it
        return [*super().code_roots(wc), LEARNERS.entry(learner).module, model, *signal_modules(spec)]

    @staticmethod
    def run(job) -> None:
        from ..training import fit

        fit.train(data_path=job.input.data, poisoned_path=job.input.poisoned, spec=job.params.spec,
                  output=job.output[0], threads=job.threads, device=job.config["device"])
