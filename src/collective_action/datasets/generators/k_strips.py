"""k-strips (section 4.2, Fig 7a) on (-1, 1)^2."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Generator


@dataclass(frozen=True)
class KStrips(Generator):
    """x ~ U(-1, 1)^2, positive iff x lies in an even-numbered horizontal strip (1..k from the bottom)."""

    k: int

    name = "k_strips"
    family = "k"
    parameters = {"k": {"type": "integer", "minimum": 2, "description": "Number of horizontal strips."}}
    description = ("x ~ U(-1, 1)^2, positive iff in an even-numbered of k horizontal strips (numbered from 1 at the "
                   "bottom); x1 carries no label information (Fig 7a). The paper draws from (0, 1)^2 yet plants at "
                   "\"x1 < 0\"; on (-1, 1)^2 that is the left half. Needs k or ks.")

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> KStrips:
        return cls(k=int(spec["k"]))

    def label(self, x):
        strip = np.clip(np.floor((x[:, 1] + 1.0) / (2.0 / self.k)).astype(int), 0, self.k - 1) + 1
        return (strip % 2 == 0).astype(np.int64)

    def sample(self, n, rng):
        x = rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
        return x, self.label(x)

    def label_support(self, x):
        return np.eye(2, dtype=bool)[self.label(x)]
