"""The signal interface."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Signal:
    """g and the label y* it comes with. ``apply(x, rng)`` takes a random generator for
    signals that draw (the MNIST-CIFAR pool); the others ignore it. ``avoid_label`` (optional, every signal):
    the collective unplants that label (Gauthier et al. 2025, Def 3.6) instead of planting y*: its success is
    f(g(x)) != avoid_label, while its members still attach ``target_label`` to what they plant."""

    target_label: int
    avoid_label: int | None = None

    parameters = {}
    description = ""
    data_kinds = None  # the data it plants in (a generator's or builder's data_kind): checked in the config; None: any
    makers = None  # the generators or builders whose data it needs (a pool of images); None: any

    @classmethod
    def from_spec(cls, params: Mapping[str, Any], data=None) -> Signal:
        return cls(**params)

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        raise NotImplementedError

    def plant(self, x: np.ndarray, rng=None) -> np.ndarray:
        """What the collective's members plant: g(x) as designed by default. A signal whose members plant it
        with their own error (Karan et al.'s coordination noise) overrides this; the firm's model is still tested
        on the designed ``apply``."""
        return self.apply(x, rng)

    def diagnostics(self, members_x: np.ndarray, members_y: np.ndarray, planted_x: np.ndarray, n_train: int,
                    n_test: int) -> dict[str, float]:
        """What the collective can compute from its own members' data before it acts (one run): their original
        inputs and labels, what they planted, the size of the firm's training set and of the test set. Each key
        becomes a column of the tables (Gauthier et al.'s lower bound on success). None by default."""
        return {}

    def eligible(self, y: np.ndarray) -> np.ndarray:
        """Which training points may join the collective (all, by default)."""
        return np.ones(len(y), dtype=bool)
