"""Collective signals g: X -> X and their codomains X* = g(X).

A signal works on inputs as stored (floats for synthetic data, uint8 NCHW images
for image data, before any normalisation or augmentation), so what the
collective plants is exactly what the firm receives. ``apply(x, rng)`` takes a
random generator for signals that draw (the MNIST-CIFAR pool); the others ignore it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True)
class ReflectNegative:
    """Reflect one coordinate to its negative side: axis 1 gives g(x1, x2) = (x1, -|x2|), the
    signal of the 2D data and LMS-k (section 3.2); axis 0 gives g(x1, x2) = (-|x1|, x2), the
    k-strips signal on the simple feature (Fig 7a)."""

    axis: int
    target_label: int

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
class PixelGrid:
    """The CIFAR-10 signal (Fig 2): +delta on the 0-255 scale at every second pixel of every
    second row, i.e. rows and columns 0, 2, 4, ... (0-based), in all three channels,
    saturating at 255 (uint8 arithmetic would wrap around)."""

    target_label: int
    delta: int = 2

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if x.dtype != np.uint8:
            raise TypeError(f"the pixel signal works on uint8 images, got {x.dtype}")
        out = np.array(x, copy=True)
        grid = out[..., 0::2, 0::2].astype(np.int16) + self.delta
        out[..., 0::2, 0::2] = np.clip(grid, 0, 255).astype(np.uint8)
        return out


@dataclass(frozen=True)
class CifarHalfPool:
    """MNIST-CIFAR (Fig 6): the CIFAR half (bottom 32 rows) replaced by an image drawn
    from the dataset's fixed pool of training automobiles or trucks; the MNIST half stays."""

    target_label: int
    pool: str
    images: np.ndarray = None  # [P, 3, 32, 32], from the prepared dataset

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if rng is None:
            raise ValueError("the pool signal draws an image per point and needs a random generator")
        out = np.array(x, copy=True)
        out[:, :, 32:, :] = self.images[rng.integers(0, len(self.images), size=len(x))]
        return out


SIGNALS = {"reflect_x2_negative": partial(ReflectNegative, 1), "reflect_x1_negative": partial(ReflectNegative, 0),
           "pixel_grid": PixelGrid, "cifar_half_pool": CifarHalfPool}


def make_signal(spec: Mapping[str, Any], data=None):
    """The signal of a dataset spec; data-dependent signals (the MNIST-CIFAR pool) read the prepared dataset."""
    try:
        cls = SIGNALS[spec["kind"]]
    except KeyError:
        raise ValueError(f"unknown signal kind '{spec.get('kind')}' (known: {sorted(SIGNALS)})") from None
    params = {k: v for k, v in spec.items() if k != "kind"}
    if cls is CifarHalfPool:
        if data is None or f"pool/{spec['pool']}" not in data:
            raise ValueError(f"signal 'cifar_half_pool' needs the dataset's pool/{spec.get('pool')} images")
        params["images"] = data[f"pool/{spec['pool']}"]
    return cls(**params)
