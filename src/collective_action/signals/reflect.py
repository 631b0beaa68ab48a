"""Reflections of one coordinate to its negative side (the 2D, LMS-k and k-strips signals)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Signal


@dataclass(frozen=True)
class ReflectNegative(Signal):
    """Reflect coordinate ``axis`` to its negative side."""

    axis = None  # set by the subclasses

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        out = np.array(x, copy=True)
        out[:, self.axis] = -np.abs(out[:, self.axis])
        return out

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        return x[:, self.axis] <= 0

    def codomain_box(self, bounds) -> tuple[float, float, float, float]:
        """The codomain inside the data's (x1_lo, x1_hi, x2_lo, x2_hi) box, for shading in figures."""
        box = list(bounds)
        box[2 * self.axis + 1] = 0.0  # the upper end of the reflected coordinate
        return tuple(box)


@dataclass(frozen=True)
class ReflectX2(ReflectNegative):
    name = "reflect_x2_negative"
    axis = 1
    description = ("g(x1, x2) = (x1, -|x2|), the signal of the 2D data (section 3.2) and of LMS-k (section 4.2), whose "
                   "codomain is the half plane x2 <= 0.")


@dataclass(frozen=True)
class ReflectX1(ReflectNegative):
    name = "reflect_x1_negative"
    axis = 0
    description = "g(x1, x2) = (-|x1|, x2), the k-strips signal on the simple feature x1 (codomain: x1 <= 0)."
