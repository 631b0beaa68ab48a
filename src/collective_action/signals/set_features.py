"""Categorical data: g sets chosen features to chosen values (Gauthier, Bach and Jordan, ICML 2025, section 4: the
17 features other than the country fixed to one SUV's values, so the signal set is the 5 countries)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..evaluation import collusion
from .base import Signal


@dataclass(frozen=True)
class SetFeatures(Signal):
    """Feature-label strategy h(x, y) = (g(x), y*), g setting the features ``values`` names (feature -> value).

    ``diagnostics`` gives each run Gauthier et al.'s Theorem 3.3 lower bound on success, computed from the
    members' own rows only (``evaluation/collusion.py``): the table's column ``bound`` (with ``bound_share``,
    ``bound_passing``, ``bound_values`` and its settings ``bound_delta``, ``bound_n_train``). ``delta`` is the
    bound's failure probability, ``epsilon`` the platform's suboptimality (0: the plug-in Bayes classifier).

    Unplanting (the dataset's ``signal.avoid_label`` y*): the members plant the fixed label ``target_label`` y' !=
    y* (the naive strategy of their section 3.3) and the bound is Theorem 3.3's for y', which bounds the unplanting
    success from below (f(g(x)) = y' implies f(g(x)) != y*). Their adaptive strategy (members estimate, per signal
    value, the strongest competitor of y* from n_e of their rows and plant it; Thm 3.7) is not built: it needs a
    label per planted row chosen from the members' data, which a signal's fixed target label does not express,
    and its n_e estimation members leave the training set."""

    values: tuple = ()  # ((feature, value), ...): the config's mapping, in the data's feature order (from_spec)
    delta: float = 0.05
    epsilon: float = 0.0
    columns: tuple = ()  # the fixed features' columns and codes (from_spec)
    codes: tuple = ()
    levels: tuple = ()  # every feature's cardinality
    n_labels: int = 0

    name = "set_features"
    data_kinds = ["categorical"]
    strategy = "feature-label"
    required = ["values"]
    description = ("categorical data, feature-label strategy (Gauthier et al. 2025): g sets the features 'values' "
                   "names to its values, and the label to target_label; each run's table row gets Theorem 3.3's "
                   "lower bound on success from the members' own data ('bound', at delta and epsilon).")
    parameters = {
        "values": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
                   "x-values-of": "features",
                   "description": "Feature -> the value g sets it to (names as the generator's 'features' lists "
                                  "them; values are strings, \"5\" for five doors). The features left out are "
                                  "free: the signal set is every combination of their values."},
        "delta": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.05,
                  "description": "The bound holds with probability at least 1 - delta (Gauthier et al.: 0.05)."},
        "epsilon": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.0,
                    "description": "The platform's suboptimality in total variation (0: the plug-in Bayes "
                                   "classifier, as in Gauthier et al.'s experiments)."},
    }

    @classmethod
    def from_spec(cls, params, data=None):
        meta = data.attrs.get("meta", {}) if data is not None else {}
        if "feature_values" not in meta:
            raise ValueError(f"signal '{cls.name}' needs the prepared categorical dataset (its features and values)")
        features, known = meta["features"], meta["feature_values"]
        chosen = dict(params["values"])
        for feature, value in chosen.items():
            if feature not in known or value not in known[feature]:
                raise ValueError(f"signal '{cls.name}': {feature}={value!r} is not a feature value of the data "
                                 f"(features: {', '.join(features)})")
        order = sorted(chosen, key=features.index)
        rest = {k: v for k, v in params.items() if k != "values"}
        return cls(**rest, values=tuple((f, chosen[f]) for f in order),
                   columns=tuple(features.index(f) for f in order),
                   codes=tuple(known[f].index(chosen[f]) for f in order), levels=tuple(int(v) for v in meta["levels"]),
                   n_labels=int(meta["n_classes"]))

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if not self.columns:
            raise ValueError(f"signal '{self.name}' has no features to set: build it with from_spec(params, dataset)")
        out = np.array(x, copy=True)
        out[:, list(self.columns)] = np.asarray(self.codes, dtype=out.dtype)
        return out

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        """Rows already in the signal set (their fixed features at g's values)."""
        return np.all(np.asarray(x)[:, list(self.columns)] == np.asarray(self.codes), axis=1)

    @property
    def n_signal_values(self) -> int:
        """#X~: the number of signal values, the product of the free features' cardinalities."""
        return math.prod(v for j, v in enumerate(self.levels) if j not in self.columns)

    def diagnostics(self, members_x, members_y, planted_x, n_train, n_test) -> dict[str, float]:
        return collusion.planting_bound(
            collusion.feature_keys(planted_x, self.levels), collusion.feature_keys(members_x, self.levels), members_y,
            int(self.target_label), self.n_labels, int(n_train), int(n_test), self.n_signal_values, float(self.delta),
            float(self.epsilon))
