"""LMS-k (section 4.2, Fig 5a), after Shah et al. 2020: linear + k slabs."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Generator


@dataclass(frozen=True)
class LMSk(Generator):
    """Linear + k slabs: y from the side of x1 and, redundantly, from x2's slab."""

    k: int
    margin: float
    slab_gap: float

    name = "lms_k"
    family = "k"
    required = ["n_train", "n_val", "n_test", "margin", "slab_gap"]
    description = ("LMS-k after Shah et al. 2020 (section 4.2, Fig 5a): y from the side of x1 (|x1| >= margin) and, "
                   "redundantly, from which of k equal slabs along x2 the point is in (labels alternate, the bottom slab "
                   "is 0); needs k or ks, margin and slab_gap.")
    parameters = {
        "k": {"type": "integer", "minimum": 2, "description": "Number of slabs along x2."},
        "margin": {"type": "number", "minimum": 0, "exclusiveMaximum": 1,
                   "description": "(our choice) |x1| >= margin, the gap of the simple feature (Shah et al.'s gamma)."},
        "slab_gap": {"type": "number", "minimum": 0, "exclusiveMaximum": 1,
                     "description": "(our choice) Fraction of each slab's width left empty between neighbouring slabs "
                                    "(Shah et al. use a gap of 2 gamma between slabs)."},
    }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> LMSk:
        return cls(k=int(spec["k"]), margin=float(spec["margin"]), slab_gap=float(spec["slab_gap"]))

    @property
    def slab_width(self) -> float:
        return 2.0 / self.k

    def slab_labels(self) -> np.ndarray:
        return np.arange(self.k) % 2

    def slab_interval(self, j):
        lo = -1.0 + np.asarray(j) * self.slab_width
        pad = self.slab_gap * self.slab_width / 2
        return lo + pad, lo + self.slab_width - pad

    def _x1(self, y, rng):
        u = rng.uniform(self.margin, 1.0, size=len(y))
        return np.where(y == 1, u, -u)

    def _x2_in_slabs(self, slabs, rng):
        lo, hi = self.slab_interval(slabs)
        return rng.uniform(lo, hi)

    def sample(self, n, rng):
        y = rng.integers(0, 2, size=n)
        per_label = [np.flatnonzero(self.slab_labels() == c) for c in (0, 1)]
        slabs = np.where(y == 1, rng.choice(per_label[1], size=n), rng.choice(per_label[0], size=n))
        x = np.stack([self._x1(y, rng), self._x2_in_slabs(slabs, rng)], axis=1).astype(np.float32)
        return x, y.astype(np.int64)

    def slab_of(self, x2: np.ndarray) -> np.ndarray:
        """Index of the slab whose kept interval contains x2, or -1 in a gap."""
        j = np.clip(np.floor((np.asarray(x2) + 1.0) / self.slab_width).astype(int), 0, self.k - 1)
        lo, hi = self.slab_interval(j)
        return np.where((x2 >= lo) & (x2 <= hi), j, -1)

    def label_support(self, x):
        side = np.where(x[:, 0] >= self.margin, 1, np.where(x[:, 0] <= -self.margin, 0, -1))
        slab = self.slab_of(x[:, 1])
        slab_label = np.where(slab >= 0, self.slab_labels()[np.maximum(slab, 0)], -2)
        out = np.zeros((len(x), 2), dtype=bool)
        for c in (0, 1):
            out[:, c] = (side == c) & (slab_label == c)
        return out

    def reference_points(self):
        # P0 is not uniform on the square (margins, gaps): a large fixed sample from it
        x, _ = self.sample(400_000, np.random.default_rng(12345))
        return x.astype(np.float64)

    def probe(self, n, rng):
        """x1 drawn with its label as usual, x2 from any slab independently of the label:
        agreement with 1[x1 > 0] is 1 for a model that uses x1 only and about 1/2 for x2 only."""
        y = rng.integers(0, 2, size=n)
        x2 = self._x2_in_slabs(rng.integers(0, self.k, size=n), rng)
        x = np.stack([self._x1(y, rng), x2], axis=1).astype(np.float32)
        return x, y.astype(np.int64)
