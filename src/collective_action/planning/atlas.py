"""The robustness atlases: each claim's verdict over the choices the paper leaves open.

``atlases.<name>`` in the config names claims, a number of seeds and *axes*: config key paths
(``training.epochs``, ``algorithms.jtt.upweight``, ...) with a few plausible values each. The atlas
runs one *variant* per value of each axis, one at a time from the atlas's baseline, and ``joint.n``
random joint draws over the same axes; every variant is the config with its overrides merged in,
validated like the config itself before any job.

A variant's artifacts are the baseline's wherever they do not depend on what it changes: each step's
artifact is named by what that step reads, so a variant of ``algorithms.jtt.upweight`` trains only
JTT's cells (its data, collectives, ERM and LfF runs are the baseline's files), and one of
``datasets.n_train`` prepares its own data and everything after. Concretely a dataset, algorithm or
panel whose resolved settings differ from the config's gets a *derived* entry named
``<name>__<8 hex digits of those settings>`` in the plan (so two variants that agree on it share it),
and the rules, paths, params, code-aware reruns and the audit treat it like any other entry. A derived
dataset reuses the random streams of the dataset it comes from (``reuses.streams``): where the sizes and
seeds agree, a variant's collectives are the baseline's. Atlases share derived entries too (their names are
hashes of what they hold), so several atlases live in one working directory, each writing results/atlas/<name>/.

Paths: a key path is the config's own (``datasets.strips.training.epochs``); ``datasets.<key>`` with a
key that is not a dataset's name applies to every dataset the atlas's claims read (a *dataset-level*
key). Variant ids are short hashes of their overrides (``baseline`` for none).
"""
from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..configuration import validation
from ..configuration.errors import ConfigError
from ..datasets import is_synthetic, needed_sources, signal_spec
from ..store import canonical_json
from . import paths
from .paths import DERIVED

# what a variant may change: settings of runs, panels, claims and tables (not sources, seeds or devices)
AXIS_ROOTS = ("training", "models", "datasets", "algorithms", "panels", "claims", "quality")
# keys of a dataset that its data do not depend on (a text builder's data do depend on the planted tokens)
NOT_DATA = {"training", "algorithms", "model", "seeds", "family", "reuses", "model_spec"}
NOT_SYNTHETIC_DATA = NOT_DATA | {"signal", "collective_2"}
EPOCHS_SUFFIX = "_epochs"


def short_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:8]


def variant_id(overrides: Mapping[str, Any]) -> str:
    return "baseline" if not overrides else "v" + short_hash(dict(overrides))


@dataclass(frozen=True)
class Variant:
    id: str
    overrides: dict[str, Any]  # key path -> value, as the axes give them
    kind: str  # baseline | axis | joint
    axis: str | None = None

    def describe(self) -> str:
        return ", ".join(f"{k}={canonical_json(v)}" for k, v in self.overrides.items()) or "baseline"


def atlas_spec(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict((config.get("atlases") or {})[name])


def active_axes(spec: Mapping[str, Any]) -> dict[str, list]:
    """The axes, without those an overlay dropped (set to null)."""
    return {k: list(v) for k, v in (spec.get("axes") or {}).items() if v is not None}


def _synthetic_panel(config: Mapping[str, Any], panel: str) -> bool:
    from .plan import expand_datasets

    spec = config["panels"].get(panel.removesuffix(EPOCHS_SUFFIX))
    if spec is None:
        return False
    datasets, families = expand_datasets(config["datasets"])
    return all(is_synthetic(datasets[d]) for d in families.get(spec["dataset"], [spec["dataset"]]) if d in datasets)


def resolve_claims(config: Mapping[str, Any], name: str) -> list:
    """The claims the atlas re-checks: an entry 'C6@fig4_cifar' is the instance of C6 that reads that panel; a
    plain 'C6' every instance of C6 whose panels need no external data. One ConfigError naming the entry."""
    from ..claims import all_claims

    registry = all_claims()
    out = []
    for i, entry in enumerate(atlas_spec(config, name).get("claims") or []):
        cid, _, panel = str(entry).partition("@")
        same = [c for c in registry if c.id == cid]
        if not same:
            raise ConfigError(f"config key 'atlases.{name}.claims[{i}]': no claim '{cid}' (known: "
                                     f"{', '.join(dict.fromkeys(c.id for c in registry))})")
        chosen = [c for c in same if c.panels[0] == panel] if panel else \
            [c for c in same if all(_synthetic_panel(config, p) for p in c.panels)]
        if not chosen:
            where = ", ".join(c.key for c in same)
            raise ConfigError(f"config key 'atlases.{name}.claims[{i}]': '{entry}' selects no instance of {cid} "
                                     f"(a plain id selects those on synthetic data; name one: {where})")
        out += [c for c in chosen if c.key not in {o.key for o in out}]
    return out


# ----------------------------------------------------------------------------- key paths
def _axis_error(name: str, axis: str, message: str, index: int | None = None) -> ConfigError:
    """One error naming the axis (and the value's place in its list)."""
    where = f"atlases.{name}.axes.{axis}" + (f"[{index}]" if index is not None else "")
    return ConfigError(f"config key '{where}': {message}")


def _inner(error: ConfigError) -> str:
    """A variant's own config error, as part of the axis's: "at 'training.epochs': 0 is out of range: ..."."""
    text = str(error)
    return "at " + text.removeprefix("config key ") if text.startswith("config key ") else text


def targets_of(axis: str, config: Mapping[str, Any], atlas_datasets: Sequence[str], name: str) -> list[list[str]]:
    """The config key paths an axis sets: itself, or for a dataset-level key (``datasets.<key>`` whose
    <key> names no dataset) the same key under every dataset the atlas's claims read."""
    parts = axis.split(".")
    if parts[0] not in AXIS_ROOTS:
        raise _axis_error(name, axis, f"not a choice the atlas varies: a key path under one of {', '.join(AXIS_ROOTS)}")
    if parts[0] == "datasets" and len(parts) > 1 and parts[1] not in config["datasets"]:
        if not atlas_datasets:
            raise _axis_error(name, axis, "a dataset-level key, but the atlas's claims read no dataset")
        return [["datasets", d, *parts[1:]] for d in atlas_datasets]
    if len(parts) < 2:
        raise _axis_error(name, axis, "names a whole section; name one key in it")
    return [parts]


def _get(config: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def _set(config: dict, path: Sequence[str], value: Any) -> None:
    node = config
    for part in path[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ValueError(f"'{part}' is not a mapping")
        node = child
    node[path[-1]] = copy.deepcopy(value)


def merged_config(base: Mapping[str, Any], overrides: Mapping[str, Any], atlas_datasets: Sequence[str],
                  seeds: int | None, name: str) -> dict[str, Any]:
    """The config of a variant: the base config (without its atlases and their figures' styles), the atlas's seeds,
    then the overrides."""
    cfg = copy.deepcopy({k: v for k, v in base.items() if k != "atlases"})
    for figure in validation.atlas_figure_names(base):
        cfg["figures"].pop(figure, None)
    if seeds:
        cfg["seeds"] = int(seeds)
        for spec in cfg["datasets"].values():
            if "seeds" in spec:
                spec["seeds"] = int(seeds)
    for axis, value in overrides.items():
        for path in targets_of(axis, base, atlas_datasets, name):
            try:
                _set(cfg, path, value)
            except ValueError as exc:
                raise _axis_error(name, axis, f"cannot set {'.'.join(path)}: {exc}") from None
    return cfg


# ----------------------------------------------------------------------------- the variants
def variants(config: Mapping[str, Any], name: str, atlas_datasets: Sequence[str]) -> list[Variant]:
    """The baseline, one variant per value of each axis, then the joint draws (duplicates dropped)."""
    from .. import rng

    rob = atlas_spec(config, name)
    axes = active_axes(rob)
    out = [Variant("baseline", {}, "baseline")]
    for axis, values in axes.items():
        out += [Variant(variant_id({axis: v}), {axis: v}, "axis", axis) for v in values]
    joint = rob.get("joint") or {}
    # the stream's name predates the atlas's: the same draws as the single atlas before atlases were named
    draws = rng.numpy_rng(int(joint.get("seed", 0)), "robustness", "joint")
    for _ in range(int(joint.get("n", 0))):
        overrides = {}
        for axis, values in axes.items():
            choice = int(draws.integers(0, len(values) + 1))  # 0: the baseline's value
            if choice:
                overrides[axis] = values[choice - 1]
        out.append(Variant(variant_id(overrides), overrides, "joint"))
    seen, unique = set(), []
    for v in out:
        if v.id not in seen:
            seen.add(v.id)
            unique.append(v)
    return unique


# ----------------------------------------------------------------------------- identities
def data_identity(plan, dataset: str) -> dict[str, Any]:
    """What a dataset's prepared file depends on."""
    spec = plan.dataset_spec(dataset)
    drop = NOT_SYNTHETIC_DATA if is_synthetic(spec) else NOT_DATA
    out = {"spec": {k: v for k, v in spec.items() if k not in drop}, "base_seed": plan.config["base_seed"],
           "streams": plan.reuses(dataset, "streams")}
    if not is_synthetic(spec):
        out["sources"] = needed_sources(spec, plan.config["sources"])
    return out


def poison_identity(plan, dataset: str) -> dict[str, Any]:
    """What a dataset's poisoned files depend on, but the seeds (a file holds every seed of its cell: a
    variant with a subset of the seeds reads the same file)."""
    spec = plan.dataset_spec(dataset)
    return {"data": data_identity(plan, dataset), "signal": signal_spec(spec), "collective_2": spec.get("collective_2")}


def train_identity(plan, dataset: str) -> dict[str, Any]:
    """What a dataset's train jobs depend on, but the algorithm."""
    return {"poison": poison_identity(plan, dataset), "seeds": plan.seeds(dataset), "model": plan.model(dataset),
            "training": plan.training(dataset)}


# ----------------------------------------------------------------------------- the atlas
@dataclass
class VariantPlan:
    """One variant: its config, and for every panel the atlas reads, the panel that holds its cells."""

    variant: Variant
    config: dict[str, Any]
    table_names: tuple[str, ...] = ()  # the tables the atlas's claims read ('<panel>' or '<panel>_epochs')
    panels: dict[str, str] = field(default_factory=dict)  # config panel -> the plan's panel for this variant

    def tables(self) -> dict[str, str]:
        """The claims' inputs: each panel's table (and per-epoch table), keyed as the claims name them."""
        return {name: paths.path("epoch_table" if name.endswith(EPOCHS_SUFFIX) else "table",
                                 panel=self.panels[name.removesuffix(EPOCHS_SUFFIX)])
                for name in self.table_names}


@dataclass
class Derived:
    """The entries an atlas derives, named ``<name>__<hash of what they hold>``; a plan merges them with its own."""

    datasets: dict[str, dict] = field(default_factory=dict)
    algorithms: dict[str, dict] = field(default_factory=dict)
    panels: dict[str, dict] = field(default_factory=dict)
    families: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, name: str, entry) -> str:
        getattr(self, kind).setdefault(name, entry)
        return name


class Atlas:
    """The variants of a plan's config and the entries they derive. It reads the plan (the config's own entries)
    and writes nothing into it: its derived entries are its own (``derived``), which the plan merges."""

    def __init__(self, plan, name: str):
        self.plan = plan
        self.name = name
        self.config = atlas_spec(plan.config, name)
        marker = _marker(plan.config, plan.schema, name)
        checked = marker is not None and marker.exists()
        if not checked:
            check_section(plan.config, plan.schema, name)
        self.claims = resolve_claims(plan.config, name)
        self.claim_keys = [c.key for c in self.claims]
        self.table_names = tuple(dict.fromkeys(p for c in self.claims for p in c.panels))
        self.panel_names = tuple(dict.fromkeys(p.removesuffix(EPOCHS_SUFFIX) for p in self.table_names))
        self.datasets = atlas_datasets(plan.config, self.panel_names)
        self.derived = Derived()
        self.variants = [self._derive(v) for v in variants(plan.config, name, self.datasets)]
        self.by_id = {vp.variant.id: vp for vp in self.variants}
        if not checked:
            self._check_every_axis_matters()
            _remember(marker)

    # ------------------------------------------------------------------ deriving a variant
    def _derive(self, variant: Variant) -> VariantPlan:
        from .plan import Plan

        cfg = merged_config(self.plan.config, variant.overrides, self.datasets, self.config.get("seeds"), self.name)
        vplan = Plan(cfg, schema=self.plan.schema, validate=False)
        out = VariantPlan(variant, cfg, table_names=self.table_names)
        for panel in self.panel_names:
            out.panels[panel] = self._panel(vplan, panel)
        return out

    def _dataset(self, vplan, dataset: str) -> str:
        """The dataset that trains this variant's runs on ``dataset`` (the config's own where every setting
        agrees), and what it reuses: the random streams of ``dataset``, and the prepared and poisoned files of
        the config's dataset where they do not depend on what the variant changes."""
        plan = self.plan
        spec = vplan.dataset_spec(dataset)
        data, poison, train = data_identity(vplan, dataset), poison_identity(vplan, dataset), train_identity(vplan, dataset)
        data_name = dataset if data == data_identity(plan, dataset) else self.derived.add(
            "datasets", f"{dataset}__{short_hash(['data', data])}",
            {k: v for k, v in spec.items() if k not in NOT_DATA} | {"seeds": len(vplan.seeds(dataset)),
                                                                    "reuses": {"streams": dataset}})
        same_poison = poison == poison_identity(plan, dataset) and set(vplan.seeds(dataset)) <= set(plan.seeds(dataset))
        poison_name = dataset if same_poison else self.derived.add(
            "datasets", f"{dataset}__{short_hash(['poison', poison, vplan.seeds(dataset)])}",
            {k: v for k, v in spec.items() if k not in NOT_DATA} | {
                "seeds": len(vplan.seeds(dataset)), "reuses": {"streams": dataset, "data": data_name}})
        if train == train_identity(plan, dataset):
            return dataset
        entry = {k: v for k, v in spec.items() if k not in ("algorithms",)} | {
            "training": vplan.training(dataset), "model_spec": vplan.model(dataset),
            "seeds": len(vplan.seeds(dataset)),
            "reuses": {"streams": dataset, "data": data_name, "poisoned": poison_name}}
        return self.derived.add("datasets", f"{dataset}__{short_hash(['train', train])}", entry)

    def _algorithm(self, vplan, dataset: str, train_name: str, algorithm: str) -> str:
        """The algorithm that this variant runs as ``algorithm`` on ``dataset``: the config's, or a derived one."""
        plan = self.plan
        mine = {"learner": vplan.algorithm(algorithm)["learner"],
                "hyperparameters": vplan.hyperparameters(dataset, algorithm)}
        if algorithm in plan.algorithms:
            # a derived dataset carries no per-dataset overrides (its algorithms carry them): the algorithm's own
            theirs = (plan.algorithm(algorithm)["hyperparameters"] if DERIVED in train_name
                      else plan.hyperparameters(train_name, algorithm))
            if mine == {"learner": plan.algorithm(algorithm)["learner"], "hyperparameters": theirs}:
                return algorithm
        entry = {"learner": mine["learner"], **mine["hyperparameters"], **vplan.algorithm(algorithm)["style"]}
        return self.derived.add("algorithms", f"{algorithm}__{short_hash(['algorithm', mine])}", entry)

    def _panel(self, vplan, panel: str) -> str:
        plan = self.plan
        spec = dict(vplan.panel(panel))
        members = [self._dataset(vplan, d) for d in vplan.panel_datasets(panel)]
        algorithms = []
        for a in spec["algorithms"]:
            names = {self._algorithm(vplan, d, m, a) for d, m in zip(vplan.panel_datasets(panel), members)}
            if len(names) > 1:  # a family whose members resolve an algorithm differently
                raise ConfigError(f"config key 'atlases.{self.name}': panel '{panel}' runs '{a}' differently on the "
                                  f"members of its dataset family; the atlas cannot vary it")
            algorithms.append(names.pop())
        family = spec["dataset"] in vplan.families
        if family and members != plan.families.get(spec["dataset"]):
            spec["dataset"] = self.derived.add("families", f"{spec['dataset']}__{short_hash(['family', members])}",
                                               members)
        elif not family:
            spec["dataset"] = members[0]
        spec["algorithms"] = algorithms
        identity = {"panel": spec, "quality": vplan.config["quality"]}
        if identity == {"panel": plan.panels.get(panel), "quality": plan.config["quality"]}:
            return panel
        return self.derived.add("panels", f"{panel}__{short_hash(['panel', identity])}", spec)

    def _check_every_axis_matters(self) -> None:
        """An axis whose values change no run and no setting that the claims read is a mistake (a key of a panel or
        an algorithm that no listed claim reads): one error naming it."""
        axes = active_axes(self.config)
        for vp in self.variants:
            if vp.variant.kind == "axis" and not any(self.affected(vp.variant.id).values()):
                axis, value = vp.variant.axis, vp.variant.overrides[vp.variant.axis]
                raise _axis_error(self.name, axis, f"{canonical_json(value)} changes no run and no setting that the claims "
                                        f"{', '.join(self.claim_keys)} read (with it every run they read is the "
                                        f"baseline's: the value may be the one the baseline already uses there, "
                                        f"through a default or another key); drop it, or add a claim that reads it",
                                  axes[axis].index(value))

    # ------------------------------------------------------------------ what the rules read
    def claims_spec(self, variant: str) -> dict[str, Any]:
        vp = self.by_id[variant]
        return {"atlas": self.name, "variant": variant, "overrides": vp.variant.overrides, "claims": self.claim_keys,
                "settings": dict(vp.config["claims"])}

    def runs(self, variant: str) -> set[str]:
        """The run artifacts behind a variant's panels."""
        vp = self.by_id[variant]
        return {paths.path("run", dataset=d, algorithm=a, alpha=x, alpha_val=v)
                for panel in vp.panels.values() for d, a, x, v in self.plan.panel_cells(panel)}

    def affected(self, variant: str) -> dict[str, bool]:
        """Per claim: whether the variant changes a table it reads or a setting it uses, against the baseline."""
        vp, base = self.by_id[variant], self.by_id["baseline"]
        settings = self.claims_spec(variant)["settings"] != self.claims_spec("baseline")["settings"]
        return {c.key: settings or any(vp.panels[p.removesuffix(EPOCHS_SUFFIX)] != base.panels[p.removesuffix(EPOCHS_SUFFIX)]
                                      for p in c.panels)
                for c in self.claims}

    def summary_spec(self) -> dict[str, Any]:
        """What the atlas's summary records about each variant (its step's params)."""
        base_runs = self.runs("baseline")
        out = []
        for vp in self.variants:
            runs = self.runs(vp.variant.id)
            out.append({"id": vp.variant.id, "kind": vp.variant.kind, "axis": vp.variant.axis,
                        "overrides": vp.variant.overrides, "train_cells": len(runs),
                        "train_cells_new": len(runs - base_runs) if vp.variant.id != "baseline" else len(runs),
                        "affected": self.affected(vp.variant.id)})
        return {"atlas": self.name, "title": self.config.get("title", self.name), "claims": self.claim_keys,
                "seeds": self.seeds_per_cell("baseline"), "config_seeds": self.seeds_per_cell(None), "variants": out}

    def seeds_per_cell(self, variant: str | None) -> int:
        """The seeds of a cell of a variant's panels (None: the config's own panels); the largest where datasets
        differ (image datasets carry their own)."""
        plan = self.plan
        panels = self.by_id[variant].panels.values() if variant else self.panel_names
        return max(len(plan.seeds(d)) for panel in panels for d in plan.panel_datasets(panel))


def atlas_datasets(config: Mapping[str, Any], panels: Sequence[str]) -> list[str]:
    """The config's datasets (or dataset families) the panels use, in order."""
    return list(dict.fromkeys(config["panels"][p]["dataset"] for p in panels if p in config["panels"]))


# ----------------------------------------------------------------------------- validation
def _marker(config: Mapping[str, Any], schema: Mapping[str, Any], name: str):
    """Where a working directory remembers that this atlas passed its checks (named by the hashes of the config,
    the schema and the code of every module the atlas imports): the atlas is checked when it is first built in a
    working directory (its targets asked for), not on every call, and a config whose atlas does not concern the
    targets is never held up by it."""
    from .. import codehash

    return validation._validated_marker({"atlas": name, "config": config, "code": codehash.code_hashes((__name__,))},
                                        schema)


def _remember(marker) -> None:
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:  # a read-only working directory: check every time
            pass


def check_section(config: Mapping[str, Any], schema: Mapping[str, Any], name: str) -> None:
    """An atlas beyond its schema: claims that exist, axes that name a key the claims' runs or settings use (the
    last, once the variants are derived: :meth:`Atlas._check_every_axis_matters`), values the schema accepts at
    that key and that differ from the baseline's, and joint draws that are valid configs. One ConfigError naming
    the axis (or claim), before any job."""
    rob = atlas_spec(config, name)
    claims = resolve_claims(config, name)
    panels = list(dict.fromkeys(p.removesuffix(EPOCHS_SUFFIX) for c in claims for p in c.panels))
    for panel in panels:
        if panel not in config["panels"]:
            raise ConfigError(f"config key 'atlases.{name}.claims': the claims read panel '{panel}', which is not "
                              f"defined under 'panels'")
    datasets = atlas_datasets(config, panels)
    seeds = rob.get("seeds")
    for axis, values in active_axes(rob).items():
        paths_ = targets_of(axis, config, datasets, name)
        if paths_[0][0] == "panels" and paths_[0][-1] == "per_epoch_alphas":
            raise _axis_error(name, axis, "which alphas a panel records after every epoch is not a choice the atlas "
                                          "varies")
        for i, value in enumerate(values):
            shown = canonical_json(value)
            if all(_get(config, path) == value for path in paths_):
                raise _axis_error(name, axis, f"{shown} equals the baseline's value: list only alternatives to it", i)
            merged = merged_config(config, {axis: value}, datasets, seeds, name)
            try:
                validation.validate(merged, schema, remember=False)
            except ConfigError as exc:
                raise _axis_error(name, axis, f"{shown} makes the config invalid, {_inner(exc)}", i) from None
    for variant in variants(config, name, datasets):
        if variant.kind == "joint":
            try:
                validation.validate(merged_config(config, variant.overrides, datasets, seeds, name), schema,
                                    remember=False)
            except ConfigError as exc:
                raise ConfigError(f"config key 'atlases.{name}.joint': the draw {variant.describe()} is not a "
                                  f"valid config: {exc}") from None
