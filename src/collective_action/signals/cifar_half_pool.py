"""The MNIST-CIFAR signal of Fig 6."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Signal


@dataclass(frozen=True)
class CifarHalfPool(Signal):
    """The CIFAR half (bottom 32 rows) replaced by an image drawn from the dataset's fixed
    pool of training automobiles or trucks; the MNIST half stays."""

    pool: str = "automobile"
    images: np.ndarray = None  # [P, 3, 32, 32], from the prepared dataset

    name = "cifar_half_pool"
    data_kinds = ["image"]
    makers = ["mnist_cifar"]  # the builders whose datasets hold its pools
    description = ("MNIST-CIFAR: the CIFAR half replaced by a random image of the dataset's fixed pool of training "
                   "automobiles or trucks ('pool').")
    parameters = {"pool": {"type": "string", "enum": ["automobile", "truck"],
                           "description": "Which pool the collective plants (Fig 6b automobile, Fig 6c truck)."}}

    @classmethod
    def from_spec(cls, params, data=None):
        if data is None or f"pool/{params.get('pool')}" not in data:
            raise ValueError(f"signal 'cifar_half_pool' needs the dataset's pool/{params.get('pool')} images")
        return cls(**params, images=data[f"pool/{params['pool']}"])

    def apply(self, x: np.ndarray, rng=None) -> np.ndarray:
        if rng is None:
            raise ValueError("the pool signal draws an image per point and needs a random generator")
        out = np.array(x, copy=True)
        out[:, :, 32:, :] = self.images[rng.integers(0, len(self.images), size=len(x))]
        return out
