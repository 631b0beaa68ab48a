"""The train step: one algorithm on every seed of one poisoned cell.

Writes ``results/runs/<dataset>/<algorithm>/a<alpha>_v<alpha_val>.h5`` with, per
run (seed), the predicted classes after every epoch on

- ``val``: the validation split as the firm sees it (with its alpha_val collective),
- ``val_signal``: g(x) of the clean validation inputs,
- ``test``: the clean test inputs,
- ``test_signal``: g(x) of the clean test inputs,
- ``probe``: the simplicity-bias probe, where the dataset has one,

as uint8 arrays [epochs, runs, points], plus the final model parameters and the
algorithm's diagnostics (JTT's error set and effective size, ...). Everything
else (success, accuracy, stopping rules) is computed from these by the evaluate
step, without retraining.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from . import datasets, rng, store
from .augment import ImageTransforms
from .engine import DTYPES, Evaluator, FitContext, Split, resolve_device, tune_cpu_allocator
from .learners import LEARNERS
from .signals import make_signal

log = logging.getLogger(__name__)


def load_poisoned(path: str, seeds, dataset: str, alpha: float, alpha_val: float) -> store.H5Artifact:
    art = store.read_h5(path)
    meta = art.attrs.get("meta", {})
    if meta.get("dataset") != dataset or meta.get("alpha") != alpha or meta.get("alpha_val") != alpha_val:
        raise store.ArtifactError(
            f"{path}: poisoned file is for dataset={meta.get('dataset')} alpha={meta.get('alpha')} "
            f"alpha_val={meta.get('alpha_val')}, expected {dataset}, {alpha}, {alpha_val}"
        )
    missing = [s for s in seeds if f"seed{s}/train/index" not in art]
    if missing:
        raise store.ArtifactError(f"{path}: poisoned file lacks seeds {missing}")
    return art


def train(*, data_path: str, poisoned_path: str, spec: Mapping[str, Any], output: str, threads: int, device: str) -> None:
    torch.set_num_threads(int(threads))
    tune_cpu_allocator()
    dev = resolve_device(device)
    dtype = DTYPES[spec["training"]["dtype"]]
    seeds = list(spec["seeds"])
    data = datasets.load(data_path)
    poisoned = load_poisoned(poisoned_path, seeds, spec["dataset"], spec["alpha"], spec["alpha_val"])
    signal = make_signal(spec["signal"], data)
    target = int(signal.target_label)
    meta = data.attrs["meta"]

    def split(name: str) -> Split:
        overlays = [(poisoned[f"seed{s}/{name}/index"], poisoned[f"seed{s}/{name}/x"]) for s in seeds]
        return Split.from_overlays(data[f"{name}/x"], data[f"{name}/y"], overlays, target, dev, dtype)

    def shared(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(x))
        return (t.to(dtype) if t.is_floating_point() else t).to(dev)

    training = spec["training"]
    def signal_of(split: str) -> np.ndarray:
        return signal.apply(data[f"{split}/x"], rng.numpy_rng(spec["base_seed"], "signal", spec["dataset"], "eval", split))

    eval_sets = {"val_signal": shared(signal_of("val")), "test": shared(data["test/x"]),
                 "test_signal": shared(signal_of("test"))}
    if "probe/x" in data:
        eval_sets["probe"] = shared(data["probe/x"])
    image = meta.get("kind") == "image"
    channels_last = bool(training.get("channels_last", False)) and dev.type == "cuda"
    transforms = ImageTransforms(meta["mean"], meta["std"], training.get("augment"), dev, channels_last) if image else None
    evaluator = Evaluator(per_run={"val": split("val")}, shared=eval_sets, batch_size=int(training["eval_batch_size"]),
                          transform=transforms.normalise if image else None)
    ctx = FitContext(
        train=split("train"),
        evaluator=evaluator,
        model_spec=spec["model"],
        input_shape=meta["input_shape"],
        n_classes=int(meta["n_classes"]),
        seeds=seeds,
        base_seed=int(spec["base_seed"]),
        epochs=int(training["epochs"]),
        batch_size=int(training["batch_size"]),
        lr=float(training["lr"]),
        weight_decay=float(training["weight_decay"]),
        hp=spec["hyperparameters"],
        device=dev,
        dtype=dtype,
        augment=transforms.augment if image else None,
        normalise=transforms.normalise if image else None,
        input_range=tuple(meta["input_range"]) if meta.get("input_range") else None,
        channels_last=channels_last,
        amp=bool(training.get("amp", False)),
    )
    start = time.perf_counter()
    result = LEARNERS.get(spec["learner"])(ctx, spec["hyperparameters"]).fit()
    elapsed = time.perf_counter() - start
    log.info("trained %d runs of %s on %s (alpha=%g, alpha_val=%g) in %.1f s on %s",
             len(seeds), spec["algorithm"], spec["dataset"], spec["alpha"], spec["alpha_val"], elapsed, dev)

    arrays: dict[str, np.ndarray] = {f"pred/{k}": v for k, v in evaluator.predictions().items()}
    if hasattr(result.bank, "state_arrays"):
        arrays.update({f"model/{k}": v for k, v in result.bank.state_arrays().items()})
    arrays.update({f"diag/{k}": np.asarray(v) for k, v in result.diagnostics.items()})
    run_meta = {
        "dataset": spec["dataset"], "algorithm": spec["algorithm"], "learner": spec["learner"], "alpha": spec["alpha"],
        "alpha_val": spec["alpha_val"], "seeds": seeds, "epochs": ctx.epochs, "n_classes": ctx.n_classes,
        "model": dict(spec["model"]),
    }
    prov = store.provenance(
        step="train", config=dict(spec), seeds=seeds,
        inputs={"data": data_path, "poisoned": poisoned_path},
        extra={"device": str(dev), "torch": torch.__version__, "threads": int(threads)},
    )
    store.write_h5(output, arrays, prov, attrs={"meta": run_meta})
