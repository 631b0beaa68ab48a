"""The workflow plan: the validated config, its datasets and algorithms resolved, and the targets.

The Snakefile builds one :class:`Plan`; :mod:`jobs` turns it into each step's inputs
and params, :mod:`captions` into report captions, :mod:`paths` names the artifacts.
"""
from __future__ import annotations

import functools
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


def claim_panels(config: Mapping[str, Any]) -> list[str]:
    """``claims.panels`` as one list: a plain list, or the union of its named sets in order (an overlay adds a set)."""
    panels = config["claims"]["panels"]
    if isinstance(panels, Mapping):
        return list(dict.fromkeys(p for members in panels.values() for p in (members or [])))
    return list(panels)


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

    # ------------------------------------------------------------------ the robustness atlas
    @functools.cached_property
    def atlas(self):
        """The robustness atlas of this config, built on first use."""
        if self._make_atlas is None:
            raise ConfigError("this plan was made without its atlas (Plan(..., atlas=Atlas)), and a derived "
                              "name or an atlas target needs it")
        return self._make_atlas(self)

    def atlas_in_claims(self) -> bool:
        """Whether claims.md carries the atlas's "holds in k of n" (robustness.in_claims)."""
        return bool((self.config.get("robustness") or {}).get("in_claims"))

    def _lookup(self, kind: str, name: str):
        """An entry of ``kind`` ('datasets', 'algorithms', 'panels', 'families') by name: the config's, or one the
        atlas derived."""
        own = getattr(self, kind)
        if name in own:
            return own[name]
        if DERIVED in name:
            return getattr(self.atlas.derived, kind)[name]
        raise KeyError(name)

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
            panels.update(self.atlas.derived.panels)
        for name, p in panels.items():
            if (p.get("per_epoch_alphas") and algorithm in p["algorithms"] and alpha in p["per_epoch_alphas"]
                    and alpha_val in p["alpha_vals"] and dataset in self.panel_datasets(name)):
                return True
        return False

    def claim_panels(self) -> list[str]:
        """The panels whose tables the claims read: ``claims.panels``, a list or named sets read in order."""
        return claim_panels(self.config)

    def panel_available(self, panel: str) -> bool:
        return panel in self.config["panels"]

    def on_request(self, panel: str) -> bool:
        """Whether a panel is built only when asked for (its own 'on_request', or external data)."""
        return bool(self.panel(panel).get("on_request")) or self.needs_external_data(panel)

    def needs_external_data(self, panel: str) -> bool:
        return any(not is_synthetic(self.dataset_spec(d)) for d in self.panel_datasets(panel))

    # ------------------------------------------------------------------ targets
    def default_targets(self) -> list[str]:
        """Every figure, table and claim that needs no external data and is not built on request only."""
        from ..figures.catalog import FIGURES

        panels = [p for p in self.config["panels"] if not self.on_request(p)]
        figures = [f for f, spec in FIGURES.items()
                   if not spec.on_request and all(self.panel_available(p) and not self.on_request(p)
                                                  for p in spec.panel_names())]
        epoch_tables = [paths.path("epoch_table", panel=p) for p in panels
                        if self.config["panels"][p].get("per_epoch_alphas")]
        atlas = [paths.path("figure", figure=f) for f, spec in FIGURES.items() if spec.on_request and
                 spec.atlas] if self.atlas_in_claims() else []
        return ([paths.path("figure", figure=f) for f in figures] + [paths.path("table", panel=p) for p in panels]
                + epoch_tables + [paths.path("claims_csv"), paths.path("claims_md")] + atlas)
