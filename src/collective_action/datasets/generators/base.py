"""The generator interface; all 2D generators live on the square (-1, 1)^2."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

SQUARE = (-1.0, 1.0, -1.0, 1.0)  # x1 min, x1 max, x2 min, x2 max


def _grid(per_axis: int = 1000) -> np.ndarray:
    """Cell centres of a regular grid on the square: under a uniform P0 the fraction of
    them in a region is that region's probability (exact for the half planes and strips here)."""
    c = np.linspace(-1, 1, per_axis, endpoint=False) + 1.0 / per_axis
    return np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)


class Generator:
    n_classes = 2  # labels 0 .. n_classes - 1 (the config's target labels are checked against it)
    data_kind = "synthetic"  # what its inputs are: the signals and models that take them say so (configuration/checks.py)
    bounds = SQUARE  # the inputs' box (None: codes of categorical features, not points on a scale)
    parameters = {}
    required = ["n_train", "n_val", "n_test"]
    family = None
    description = ""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Generator:
        return cls()

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def label_support(self, x: np.ndarray) -> np.ndarray:
        """[N, n_classes] booleans: which labels have positive density at each point."""
        raise NotImplementedError

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """P0(y = c | x) on the support (labels are deterministic here; NaN off the support)."""
        support = self.label_support(x).astype(float)
        total = support.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, support / total, np.nan)

    def reference_points(self) -> np.ndarray:
        """Points whose empirical distribution is P0 (for xi, Delta and the success ceiling)."""
        return _grid()

    def data_meta(self) -> dict:
        """What the prepared file's meta carries beyond the kind, classes and input range: a categorical
        generator's features, their values and cardinalities (read by a model kind's ``from_data`` and a
        signal's ``from_spec``). Nothing by default."""
        return {}

    def probe(self, n: int, rng: np.random.Generator):
        """A test set for simplicity bias: inputs and the simple rule's labels, or None."""
        return None
