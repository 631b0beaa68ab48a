"""The workflow plan: the validated config, its datasets and algorithms resolved, and the targets.

The Snakefile builds one :class:`Plan`; ``steps.jobs`` turns it into each step's inputs
and params, :mod:`captions` into report captions, :mod:`paths` names the artifacts.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import product
from typing import Any

from ..configuration import schema as config_schema
from ..configuration import validation
from ..configuration.errors import ConfigError
from ..configuration.merge import deep_merge
from ..datasets import is_synthetic, maker
from ..learners import defaults as learner_defaults
from . import paths
from .paths import DERIVED, DERIVED_SUFFIX


def expand_datasets(datasets: Mapping[str, Any]) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """Concrete datasets, and the families that a list key expands into.

    A generator or builder with ``family = "k"`` takes ``ks: [2, 4]`` instead of ``k``:
    ``lms: {generator: lms_k, ks: [2, 4], ...}`` becomes ``lms_k2`` and ``lms_k4``, each with
    its own ``k`` (``family_scale`` scales the value in the name: MNIST-CIFAR's c = 0.5 gives
    ``_c50``); a member's spec does not contain the list, so editing the list leaves the other
    members' jobs untouched."""
    concrete: dict[str, dict] = {}
    families: dict[str, list[str]] = {}
    for name, spec in datasets.items():
        key = maker(spec).meta.get("family")
        if not key or f"{key}s" not in spec:
            concrete[name] = dict(spec)
            continue
        members = []
        for value in spec[f"{key}s"]:
            member = {k: v for k, v in spec.items() if k != f"{key}s"}
            member.update({key: value, "family": name})
            member_name = f"{name}_{key}{round(float(value) * maker(spec).meta.get('family_scale', 1))}"
            concrete[member_name] = member
            members.append(member_name)
        families[name] = members
    return concrete, families


class Plan:
    """The validated config resolved: its datasets (families expanded), algorithms and panels, and the
    targets. Resolving a config builds nothing else.

    The robustness atlas (:mod:`planning.atlas`) derives, from the plans of its variants, entries named
    ``<name>__<hash>`` for the choices the paper leaves open; the plan merges them. It is given as ``atlas``, a
    callable from a plan to an object with ``derived`` (the Snakefile passes :class:`planning.atlas.Atlas`), and
    called on first need (a derived name, or an atlas target), so plain targets never pay for it. Its derived
    entries are its own: the plan's dicts hold the config's entries only."""

    def __init__(self, config: Mapping[str, Any], schema_path: str = str(config_schema.REPO_SCHEMA),
                 schema: Mapping[str, Any] | None = None, validate: bool = True,
                 atlas: Callable[[Plan], Any] | None = None):
        self.schema = schema if schema is not None else config_schema.load_schema(schema_path)
        if validate:
            validation.validate(config, self.schema)
        self.config = config
        self.datasets, self.families = expand_datasets(config["datasets"])
        self.algorithms: dict[str, dict] = {k: dict(v) for k, v in config["algorithms"].items()}
        self.panels: dict[str, dict] = {k: dict(v) for k, v in config["panels"].items()}
        self._make_atlas = atlas
        self._atlases: dict[str, Any] = {}

    # ------------------------------------------------------------------ the robustness atlases
    def atlas(self, name: str):
        """The robustness atlas ``name`` (``atlases.<name>``), built on first use."""
        if name not in (self.config.get("atlases") or {}):
            raise ConfigError(f"config key 'atlases': no atlas named '{name}' (defined: "
                              f"{', '.join(self.config.get('atlases') or {}) or 'none'})")
        if self._make_atlas is None:
            raise ConfigError("this plan was made without its atlases (Plan(..., atlas=Atlas)), and a derived "
                              "name or an atlas target needs them")
        if name not in self._atlases:
            self._atlases[name] = self._make_atlas(self, name)
        return self._atlases[name]

    def atlas_names(self) -> list[str]:
        return list(self.config.get("atlases") or {})

    def atlas_curves(self) -> dict[str, list[str]]:
        """Per atlas, the claims whose effects its curve figure draws (``curves``; default its first three)."""
        return {name: list(spec.get("curves") or spec["claims"][:3])
                for name, spec in (self.config.get("atlases") or {}).items()}

    def _lookup(self, kind: str, name: str):
        """An entry of ``kind`` ('datasets', 'algorithms', 'panels', 'families') by name: the config's, or one an
        atlas derived (every atlas is built to find it: their derived names are hashes of what they hold, so two
        atlases that agree on an entry share it)."""
        own = getattr(self, kind)
        if name in own:
            return own[name]
        if DERIVED in name:
            for atlas in self.atlas_names():
                derived = getattr(self.atlas(atlas).derived, kind)
                if name in derived:
                    return derived[name]
        raise KeyError(name)

    def derived_panels(self) -> dict[str, dict]:
        """Every panel the atlases derived."""
        return {k: v for a in self.atlas_names() for k, v in self.atlas(a).derived.panels.items()}

    # ------------------------------------------------------------------ studies
    def studies(self) -> dict[str, dict]:
        return {k: dict(v) for k, v in self.config["studies"].items()}

    def study(self, name: str) -> dict[str, Any]:
        try:
            return dict(self.config["studies"][name])
        except KeyError:
            raise ConfigError(f"config key 'studies': no study named '{name}' "
                              f"(defined: {', '.join(self.config['studies'])})") from None

    def study_of(self, panel: str) -> str:
        """The study that builds a panel (the config checks that exactly one does)."""
        return next(name for name, s in self.config["studies"].items() if panel in s["panels"])

    def study_tables(self, name: str) -> dict[str, str]:
        """The tables a study's claims read, keyed as the claims name them: each panel's ('<panel>') and its
        per-epoch table where it has one ('<panel>_epochs'), its own panels first, then those it reads."""
        study = self.study(name)
        out = {}
        for panel in [*study["panels"], *study.get("reads", [])]:
            out[panel] = paths.path("table", panel=panel)
            if self.panel(panel).get("per_epoch_alphas"):
                out[f"{panel}_epochs"] = paths.path("epoch_table", panel=panel)
        return out

    # ------------------------------------------------------------------ datasets
    def dataset_spec(self, dataset: str) -> dict[str, Any]:
        try:
            return dict(self._lookup("datasets", dataset))
        except KeyError:
            raise ConfigError(f"config key 'datasets': no dataset named '{dataset}' "
                              f"(defined: {sorted(self.datasets)})") from None

    def seeds(self, dataset: str) -> list[int]:
        return list(range(int(self.dataset_spec(dataset).get("seeds", self.config["seeds"]))))

    def training(self, dataset: str) -> dict[str, Any]:
        return deep_merge(self.config["training"], self.dataset_spec(dataset).get("training"))

    def model(self, dataset: str) -> dict[str, Any]:
        """The dataset's model, resolved (a derived dataset of the atlas carries its own)."""
        spec = self.dataset_spec(dataset)
        return dict(spec["model_spec"]) if "model_spec" in spec else dict(self.config["models"][spec["model"]])

    def reuses(self, dataset: str, what: str) -> str:
        """The dataset whose ``what`` this dataset reuses: 'streams' (its random streams: the config dataset a
        derived one comes from), 'data' (its prepared file) or 'poisoned' (its poisoned files); its own unless
        the atlas shares them (a derived entry's ``reuses``)."""
        return (self.dataset_spec(dataset).get("reuses") or {}).get(what, dataset)

    def dataset_regex(self, external: bool) -> str:
        """A wildcard constraint matching exactly the synthetic (or the external-data) datasets, and the
        atlas's datasets derived from them; one that matches nothing when there are none of that kind,
        which leaves the rule unused."""
        names = sorted(d for d, s in self.datasets.items() if is_synthetic(s) != external)
        if not names:
            return "(?!x)x"
        return "(?:" + "|".join(re.escape(n) for n in names) + f")(?:{DERIVED_SUFFIX})?"

    # ------------------------------------------------------------------ algorithms
    def algorithm(self, name: str) -> dict[str, Any]:
        """{learner, hyperparameters (the learner's defaults, then config), style keys given in config}."""
        try:
            entry = dict(self._lookup("algorithms", name))
        except KeyError:
            raise ConfigError(f"config key 'algorithms': no algorithm named '{name}'") from None
        learner = entry.pop("learner", name)
        style = {k: entry.pop(k) for k in list(entry) if k in config_schema.STYLE_KEYS}
        return {"learner": learner, "hyperparameters": {**learner_defaults(learner), **entry}, "style": style}

    def hyperparameters(self, dataset: str, algorithm: str) -> dict[str, Any]:
        override = (self.dataset_spec(dataset).get("algorithms") or {}).get(algorithm)
        return deep_merge(self.algorithm(algorithm)["hyperparameters"], override)

    # ------------------------------------------------------------------ panels
    def panel(self, panel: str) -> dict[str, Any]:
        try:
            return self._lookup("panels", panel)
        except KeyError:
            raise ConfigError(f"config key 'panels': no panel named '{panel}'") from None

    def panel_datasets(self, panel: str) -> list[str]:
        name = self.panel(panel)["dataset"]
        try:
            return list(self._lookup("families", name))
        except KeyError:
            return [name]

    def family_member(self, panel: str, value) -> str:
        """The panel's dataset, or for a family the member whose family value is nearest to ``value``."""
        members = self.panel_datasets(panel)
        if value is None or len(members) == 1:
            return members[0]
        specs = {m: self.dataset_spec(m) for m in members}
        key = maker(specs[members[0]]).meta["family"]
        return min(members, key=lambda m: (abs(specs[m][key] - value), specs[m][key]))

    def panel_cells(self, panel: str) -> list[tuple[str, str, float, float]]:
        p = self.panel(panel)
        return list(product(self.panel_datasets(panel), p["algorithms"], p["alphas"], p["alpha_vals"]))

    def records_every_epoch(self, dataset: str, algorithm: str, alpha: float, alpha_val: float) -> bool:
        """Whether a per-epoch table reads this cell (then its test predictions are kept after every epoch). A cell
        of a derived dataset or algorithm is read by the atlas's panels too (the atlas never varies which alphas
        a panel records per epoch, so a cell of the config's own is read by the config's panels alone)."""
        panels = dict(self.panels)
        if DERIVED in dataset or DERIVED in algorithm:
            panels.update(self.derived_panels())
        for name, p in panels.items():
            if (p.get("per_epoch_alphas") and algorithm in p["algorithms"] and alpha in p["per_epoch_alphas"]
                    and alpha_val in p["alpha_vals"] and dataset in self.panel_datasets(name)):
                return True
        return False

    def on_request(self, panel: str) -> bool:
        """Whether a panel is built only when asked for: its study is not a default one, or it needs external
        data."""
        return not self.study(self.study_of(panel)).get("default") or self.needs_external_data(panel)

    def needs_external_data(self, panel: str) -> bool:
        return any(not is_synthetic(self.dataset_spec(d)) for d in self.panel_datasets(panel))

    # ------------------------------------------------------------------ targets
    def study_targets(self, name: str) -> list[str]:
        """What building a study means: its panels' tables (and per-epoch tables), the figures that draw only its
        panels (and those it reads), and its claims."""
        from ..figures.catalog import FIGURES

        study = self.study(name)
        panels = list(study["panels"])
        readable = set(panels) | set(study.get("reads", []))
        figures = [f for f, spec in FIGURES.items()
                   if spec.panel_names() and set(spec.panel_names()) <= readable
                   and set(spec.panel_names()) & set(panels)]
        epoch_tables = [paths.path("epoch_table", panel=p) for p in panels if self.panel(p).get("per_epoch_alphas")]
        return ([paths.path("figure", figure=f) for f in figures] + [paths.path("table", panel=p) for p in panels]
                + epoch_tables + [paths.path("claims_csv", study=name), paths.path("claims_md", study=name)])

    def atlas_targets(self, name: str) -> list[str]:
        return [paths.path("atlas_csv", atlas=name), paths.path("atlas_md", atlas=name),
                paths.path("figure", figure=f"atlas_{name}"), paths.path("figure", figure=f"atlas_{name}_curve")]

    def default_targets(self) -> list[str]:
        """Every study marked default whose panels need no external data (its tables, figures and claims), and the
        findings."""
        return [t for name, study in self.config["studies"].items()
                if study.get("default") and not any(self.needs_external_data(p) for p in study["panels"])
                for t in self.study_targets(name)] + [paths.path("findings")]
