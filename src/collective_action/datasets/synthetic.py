"""Synthetic 2D datasets of the paper, all on the square (-1, 1)^2.

Each generator draws (x, y) from its base distribution P0 and knows which labels
have positive density at a point (``label_support``), from which the theory
module derives the uniqueness xi, the sub-optimality gap Delta of a signal and
the success a collective can reach without contradicting clean data.

- ``uniform_2d`` (section 3.2, Fig 1a): x ~ U(-1, 1)^2, y = 1[x1 > 0].
- ``lms_k`` (section 4.2, Fig 5a, after Shah et al. 2020): the label is given both
  by the side of x1 (the simple feature; |x1| >= margin) and by which of k
  equal slabs along x2 the point lies in (the complex feature; labels alternate
  slab by slab, the bottom slab has label 0, and each slab keeps the central
  1 - slab_gap of its width, so neighbouring slabs are separated by slab_gap
  times the slab width, Shah et al.'s gap of 2 gamma).
- ``k_strips`` (section 4.2, Fig 7a): x ~ U(-1, 1)^2, the label alternates over
  k horizontal strips along x2 (strips numbered 1..k from the bottom; even
  strips are positive); x1 carries no label information. The paper draws from
  (0, 1)^2 but plants its signal at "x1 < 0", which cannot happen there; we draw
  from (-1, 1)^2, so "x1 < 0" is the left half, as in the other 2D datasets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

SQUARE = (-1.0, 1.0, -1.0, 1.0)  # x1 min, x1 max, x2 min, x2 max


def _grid(per_axis: int = 1000) -> np.ndarray:
    """Cell centres of a regular grid on the square: under a uniform P0 the fraction of
    them in a region is that region's probability (exact for the half planes and strips here)."""
    c = np.linspace(-1, 1, per_axis, endpoint=False) + 1.0 / per_axis
    return np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)


class Generator:
    n_classes = 2
    bounds = SQUARE

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

    def probe(self, n: int, rng: np.random.Generator):
        """A test set for simplicity bias: inputs and the simple rule's labels, or None."""
        return None


@dataclass(frozen=True)
class Uniform2D(Generator):
    """x ~ U(-1, 1)^2 and y = 1[x1 > 0]."""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "Uniform2D":
        return cls()

    def label(self, x: np.ndarray) -> np.ndarray:
        return (x[:, 0] > 0).astype(np.int64)

    def sample(self, n, rng):
        x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
        return x, self.label(x)

    def label_support(self, x):
        return np.eye(2, dtype=bool)[self.label(x)]


@dataclass(frozen=True)
class LMSk(Generator):
    """Linear + k slabs: y from the side of x1 and, redundantly, from x2's slab."""

    k: int
    margin: float
    slab_gap: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "LMSk":
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


@dataclass(frozen=True)
class KStrips(Generator):
    """x ~ U(-1, 1)^2, positive iff x lies in an even-numbered horizontal strip (1..k from the bottom)."""

    k: int

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> "KStrips":
        return cls(k=int(spec["k"]))

    def label(self, x):
        strip = np.clip(np.floor((x[:, 1] + 1.0) / (2.0 / self.k)).astype(int), 0, self.k - 1) + 1
        return (strip % 2 == 0).astype(np.int64)

    def sample(self, n, rng):
        x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
        return x, self.label(x)

    def label_support(self, x):
        return np.eye(2, dtype=bool)[self.label(x)]


GENERATORS = {"uniform_2d": Uniform2D, "lms_k": LMSk, "k_strips": KStrips}


def make_generator(spec: Mapping[str, Any]):
    try:
        cls = GENERATORS[spec["generator"]]
    except KeyError:
        raise ValueError(f"unknown synthetic generator '{spec.get('generator')}' (known: {sorted(GENERATORS)})") from None
    return cls.from_spec(spec)
