"""Datasets: preparation of every source into one h5 file per dataset.

Layout of ``results/data/<dataset>.h5``: ``<split>/x`` and ``<split>/y`` for the
splits train, val and test (``<split>/group`` where groups exist), ``probe/x`` and
``probe/y`` where the generator defines a simplicity-bias probe, and a ``meta``
attribute with the number of classes and the input shape.
"""
from __future__ import annotations

from typing import Any, Mapping

from .. import rng, store
from .synthetic import GENERATORS as SYNTHETIC_GENERATORS
from .synthetic import make_generator

SPLITS = ("train", "val", "test")


def is_synthetic(spec: Mapping[str, Any]) -> bool:
    return "generator" in spec


def needed_sources(spec: Mapping[str, Any], all_sources: Mapping[str, Any]) -> dict[str, Any]:
    from .images import needed_sources as _needed

    return _needed(spec, all_sources)


def check_staged(name: str, source: Mapping[str, Any]) -> None:
    """Fail early, naming the file, when a staged (local) source is missing."""
    from pathlib import Path

    from .sources import SourceError

    path = source.get("path")
    if not path:
        raise SourceError(f"sources.{name}: kind '{source['kind']}' needs a 'path'")
    if not Path(path).exists():
        what = {"npz": "an .npz with x_train, y_train, x_test, y_test (uint8 images, HWC)",
                "archive": "the dataset's original archive (see README, 'Image data')",
                "directory": "the extracted dataset folder with metadata.csv"}[source["kind"]]
        raise SourceError(f"sources.{name}: {path} does not exist; stage {what} there, or change sources.{name} "
                          f"(md5 expected: {source.get('md5') or 'the official one, see README'})")


def prepare_any(params: Mapping[str, Any], output: str) -> None:
    """Prepare a synthetic or an image dataset from the prepare rule's params (recorded as provenance)."""
    name, spec, base_seed = params["dataset"], params["spec"], params["base_seed"]
    if is_synthetic(spec):
        prepare(name, spec, base_seed, output, record=params)
    else:
        from . import images

        images.prepare(name, spec, params["sources"], params["data_dir"], base_seed, output, record=params)


def prepare(name: str, spec: Mapping[str, Any], base_seed: int, output: str,
            record: Mapping[str, Any] | None = None) -> None:
    """Draw a synthetic dataset from its generator and write it atomically.

    ``record``: the config slice to record as provenance (the rule's params)."""
    gen = make_generator(spec)
    arrays = {}
    for split in SPLITS:
        x, y = gen.sample(int(spec[f"n_{split}"]), rng.numpy_rng(base_seed, spec["seed"], "data", split))
        arrays[f"{split}/x"] = x
        arrays[f"{split}/y"] = y
    probe = gen.probe(int(spec["n_test"]), rng.numpy_rng(base_seed, spec["seed"], "data", "probe"))
    if probe is not None:  # a test set for simplicity bias (see the generator)
        arrays["probe/x"], arrays["probe/y"] = probe
    meta = {"name": name, "kind": "synthetic", "generator": spec["generator"], "n_classes": gen.n_classes,
            "input_shape": list(arrays["train/x"].shape[1:])}
    prov = store.provenance(step="prepare", config=dict(record or {"dataset": name, "spec": dict(spec),
                                                                    "base_seed": base_seed}), seeds=spec["seed"])
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def load(path: str) -> store.H5Artifact:
    art = store.read_h5(path)
    for split in SPLITS:
        for part in ("x", "y"):
            if f"{split}/{part}" not in art:
                raise store.ArtifactError(f"{path}: dataset file lacks '{split}/{part}'")
    return art
