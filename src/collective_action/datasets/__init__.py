"""Datasets: preparation of every source into one h5 file per dataset.

Layout of ``results/data/<dataset>.h5``: ``<split>/x`` and ``<split>/y`` for the
splits train, val and test (``<split>/group`` where groups exist), ``probe/x`` and
``probe/y`` where the generator defines a simplicity-bias probe, and a ``meta``
attribute with the modality (``kind``: the maker's ``data_kind``), the number of classes, the input shape,
the range of the stored inputs (None for codes of categorical features) and what a generator adds
(``Generator.data_meta``: a categorical generator's features and their cardinalities).

Synthetic datasets come from a generator (``generators/``), the others from a
builder (``builders/``) that reads external sources (``sources.py``).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import rng, store
from .builders import BUILDERS
from .builders import needed_sources as needed_sources
from .generators import GENERATORS, make_generator

SPLITS = ("train", "val", "test")


def is_synthetic(spec: Mapping[str, Any]) -> bool:
    return "generator" in spec


def maker(spec: Mapping[str, Any]):
    """The registry entry that makes a dataset: its generator or its builder."""
    return GENERATORS.entry(spec["generator"]) if is_synthetic(spec) else BUILDERS.entry(spec["builder"])


def declared_classes(spec: Mapping[str, Any]) -> tuple[int, list | None] | None:
    """How many labels a dataset has, from the config alone (and the list that names them, where one does);
    None when only the built dataset knows (the text builder with ``classes: null``)."""
    n = maker(spec).meta.get("n_classes")
    if isinstance(n, str):
        listed = spec.get(n)
        return (len(listed), list(listed)) if isinstance(listed, list) else None
    return (int(n), None) if isinstance(n, int) and not isinstance(n, bool) else None


def check_staged(name: str, source: Mapping[str, Any]) -> None:
    """Fail early, naming the file, when a staged (local) source is missing."""
    from .sources import SourceError

    path = source.get("path")
    if not path:
        raise SourceError(f"sources.{name}: kind '{source['kind']}' needs a 'path'")
    if not Path(path).exists():
        what = {"npz": "an .npz with x_train, y_train, x_test, y_test (uint8 images, HWC)",
                "archive": "the dataset's original archive (see docs/data.md, 'Image data')",
                "directory": "the extracted dataset folder with metadata.csv"}[source["kind"]]
        raise SourceError(f"sources.{name}: {path} does not exist; stage {what} there, or change sources.{name} "
                          f"(md5 expected: {source.get('md5') or 'the official one, see docs/data.md'})")


def signal_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset's signal as its jobs use it. A family whose value is a signal parameter (the maker's
    ``family_signal``: the text builder's spacing family k sets the token signal's ``every``) sets it
    for each member; the signal may not give it too."""
    signal = dict(spec["signal"])
    meta = maker(spec).meta
    key, target = meta.get("family"), meta.get("family_signal")
    if key and target and key in spec:
        if target in signal and signal[target] != spec[key]:
            raise ValueError(f"config key 'datasets.{spec.get('family', '<dataset>')}.signal.{target}': the dataset's "
                             f"{key} = {spec[key]} sets it; leave it out")
        signal[target] = spec[key]
    return signal


def prepare_any(params: Mapping[str, Any], output: str) -> None:
    """Prepare a synthetic or a built dataset from the prepare rule's params (recorded as provenance)."""
    name, spec, base_seed = params["dataset"], params["spec"], params["base_seed"]
    if is_synthetic(spec):
        arrays, meta, inputs = synthesize(spec, base_seed)
    else:
        arrays, meta, inputs = build(spec, params["sources"], params["data_dir"], base_seed)
    meta.update(name=name, input_shape=list(arrays["train/x"].shape[1:]))
    prov = store.provenance(step="prepare", config=dict(params), seeds=spec["seed"], inputs=inputs)
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def prepare(name: str, spec: Mapping[str, Any], base_seed: int, output: str, sources: Mapping[str, Any] | None = None,
            data_dir: str = "data") -> None:
    """Prepare one dataset outside the workflow (from Python, in tests): as the prepare rule would."""
    params = {"dataset": name, "spec": dict(spec), "base_seed": base_seed}
    if not is_synthetic(spec):
        params.update(sources=needed_sources(spec, sources or {}), data_dir=data_dir)
    prepare_any(params, output)


def synthesize(spec: Mapping[str, Any], base_seed: int) -> tuple[dict, dict, dict]:
    """Draw a synthetic dataset from its generator."""
    gen = make_generator(spec)
    arrays = {}
    for split in SPLITS:
        x, y = gen.sample(int(spec[f"n_{split}"]), rng.numpy_rng(base_seed, spec["seed"], "data", split))
        arrays[f"{split}/x"] = x
        arrays[f"{split}/y"] = y
    probe = gen.probe(int(spec["n_test"]), rng.numpy_rng(base_seed, spec["seed"], "data", "probe"))
    if probe is not None:  # a test set for simplicity bias (see the generator)
        arrays["probe/x"], arrays["probe/y"] = probe
    meta = {"kind": gen.data_kind, "generator": spec["generator"], "n_classes": gen.n_classes,
            "input_range": [float(min(gen.bounds)), float(max(gen.bounds))] if gen.bounds else None,
            **gen.data_meta()}
    return arrays, meta, {}


def build(spec: Mapping[str, Any], srcs: Mapping[str, Any], data_dir: str, base_seed: int) -> tuple[dict, dict, dict]:
    """Build a dataset from its sources; images also get the per-channel mean and std of the training split."""
    builder = BUILDERS.get(spec["builder"])
    arrays, meta = builder.build(spec, srcs, data_dir, base_seed)
    meta["n_classes"] = len(meta["class_names"])  # the class names are the one statement of the labels
    declared = declared_classes(spec)  # what the config checks assumed before any job
    if declared is not None and declared[0] != meta["n_classes"]:
        raise ValueError(f"builder '{builder.name}' made {meta['n_classes']} classes; the config checks assumed {declared[0]}")
    meta.setdefault("kind", "image")
    meta["builder"] = spec["builder"]
    if meta["kind"] == "image":
        train = arrays["train/x"].astype(np.float64)
        meta.update(mean=train.mean(axis=(0, 2, 3)).tolist(), std=train.std(axis=(0, 2, 3)).tolist(),
                    input_range=[0.0, 255.0])
    # files a builder names itself (the text corpus's files, WordNet's data files) join the staged sources
    return arrays, meta, {**source_files(srcs), **meta.pop("input_files", {})}


def source_files(srcs: Mapping[str, Any]) -> dict[str, str]:
    """Staged source files, recorded with their sha256 as the dataset's inputs (a staged
    Waterbirds directory is represented by its metadata.csv)."""
    files = {}
    for name, source in srcs.items():
        if source["kind"] in ("npz", "archive") and Path(source["path"]).is_file():
            files[f"source_{name}"] = source["path"]
        elif source["kind"] == "directory" and (Path(source["path"]) / "metadata.csv").is_file():
            files[f"source_{name}"] = str(Path(source["path"]) / "metadata.csv")
    return files


def load(path: str) -> store.H5Artifact:
    art = store.read_h5(path)
    for split in SPLITS:
        for part in ("x", "y"):
            if f"{split}/{part}" not in art:
                raise store.ArtifactError(f"{path}: dataset file lacks '{split}/{part}'")
    return art
