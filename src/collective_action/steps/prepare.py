"""Prepare: draw a synthetic dataset from its generator, or build one from its sources."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..datasets import check_staged, is_synthetic, maker, needed_sources
from .base import PKG, Step


def _staged_inputs(name: str, source: Mapping[str, Any]) -> list[str]:
    """The staged files of one source, checked now (a missing one is one SourceError saying what to put
    where, before any job runs); downloads have none. Text sources: ``text_sources.check_staged``."""
    from ..datasets import text_sources

    if name in text_sources.SOURCES:
        return text_sources.check_staged(name, source)
    if source["kind"] in ("npz", "archive", "directory"):
        check_staged(name, source)
        return [source["path"]]
    return []


class Prepare(Step):
    name = "prepare"
    entry = "datasets"
    artifacts = {"data": "results/data/{dataset}.h5"}

    def inputs(self, wc):
        """Staged source files (so editing one reruns the dataset); a staged file that is missing
        stops the workflow before any job with one error saying what to put where."""
        spec = self.plan.dataset_spec(wc.dataset)
        if is_synthetic(spec):
            return []
        out = []
        for name, source in needed_sources(spec, self.plan.config["sources"]).items():
            out += _staged_inputs(name, source)
        return out

    def spec(self, wc):
        spec = self.plan.dataset_spec(wc.dataset)
        out = {"dataset": wc.dataset, "spec": spec, "base_seed": self.plan.config["base_seed"]}
        if not is_synthetic(spec):
            out["sources"] = needed_sources(spec, self.plan.config["sources"])
            out["data_dir"] = self.plan.config["data_dir"]
        return out

    def code_roots(self, wc):
        spec = self.plan.dataset_spec(wc.dataset)
        extra = [] if is_synthetic(spec) else [f"{PKG}.datasets.sources"]
        return [*super().code_roots(wc), maker(spec).module, *extra]

    @staticmethod
    def run(job) -> None:
        from .. import datasets

        datasets.prepare_any(job.params.spec, job.output[0])
