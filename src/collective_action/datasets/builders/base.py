"""The builder interface and helpers shared by the image builders."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np


class Builder:
    """Turns sources into one dataset's arrays and metadata."""

    sources = []
    extra_sources = {}
    parameters = {}
    required = ["n_val"]
    family = None
    description = ""

    @classmethod
    def build(cls, spec: Mapping[str, Any], srcs: Mapping[str, Any], data_dir: str,
              base_seed: int) -> tuple[dict, dict]:
        raise NotImplementedError


CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _chw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.uint8).transpose(0, 3, 1, 2))


def _source_label(name: str, source: Mapping[str, Any]) -> str:
    kind = source["kind"]
    return {"npz": f"{name} (staged .npz: {source.get('path')})", "torchvision": f"{name} (torchvision download)",
            "archive": f"{name} (staged archive)", "directory": f"{name} (local directory)",
            "download": f"{name} (official archive)"}.get(kind, f"{name} ({kind})")


def _split_off(n: int, n_val: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < n_val < n:
        raise ValueError(f"n_val={n_val} must lie in (0, {n})")
    perm = generator.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _cap(idx: np.ndarray, cap: int | None, generator: np.random.Generator) -> np.ndarray:
    return idx if cap is None or cap >= len(idx) else np.sort(generator.choice(idx, size=cap, replace=False))
