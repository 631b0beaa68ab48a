"""Reflections of one coordinate to one side (the 2D, LMS-k and k-strips signals, and the second
collective of the two-collective experiment)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Signal


@dataclass(frozen=True)
class Reflect(Signal):
    """Reflect coordinate ``axis`` to the side ``side`` (-1: negative, +1: positive)."""

    axis = None  # set by the subclasses
    side = -1
    data_kinds = ["synthetic"]  # 2-D points

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        out = np.array(x, copy=True)
        out[:, self.axis] = self.side * np.abs(out[:, self.axis])
        return out

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        return self.side * x[:, self.axis] >= 0

    def codomain_box(self, bounds) -> tuple[float, float, float, float]:
        """The codomain inside the data's (x1_lo, x1_hi, x2_lo, x2_hi) box, for shading in figures."""
        box = list(bounds)
        box[2 * self.axis + (1 if self.side < 0 else 0)] = 0.0  # the end of the reflected coordinate on the other side
        return tuple(box)


@dataclass(frozen=True)
class ReflectX2(Reflect):
    name = "reflect_x2_negative"
    axis = 1
    description = ("g(x1, x2) = (x1, -|x2|), the signal of the 2D data (section 3.2) and of LMS-k (section 4.2), whose "
                   "codomain is the half plane x2 <= 0.")


@dataclass(frozen=True)
class ReflectX1(Reflect):
    name = "reflect_x1_negative"
    axis = 0
    description = "g(x1, x2) = (-|x1|, x2), the k-strips signal on the simple feature x1 (codomain: x1 <= 0)."


@dataclass(frozen=True)
class ReflectX2Positive(Reflect):
    name = "reflect_x2_positive"
    axis = 1
    side = 1
    description = ("g(x1, x2) = (x1, |x2|), whose codomain is the half plane x2 >= 0: the mirror image of "
                   "reflect_x2_negative (the second collective of the two-collective experiment on 2D).")
