"""The CIFAR-10 signal of Fig 2."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Signal


@dataclass(frozen=True)
class PixelGrid(Signal):
    """+delta on the 0-255 scale at every second pixel of every second row, i.e. rows and
    columns 0, 2, 4, ... (0-based), in all channels, saturating at 255 (uint8 arithmetic
    would wrap around)."""

    delta: int = 2

    name = "pixel_grid"
    data_kinds = ["image"]
    description = ("the CIFAR-10 signal (Fig 2): +delta on the 0-255 scale at rows and columns 0, 2, 4, ... (every "
                   "second pixel of every second row), all channels, saturating at 255, applied to the uint8 image "
                   "before normalisation and augmentation.")
    parameters = {"delta": {"type": "integer", "minimum": 1, "maximum": 255, "default": 2,
                            "description": "The perturbation, 2 in the paper."}}

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if x.dtype != np.uint8:
            raise TypeError(f"the pixel signal works on uint8 images, got {x.dtype}")
        out = np.array(x, copy=True)
        grid = out[..., 0::2, 0::2].astype(np.int16) + self.delta
        out[..., 0::2, 0::2] = np.clip(grid, 0, 255).astype(np.uint8)
        return out
