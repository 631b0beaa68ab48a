"""Datasets: preparation of every source into one h5 file per dataset.

Layout of ``results/data/<dataset>.h5``: ``<split>/x`` and ``<split>/y`` for the
splits train, val and test (``<split>/group`` where groups exist), and a ``meta``
attribute with the number of classes and the input shape.
"""
from __future__ import annotations

from typing import Any, Mapping

from .. import rng, store
from .synthetic import GENERATORS as SYNTHETIC_GENERATORS
from .synthetic import make_generator

SPLITS = ("train", "val", "test")


def is_synthetic(spec: Mapping[str, Any]) -> bool:
    return spec.get("generator") in SYNTHETIC_GENERATORS


def prepare(name: str, spec: Mapping[str, Any], base_seed: int, output: str) -> None:
    """Draw a synthetic dataset from its generator and write it atomically."""
    gen = make_generator(spec)
    arrays = {}
    for split in SPLITS:
        x, y = gen.sample(int(spec[f"n_{split}"]), rng.numpy_rng(base_seed, spec["seed"], "data", split))
        arrays[f"{split}/x"] = x
        arrays[f"{split}/y"] = y
    meta = {"name": name, "kind": "synthetic", "generator": spec["generator"], "n_classes": gen.n_classes,
            "input_shape": list(arrays["train/x"].shape[1:])}
    prov = store.provenance(step="prepare", config={"dataset": dict(spec), "base_seed": base_seed}, seeds=spec["seed"])
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def load(path: str) -> store.H5Artifact:
    art = store.read_h5(path)
    for split in SPLITS:
        for part in ("x", "y"):
            if f"{split}/{part}" not in art:
                raise store.ArtifactError(f"{path}: dataset file lacks '{split}/{part}'")
    return art
