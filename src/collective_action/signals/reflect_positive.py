"""The mirror image of the 2D signal: reflect x2 to its positive side (the second collective of the
two-collective experiment on 2D, see ``collective.py``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .reflect import ReflectNegative


@dataclass(frozen=True)
class ReflectX2Positive(ReflectNegative):
    name = "reflect_x2_positive"
    axis = 1
    description = ("g(x1, x2) = (x1, |x2|), whose codomain is the half plane x2 >= 0: the mirror image of "
                   "reflect_x2_negative (the second collective of the two-collective experiment on 2D).")

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        out = np.array(x, copy=True)
        out[:, self.axis] = np.abs(out[:, self.axis])
        return out

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        return x[:, self.axis] >= 0

    def codomain_box(self, bounds) -> tuple[float, float, float, float]:
        box = list(bounds)
        box[2 * self.axis] = 0.0  # the lower end of the reflected coordinate
        return tuple(box)
