"""Collective signals g: X -> X and their codomains X* = g(X).

A signal works on inputs as stored (floats for synthetic data, uint8 images for
image data, before any normalisation), so what the collective plants is exactly
what the firm receives.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass(frozen=True)
class ReflectX2Negative:
    """g(x1, x2) = (x1, -|x2|): every point moves to the lower half plane (section 3.2)."""

    target_label: int

    def apply(self, x: np.ndarray) -> np.ndarray:
        out = np.array(x, copy=True)
        out[:, 1] = -np.abs(out[:, 1])
        return out

    def in_codomain(self, x: np.ndarray) -> np.ndarray:
        return x[:, 1] <= 0

    def codomain_box(self, bounds) -> tuple[float, float, float, float]:
        """The codomain inside the data's bounding box, for shading in figures."""
        x1_lo, x1_hi, x2_lo, _ = bounds
        return (x1_lo, x1_hi, x2_lo, 0.0)


SIGNALS = {"reflect_x2_negative": ReflectX2Negative}


def make_signal(spec: Mapping[str, Any]):
    try:
        cls = SIGNALS[spec["kind"]]
    except KeyError:
        raise ValueError(f"unknown signal kind '{spec.get('kind')}' (known: {sorted(SIGNALS)})") from None
    params = {k: v for k, v in spec.items() if k != "kind"}
    return cls(**params)
