"""The 2D data of section 3.2 (Fig 1a)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Generator


@dataclass(frozen=True)
class Uniform2D(Generator):
    """x ~ U(-1, 1)^2 and y = 1[x1 > 0]."""

    name = "uniform_2d"
    description = "x ~ U(-1, 1)^2, y = 1[x1 > 0] (section 3.2, Fig 1a)."

    def label(self, x: np.ndarray) -> np.ndarray:
        return (x[:, 0] > 0).astype(np.int64)

    def sample(self, n, rng):
        x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
        return x, self.label(x)

    def label_support(self, x):
        return np.eye(2, dtype=bool)[self.label(x)]
