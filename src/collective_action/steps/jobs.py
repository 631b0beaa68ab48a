"""Each step's jobs: their input files and their params, built in one place for the rules and the audit.

A job's params are exactly what its output depends on: the slice of config (defaults
and per-dataset overrides resolved) and, under ``code``, the hashes of the package
modules it runs (see :mod:`codehash`). Snakemake reruns a job when its params change,
so editing one learner's hyperparameter, or its module, reruns that learner's train
jobs and what reads them, nothing else; the audit compares the same params against
what each artifact recorded.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from ..datasets import check_staged, is_synthetic, maker, needed_sources, signal_spec
from ..planning import codehash, paths
from ..planning.plan import Plan

PKG = codehash.PACKAGE


def _signal_module(spec: Mapping[str, Any]) -> str:
    from ..signals import SIGNALS

    return SIGNALS.entry(spec["signal"]["kind"]).module


def _signal_modules(spec: Mapping[str, Any]) -> list[str]:
    """The modules of a dataset's signal and of its second collective's signal, where it has one."""
    from ..signals import SIGNALS

    second = spec.get("collective_2")
    return [_signal_module(spec), *([SIGNALS.entry(second["signal"]["kind"]).module] if second else [])]


def _collectives(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The collective's signal as jobs use it (see ``datasets.signal_spec``) and the second collective, if any."""
    return {"signal": signal_spec(spec), **({"collective_2": spec["collective_2"]} if spec.get("collective_2") else {})}


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


class Step:
    """The jobs of one rule. ``wc`` is the job's wildcards (attributes)."""

    name = ""
    entry = ""  # the package module that runs the step

    def __init__(self, plan: Plan):
        self.plan = plan

    def inputs(self, wc) -> Any:
        return []

    def spec(self, wc) -> dict[str, Any]:
        return {}

    def code_roots(self, wc) -> list[str]:
        return [f"{PKG}.{self.entry}"]

    def params(self, wc=None) -> dict[str, Any]:
        return {**self.spec(wc), "code": codehash.code_hashes(tuple(self.code_roots(wc)))}


class Prepare(Step):
    name, entry = "prepare", "datasets"

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
        return [f"{PKG}.datasets", maker(spec).module, *extra]


def _reuses(plan: Plan, dataset: str, *what: str) -> dict[str, Any]:
    """What a dataset derived by the robustness atlas reuses (``Plan.reuses``): the random streams of the dataset it
    comes from (so that a variant's collectives are the baseline's where the sizes and seeds agree), and the
    dataset its poisoned file was made for (which the file must say); nothing for a dataset of the config. (The
    files it shares are its jobs' inputs.)"""
    shared = {w: plan.reuses(dataset, w) for w in what if plan.reuses(dataset, w) != dataset}
    return {"reuses": shared} if shared else {}


class Poison(Step):
    name, entry = "poison", "collective"

    def inputs(self, wc):
        return {"data": paths.data_file(self.plan, wc.dataset)}

    def spec(self, wc):
        return {"dataset": wc.dataset, **_collectives(self.plan.dataset_spec(wc.dataset)),
                "alpha": float(wc.alpha), "alpha_val": float(wc.alpha_val), "seeds": self.plan.seeds(wc.dataset),
                "base_seed": self.plan.config["base_seed"], **_reuses(self.plan, wc.dataset, "streams")}

    def code_roots(self, wc):
        return [*super().code_roots(wc), *_signal_modules(self.plan.dataset_spec(wc.dataset))]


class Train(Step):
    name, entry = "train", "training.fit"

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
            **_collectives(spec),
            "model": plan.model(wc.dataset),
            "training": plan.training(wc.dataset),
            "hyperparameters": plan.hyperparameters(wc.dataset, wc.algorithm),
            "record_every_epoch": plan.records_every_epoch(wc.dataset, wc.algorithm, float(wc.alpha),
                                                           float(wc.alpha_val)),
            **_reuses(plan, wc.dataset, "streams", "poisoned"),
        }

    def code_roots(self, wc):
        from ..learners import LEARNERS

        learner = self.plan.algorithm(wc.algorithm)["learner"]
        spec = self.plan.dataset_spec(wc.dataset)
        # text model kinds (text_*) live in models/text.py, which models.banks.make_bank imports by name for text jobs only
        text = [f"{PKG}.models.text"] if self.plan.model(wc.dataset)["kind"].startswith("text_") else []
        return [*super().code_roots(wc), LEARNERS.entry(learner).module, *_signal_modules(spec), *text]


class Evaluate(Step):
    """One job per panel: every cell the panel's tables read, into one metrics file. Evaluating a cell
    takes milliseconds, so a job per cell was mostly process start; per panel, a changed run re-evaluates
    the panels that show it (as before, their tables and figures rerun), and nothing else."""

    name, entry = "evaluate", "evaluation.metrics"

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
                "collectives": {d: {"dataset": d, **_collectives(self.plan.dataset_spec(d))}
                                for d in self.plan.panel_datasets(wc.panel)}}


class Table(Step):
    name, entry = "table", "evaluation.tables"

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
        return [*super().code_roots(wc), *sorted({m for s in specs for m in _signal_modules(s)} |
                                                 {maker(s).module for s in specs if is_synthetic(s)})]


class EpochTable(Table):
    name = "epoch_table"

    def inputs(self, wc):
        from ..configuration.errors import ConfigError

        if not self.plan.panel(wc.panel).get("per_epoch_alphas"):
            raise ConfigError(f"config key 'panels.{wc.panel}.per_epoch_alphas': empty, so there is no per-epoch table")
        return super().inputs(wc)


class Claims(Step):
    name, entry = "claims", "claims"

    def inputs(self, wc=None):
        """Each listed panel's table, and its per-epoch table where it has one ('<panel>_epochs'); and the
        robustness atlas's summary where the config puts it into claims.md (robustness.in_claims)."""
        out = {}
        for panel in self.plan.claim_panels():
            out[panel] = paths.path("table", panel=panel)
            if self.plan.panel(panel).get("per_epoch_alphas"):
                out[f"{panel}_epochs"] = paths.path("epoch_table", panel=panel)
        if self.plan.atlas_in_claims():
            if paths.ATLAS_INPUT in out:
                from ..configuration.errors import ConfigError

                raise ConfigError(f"config key 'panels.{paths.ATLAS_INPUT}': the name is the atlas's summary's in the "
                                  f"claims (robustness.in_claims); rename the panel")
            out[paths.ATLAS_INPUT] = paths.path("robustness_csv")
        return out

    def spec(self, wc=None):
        """The claims settings, with the panels as one list (how an overlay splits them into sets changes nothing)."""
        return {**self.plan.config["claims"], "panels": self.plan.claim_panels()}

    def code_roots(self, wc=None):
        from ..claims import MODULES

        return [f"{PKG}.claims", *MODULES]


class RobustnessClaims(Claims):
    """The atlas's claims under one variant, from that variant's tables."""

    name = "robustness_claims"

    def inputs(self, wc):
        return self.plan.atlas.by_id[wc.variant].tables()

    def spec(self, wc):
        return self.plan.atlas.claims_spec(wc.variant)


class Robustness(Claims):
    """results/robustness.csv (one row per claim and variant) and robustness.md, from every variant's claims."""

    name, entry = "robustness", "claims.atlas"

    def inputs(self, wc=None):
        return {vp.variant.id: paths.path("variant_claims", variant=vp.variant.id) for vp in self.plan.atlas.variants}

    def spec(self, wc=None):
        return self.plan.atlas.summary_spec()

    def code_roots(self, wc=None):
        return [f"{PKG}.{self.entry}", f"{PKG}.claims.core"]


class Figure(Step):
    name, entry = "figure", "figures"

    def _spec(self, figure: str):
        from ..configuration.errors import ConfigError
        from ..figures.catalog import FIGURES

        if figure not in FIGURES:
            raise ConfigError(f"unknown figure '{figure}' (known: {', '.join(sorted(FIGURES))})")
        return FIGURES[figure]

    def inputs(self, wc):
        return {k: v for panel in self._spec(wc.figure).panels for k, v in panel.inputs(self.plan).items()}

    def spec(self, wc):
        """Style, plus what each panel reads beyond tables (whose own provenance covers the rest):
        restyling one figure or changing a panel's grid reruns exactly the figures that show it."""
        figures = self.plan.config["figures"]
        from ..configuration.merge import deep_merge

        return {"figure": wc.figure, "style": deep_merge(figures["style"], figures.get(wc.figure)),
                "confidence": self.plan.config["claims"]["confidence"],
                "panels": [panel.params(self.plan) for panel in self._spec(wc.figure).panels]}

    def code_roots(self, wc):
        from ..figures.catalog import MODULES

        self._spec(wc.figure)
        return [*super().code_roots(wc), f"{PKG}.figures.panels", MODULES[wc.figure]]


class Jobs:
    """Every step's jobs for one plan; ``jobs[step]`` (a rule's name) gives its :class:`Step`."""

    STEPS = (Prepare, Poison, Train, Evaluate, Table, EpochTable, Claims, RobustnessClaims, Robustness, Figure)

    def __init__(self, plan: Plan):
        self.plan = plan
        self.steps = {cls.name: cls(plan) for cls in self.STEPS}

    def __getitem__(self, rule: str) -> Step:
        return self.steps[paths.step_of(rule)]

    def params_of(self, file: str) -> tuple[str, dict[str, Any]]:
        """(step, params) of the job that writes ``file`` under the current config (for the audit)."""
        artifact, wildcards = paths.parse(file)
        return artifact.step, self.steps[artifact.step].params(SimpleNamespace(**wildcards))
