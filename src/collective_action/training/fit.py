"""The train step: one algorithm on every seed of one poisoned cell.

Writes ``results/runs/<dataset>/<algorithm>/a<alpha>_v<alpha_val>.h5`` with, per
run (seed), the predicted classes (uint8) on

- ``val``: the validation split as the firm sees it (with its alpha_val collective),
  and ``val_signal``: g(x) of the clean validation inputs, after every epoch
  ([epochs, runs, points]): the stopping rules read them;
- ``test``, ``test_signal`` (g(x) of the clean test inputs), ``probe`` (the
  simplicity-bias probe, where the dataset has one) and, on external (image, text)
  data, ``train`` (the clean training inputs): after every epoch where a
  per-epoch table needs them (``record_every_epoch``), otherwise at the model of
  every stopping slot (``slot/<slot>/<set>``, [runs, points]; see ``stopping.py``),

plus the final model parameters and the learner's diagnostics (JTT's error set and
effective size, DP-SGD's epsilon, ...). Everything else (success, accuracy, the
epoch each rule picks) is computed from these by the evaluate step, so changing a
panel's stopping rule or tie choice retrains nothing.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .. import datasets, rng, store
from ..learners import LEARNERS
from ..signals import make_signal
from . import stopping
from .augment import ImageTransforms
from .engine import DTYPES, Evaluator, FitContext, Split, TrainingDiverged, resolve_device, tune_cpu_allocator
from .timing import phase

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


class Cell:
    """The inputs of one train job: the prepared dataset and the poisoned cell, on the device."""

    def __init__(self, data_path: str, poisoned_path: str, spec: Mapping[str, Any], device, dtype):
        self.spec, self.device, self.dtype = spec, device, dtype
        self.seeds = list(spec["seeds"])
        self.data = datasets.load(data_path)
        self.poisoned = load_poisoned(poisoned_path, self.seeds, (spec.get("reuses") or {}).get("poisoned", spec["dataset"]),
                                      spec["alpha"], spec["alpha_val"])
        self.signal = make_signal(spec["signal"], self.data)
        self.target = int(self.signal.target_label)
        self.meta = self.data.attrs["meta"]
        # a second collective (the dataset's collective_2): its own signal and target, training split only
        second = spec.get("collective_2")
        self.signal_2 = make_signal(second["signal"], self.data) if second else None

    def split(self, name: str) -> Split:
        overlays = [(self.poisoned[f"seed{s}/{name}/index"], self.poisoned[f"seed{s}/{name}/x"]) for s in self.seeds]
        if name == "train" and self.signal_2 is not None:  # both collectives in one pool; labels fixed below
            seconds = [self.poisoned[f"seed{s}/train_2/index"] for s in self.seeds]
            overlays = [(np.concatenate([i, j]), np.concatenate([x, self.poisoned[f"seed{s}/train_2/x"]]))
                        for (i, x), j, s in zip(overlays, seconds, self.seeds)]
        split = Split.from_overlays(self.data[f"{name}/x"], self.data[f"{name}/y"], overlays, self.target,
                                    self.device, self.dtype)
        if name == "train" and self.signal_2 is not None:
            for m, j in enumerate(seconds):
                split.y[m, torch.from_numpy(j).to(split.y.device)] = int(self.signal_2.target_label)
        return split

    def shared(self, x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(x))
        return (t.to(self.dtype) if t.is_floating_point() else t).to(self.device)

    def signal_of(self, split: str, second: bool = False) -> np.ndarray:
        """g (or the second collective's g_2) applied to a clean split, drawn from its own stream
        (for signals that draw)."""
        signal, purpose = (self.signal_2, "signal_2") if second else (self.signal, "signal")
        draws = rng.numpy_rng(self.spec["base_seed"], purpose, (self.spec.get("reuses") or {}).get("streams", self.spec["dataset"]), "eval",
                              split)
        return signal.apply(self.data[f"{split}/x"], draws)

    def evaluator(self, val: Split, batch_size: int, transform) -> Evaluator:
        """Validation sets watched every epoch (the stopping rules read them); test sets every epoch
        only where a per-epoch table needs them, otherwise once per stopping slot."""
        sets = {"val_signal": self.shared(self.signal_of("val")), "test": self.shared(self.data["test/x"]),
                "test_signal": self.shared(self.signal_of("test"))}
        if "probe/x" in self.data:
            sets["probe"] = self.shared(self.data["probe/x"])
        if self.signal_2 is not None:
            sets["test_signal_2"] = self.shared(self.signal_of("test", second=True))
        y_val_observed, y_val_clean = val.y.cpu().numpy(), self.data["val/y"]

        def scores(pred):
            return stopping.val_scores(pred["val"], pred["val_signal"], y_val_observed, y_val_clean, self.target)

        return Evaluator(per_run={"val": val}, shared=sets, batch_size=batch_size, transform=transform,
                         watched=("val", "val_signal"), every_epoch=bool(self.spec["record_every_epoch"]),
                         scores=scores)


def model_spec(spec: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The model's config, plus what its kind reads from the prepared data (its ``from_data``: a text model's
    vocabulary size, the plug-in Bayes classifier's feature cardinalities)."""
    from ..models import MODELS

    wanted = MODELS.meta(spec["kind"]).get("from_data", [])
    missing = [k for k in wanted if k not in meta]
    if missing:
        raise ValueError(f"model kind '{spec['kind']}' needs {', '.join(missing)} from the prepared data, which "
                         f"does not have it")
    return {**spec, **{k: meta[k] for k in wanted}}


def context(cell: Cell, spec: Mapping[str, Any], device) -> FitContext:
    training, meta = spec["training"], cell.meta
    image = meta.get("kind") == "image"
    channels_last = bool(training.get("channels_last", False))
    transforms = ImageTransforms(meta["mean"], meta["std"], training.get("augment"), device,
                                 channels_last) if image else None
    normalise = transforms.normalise if image else None
    train, evaluator = cell.split("train"), cell.evaluator(cell.split("val"), int(training["eval_batch_size"]), normalise)
    if "builder" in meta:  # external data: the clean training inputs (the pool's first rows), for train_accuracy
        evaluator.shared["train"] = train.pool[:train.n]
    return FitContext(
        train=train,
        evaluator=evaluator,
        model_spec=model_spec(spec["model"], meta), input_shape=meta["input_shape"], n_classes=int(meta["n_classes"]),
        seeds=cell.seeds, base_seed=int(spec["base_seed"]), epochs=int(training["epochs"]),
        batch_size=int(training["batch_size"]), lr=float(training["lr"]), weight_decay=float(training["weight_decay"]),
        hp=spec["hyperparameters"], device=device, dtype=cell.dtype,
        augment=transforms.augment if image else None, normalise=normalise,
        input_range=tuple(meta["input_range"]) if meta.get("input_range") else None,
        channels_last=channels_last, amp=bool(training.get("amp", False)),
    )


def train(*, data_path: str, poisoned_path: str, spec: Mapping[str, Any], output: str, threads: int,
          device: str) -> None:
    torch.set_num_threads(int(threads))
    tune_cpu_allocator()
    dev = resolve_device(device)
    with phase("load"):
        cell = Cell(data_path, poisoned_path, spec, dev, DTYPES[spec["training"]["dtype"]])
        ctx = context(cell, spec, dev)
    start = time.perf_counter()
    try:
        with phase("train"):  # the evaluator's share is its own phase, 'evaluate'
            result = LEARNERS.get(spec["learner"])(ctx, spec["hyperparameters"]).fit()
    except TrainingDiverged as exc:
        raise exc.in_cell(cell_name(spec)) from None
    with phase("evaluate"):
        result.diagnostics.update(fit_diagnostics(ctx, result.bank))
        result.diagnostics.update(collective_diagnostics(cell))
    log.info("trained %d runs of %s on %s (alpha=%g, alpha_val=%g) in %.2f s on %s", len(cell.seeds),
             spec["algorithm"], spec["dataset"], spec["alpha"], spec["alpha_val"], time.perf_counter() - start, dev)

    with phase("write"):
        write_run(output, ctx, cell, result, spec, data_path, poisoned_path, dev, threads)


def cell_name(spec: Mapping[str, Any]) -> str:
    return f"{spec['dataset']}/{spec['algorithm']} alpha={spec['alpha']:g} alpha_val={spec['alpha_val']:g}"


def fit_diagnostics(ctx: FitContext, bank) -> dict[str, np.ndarray]:
    """Whether each run learned the data it was given, judged on the model as trained (the last epoch), on its
    own training split as the firm sees it (the collective included, with its labels y*): ``fit_accuracy``,
    ``fit_majority`` (that split's majority-class rate, what a constant prediction scores) and
    ``fit_balanced`` (the mean over the classes present of the share of each class predicted right: 1/K for a
    constant or a random prediction, whatever the class shares). The tables flag a run whose balanced fit is
    not clearly above 1/K (``tables.learned``)."""
    pred, y = ctx.predict_train(bank), ctx.train.y
    counts = torch.stack([(y == c).sum(dim=1) for c in range(ctx.n_classes)], dim=1).double()  # [M, K]
    right = torch.stack([((y == c) & (pred == c)).sum(dim=1) for c in range(ctx.n_classes)], dim=1).double()
    present = counts > 0
    recall = torch.where(present, right / counts.clamp(min=1), torch.zeros_like(right))
    return {"fit_accuracy": (pred == y).double().mean(dim=1).cpu().numpy(),
            "fit_majority": (counts.max(dim=1).values / y.shape[1]).cpu().numpy(),
            "fit_balanced": (recall.sum(dim=1) / present.sum(dim=1)).cpu().numpy(),
            "fit_classes": present.sum(dim=1).cpu().numpy()}


def collective_diagnostics(cell: Cell) -> dict[str, np.ndarray]:
    """Per run, what the collective computes from its own members' data (``Signal.diagnostics``: Gauthier et
    al.'s lower bound on its success), from their original inputs and labels and what they planted."""
    x, y, per_run = cell.data["train/x"], cell.data["train/y"], []
    for s in cell.seeds:
        index = cell.poisoned[f"seed{s}/train/index"]
        per_run.append(cell.signal.diagnostics(x[index], y[index], cell.poisoned[f"seed{s}/train/x"], len(y),
                                               len(cell.data["test/y"])))
    return {k: np.array([d[k] for d in per_run], dtype=float) for k in per_run[0]} if per_run else {}


def write_run(output, ctx, cell, result, spec, data_path, poisoned_path, dev, threads) -> None:
    arrays: dict[str, np.ndarray] = {f"pred/{k}": v for k, v in ctx.evaluator.predictions().items()}
    if hasattr(result.bank, "state_arrays"):
        arrays.update({f"model/{k}": v for k, v in result.bank.state_arrays().items()})
    arrays.update({f"diag/{k}": np.asarray(v) for k, v in result.diagnostics.items()})
    run_meta = {
        "dataset": spec["dataset"], "algorithm": spec["algorithm"], "learner": spec["learner"], "alpha": spec["alpha"],
        "alpha_val": spec["alpha_val"], "seeds": cell.seeds, "epochs": ctx.epochs, "n_classes": ctx.n_classes,
        "model": dict(spec["model"]), "every_epoch": bool(spec["record_every_epoch"]),
    }
    prov = store.provenance(step="train", config=dict(spec), seeds=cell.seeds,
                            inputs={"data": data_path, "poisoned": poisoned_path},
                            extra={"device": str(dev), "torch": torch.__version__, "threads": int(threads)})
    store.write_h5(output, arrays, prov, attrs={"meta": run_meta})
