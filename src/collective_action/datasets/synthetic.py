"""Synthetic 2D datasets of the paper.

Each generator draws (x, y) from its base distribution P0 and knows its own
Bayes posterior P0(y | x), which the theory module needs for the uniqueness xi
and the sub-optimality gap Delta of a signal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True)
class Uniform2D:
    """x ~ U(-1, 1)^2 and y = 1[x1 > 0] (section 3.2, Fig 1a)."""

    n_classes: int = 2
    bounds: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)  # x1 min, x1 max, x2 min, x2 max

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "Uniform2D":
        return cls()

    def label(self, x: np.ndarray) -> np.ndarray:
        return (x[:, 0] > 0).astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
        return x, self.label(x)

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """P0(y = c | x) for every class, shape (n, n_classes); labels are deterministic."""
        return np.eye(self.n_classes)[self.label(x)]

    def reference_points(self, per_axis: int = 1000) -> np.ndarray:
        """Cell centres of a regular grid: under the uniform P0 the fraction of them in a
        region is that region's probability (exact for the half-planes used here)."""
        x1 = np.linspace(-1, 1, per_axis, endpoint=False) + 1.0 / per_axis
        grid = np.stack(np.meshgrid(x1, x1, indexing="ij"), axis=-1).reshape(-1, 2)
        return grid.astype(np.float64)


GENERATORS = {"uniform_2d": Uniform2D}


def make_generator(spec: Mapping[str, Any]):
    try:
        cls = GENERATORS[spec["generator"]]
    except KeyError:
        raise ValueError(f"unknown synthetic generator '{spec.get('generator')}' (known: {sorted(GENERATORS)})") from None
    return cls.from_spec(spec)
