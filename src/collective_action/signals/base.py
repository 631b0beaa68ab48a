"""The signal interface."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Signal:
    """g and the label y* it comes with. ``apply(x, rng)`` takes a random generator for
    signals that draw (the MNIST-CIFAR pool); the others ignore it."""

    target_label: int

    parameters = {}
    description = ""
    data_kinds = None  # the data it plants in (a generator's or builder's data_kind): checked in the config; None: any
    makers = None  # the generators or builders whose data it needs (a pool of images); None: any

    @classmethod
    def from_spec(cls, params: Mapping[str, Any], data=None) -> Signal:
        return cls(**params)

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        raise NotImplementedError

    def eligible(self, y: np.ndarray) -> np.ndarray:
        """Which training points may join the collective (all, by default)."""
        return np.ones(len(y), dtype=bool)
