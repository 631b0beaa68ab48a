"""The builder interface and helpers shared by the image builders."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..sources import CIFAR10


class Builder:
    """Turns sources into one dataset's arrays and metadata."""

    sources = []
    extra_sources = {}
    source_parameter = None  # a dataset key naming the one of ``sources`` to read (the others are not needed)
    parameters = {}
    required = ["n_val"]
    data_kind = "image"  # uint8 NCHW images; the signals and models that take them say so (configuration/checks.py)
    n_classes = None  # labels 0 .. n_classes - 1, or the name of the dataset key that lists them; None: unknown
    family = None
    description = ""

    @classmethod
    def build(cls, spec: Mapping[str, Any], srcs: Mapping[str, Any], data_dir: str,
              base_seed: int) -> tuple[dict, dict]:
        raise NotImplementedError


CIFAR_CLASSES = tuple(CIFAR10["classes"])


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


def _train_val_test(raw: Mapping[str, np.ndarray], spec: Mapping[str, Any], generator: np.random.Generator) -> dict:
    """The training images minus n_val random ones (at most max_train of them), those n_val, and the test
    images (at most max_test), as uint8 NCHW images with their labels."""
    train, val = _split_off(len(raw["y_train"]), int(spec["n_val"]), generator)
    train = _cap(train, spec.get("max_train"), generator)
    test = _cap(np.arange(len(raw["y_test"])), spec.get("max_test"), generator)
    return {"train/x": _chw(raw["x_train"][train]), "train/y": raw["y_train"][train],
            "val/x": _chw(raw["x_train"][val]), "val/y": raw["y_train"][val],
            "test/x": _chw(raw["x_test"][test]), "test/y": raw["y_test"][test]}
