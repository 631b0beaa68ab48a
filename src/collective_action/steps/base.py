"""What every step has: its jobs' inputs and params for one plan, and what it runs."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import codehash
from ..datasets import signal_spec

PKG = codehash.PACKAGE


class Step:
    """The jobs of one rule. ``wc`` is the job's wildcards (attributes).

    Literal class attributes (the registry reads them without importing the module):
    ``name`` (the rule's, and the registry's key), ``entry`` (the package module that runs it, relative to the
    package: the root of its code hash) and ``artifacts`` (kind -> path template of what it writes, with
    ``{wildcards}`` from ``planning.paths.WILDCARDS``)."""

    name = ""
    entry = ""
    artifacts: dict[str, str] = {}

    def __init__(self, plan):
        self.plan = plan

    def inputs(self, wc) -> Any:
        return []

    def spec(self, wc) -> dict[str, Any]:
        return {}

    def code_roots(self, wc) -> list[str]:
        """The package modules the job runs: its entry, and what it imports (the step's own module only hands the
        params on, so editing the plan's machinery reruns nothing)."""
        return [f"{PKG}.{self.entry}"]

    def params(self, wc=None) -> dict[str, Any]:
        return {**self.spec(wc), "code": codehash.code_hashes(tuple(self.code_roots(wc)))}

    @staticmethod
    def run(job) -> None:
        """Run one job (``job``: the Snakemake job as plain data, ``runner.Job``)."""
        raise NotImplementedError


def signal_module(spec: Mapping[str, Any]) -> str:
    from ..signals import SIGNALS

    return SIGNALS.entry(spec["signal"]["kind"]).module


def signal_modules(spec: Mapping[str, Any]) -> list[str]:
    """The modules of a dataset's signal and of its second collective's signal, where it has one."""
    from ..signals import SIGNALS

    second = spec.get("collective_2")
    return [signal_module(spec), *([SIGNALS.entry(second["signal"]["kind"]).module] if second else [])]


def collectives(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The collective's signal as jobs use it (see ``datasets.signal_spec``) and the second collective, if any."""
    return {"signal": signal_spec(spec), **({"collective_2": spec["collective_2"]} if spec.get("collective_2") else {})}


def reuses(plan, dataset: str, *what: str) -> dict[str, Any]:
    """What a dataset derived by the robustness atlas reuses (``Plan.reuses``): the random streams of the dataset it
    comes from (so that a variant's collectives are the baseline's where the sizes and seeds agree), and the
    dataset its poisoned file was made for (which the file must say); nothing for a dataset of the config. (The
    files it shares are its jobs' inputs.)"""
    shared = {w: plan.reuses(dataset, w) for w in what if plan.reuses(dataset, w) != dataset}
    return {"reuses": shared} if shared else {}
