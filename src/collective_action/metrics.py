"""Success, accuracy and stopping rules, computed from stored predictions.

Two success measures (section 2.1, Eq. 2):

- ``success``: among clean test points whose label is not already y*, the
  fraction with f(g(x)) = y*. Points already labelled y* are left out because
  the model would map many of them to y* without any collective; only with them
  left out can success be 0, as the paper reports in Fig 3b.
- ``success_all``: Eq. (2) literally, P0[f(g(x)) = y*] over all test points.

Stopping rules pick one epoch per run: ``last``, ``max_val_accuracy`` (accuracy
on the validation split as the firm sees it, collective included) and
``max_val_success`` (success of g on the clean validation inputs). Ties go to
the earliest epoch.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import datasets, store

STOPPING_RULES = ("last", "max_val_accuracy", "max_val_success")


def success_rate(pred_signal: np.ndarray, y_clean: np.ndarray, target: int, exclude_target: bool = True) -> np.ndarray:
    """Fraction of points with prediction y* on g(x), over the last axis.

    pred_signal: [..., N] predictions on g(x); y_clean: [N] base labels."""
    keep = (y_clean != target) if exclude_target else np.ones_like(y_clean, dtype=bool)
    if not keep.any():
        return np.full(pred_signal.shape[:-1], np.nan)
    return (pred_signal[..., keep] == target).mean(axis=-1)


def accuracy(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """pred [..., N] against y [N] or [..., N] (broadcast)."""
    return (pred == y).mean(axis=-1)


def select_epochs(per_epoch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Epoch index chosen by each stopping rule, per run. per_epoch arrays are [E, M]."""
    n_epochs, n_runs = per_epoch["val_accuracy"].shape
    return {
        "last": np.full(n_runs, n_epochs - 1, dtype=np.int64),
        # argmax returns the first maximum: ties go to the earliest epoch
        "max_val_accuracy": np.argmax(per_epoch["val_accuracy"], axis=0).astype(np.int64),
        "max_val_success": np.argmax(np.nan_to_num(per_epoch["val_success"], nan=-1.0), axis=0).astype(np.int64),
    }


def worst_group_accuracy(pred: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The lowest accuracy over the groups present: pred [..., N]."""
    return np.min(np.stack([accuracy(pred[..., groups == g], y[groups == g]) for g in np.unique(groups)]), axis=0)


def per_epoch_metrics(pred: Mapping[str, np.ndarray], y_test: np.ndarray, y_val_clean: np.ndarray,
                      y_val_observed: np.ndarray, target: int, y_probe: np.ndarray | None = None,
                      test_groups: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """All metrics per epoch and run ([E, M]) from predictions [E, M, N].

    ``probe_agreement``: agreement with the simple rule on the probe set, where x2 is
    drawn independently of the label (1 = the model uses the simple feature only)."""
    out = {
        "test_accuracy": accuracy(pred["test"], y_test),
        "test_success": success_rate(pred["test_signal"], y_test, target),
        "test_success_all": success_rate(pred["test_signal"], y_test, target, exclude_target=False),
        "val_accuracy": accuracy(pred["val"], y_val_observed[None]),
        "val_success": success_rate(pred["val_signal"], y_val_clean, target),
    }
    if "probe" in pred and y_probe is not None:
        out["probe_agreement"] = accuracy(pred["probe"], y_probe)
    if test_groups is not None:
        out["test_worst_group_accuracy"] = worst_group_accuracy(pred["test"], y_test, test_groups)
    return out


def evaluate(*, run_path: str, data_path: str, poisoned_path: str, spec: Mapping[str, Any], output: str) -> None:
    run = store.read_h5(run_path)
    data = datasets.load(data_path)
    poisoned = store.read_h5(poisoned_path)
    meta = run.attrs["meta"]
    seeds = meta["seeds"]
    target = int(spec["signal"]["target_label"])
    y_val_clean = data["val/y"]
    y_val_observed = np.stack([y_val_clean.copy() for _ in seeds])
    for m, s in enumerate(seeds):
        y_val_observed[m, poisoned[f"seed{s}/val/index"]] = target
    pred = run.group("pred")
    y_probe = data["probe/y"] if "probe/y" in data else None
    groups = data["test/group"] if "test/group" in data else None
    per_epoch = per_epoch_metrics(pred, data["test/y"], y_val_clean, y_val_observed, target, y_probe, groups)
    stops = select_epochs(per_epoch)
    arrays = {f"epoch/{k}": v for k, v in per_epoch.items()}
    arrays.update({f"stop/{k}": v for k, v in stops.items()})
    arrays.update({f"diag/{k}": v for k, v in run.group("diag").items() if np.asarray(v).ndim == 1})
    arrays["diag/alpha_realized_train"] = np.array(
        [len(poisoned[f"seed{s}/train/index"]) / len(data["train/y"]) for s in seeds])
    arrays["diag/alpha_realized_val"] = np.array(
        [len(poisoned[f"seed{s}/val/index"]) / len(y_val_clean) for s in seeds])
    prov = store.provenance(step="evaluate", config=dict(spec), seeds=seeds,
                            inputs={"run": run_path, "data": data_path, "poisoned": poisoned_path})
    meta = dict(meta, source_label=data.attrs["meta"].get("source_label", "synthetic"),
                standin=bool(data.attrs["meta"].get("standin", False)))
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def run_summary(metrics: store.H5Artifact, rule: str) -> dict[str, np.ndarray]:
    """Per-run metrics at the epoch chosen by ``rule``: name -> [M]."""
    if rule not in STOPPING_RULES:
        raise ValueError(f"unknown stopping rule '{rule}' (known: {STOPPING_RULES})")
    epochs = metrics[f"stop/{rule}"]
    runs = np.arange(len(epochs))
    return {name: arr[epochs, runs] for name, arr in metrics.group("epoch").items()} | {"epoch": epochs + 1}
