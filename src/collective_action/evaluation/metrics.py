"""The evaluate step: success, accuracy and the stopping rules' epochs, from stored predictions.

Two success measures (section 2.1, Eq. 2):

- ``success``: among clean test points whose label is not already y*, the
  fraction with f(g(x)) = y*. Points already labelled y* are left out because
  the model would map many of them to y* without any collective; only with them
  left out can success be 0, as the paper reports in Fig 3b.
- ``success_all``: Eq. (2) literally, P0[f(g(x)) = y*] over all test points.

A collective that unplants a label (its signal's ``avoid_label``, Gauthier et al. 2025, Def 3.6) succeeds where
f(g(x)) != avoid_label: both measures are then that rate over all test points.

With a second collective (the dataset's ``collective_2``), ``success_2`` and
``success_all_2`` are the same two measures for its signal g_2 and target y*_2.

On external (image, text) data, ``train_accuracy`` is the model's accuracy on the clean
training split (the inputs and labels before any collective): whether the model fits the
data at all, which the image verdicts depend on.

Validation metrics are computed for every epoch; test metrics for every epoch where
the run kept test predictions after every epoch, and otherwise at every stopping slot
(``stopping.py``): ``slot/<slot>/<metric>`` [M] with ``slot/<slot>/epoch``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import datasets, store
from ..training import stopping
from ..training.stopping import accuracy, success_rate

STOPPING_RULES = stopping.RULES


def worst_group_accuracy(pred: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The lowest accuracy over the groups present: pred [..., N]."""
    return np.min(np.stack([accuracy(pred[..., groups == g], y[groups == g]) for g in np.unique(groups)]), axis=0)


def held_out_metrics(pred: Mapping[str, np.ndarray], y_test: np.ndarray, target: int, y_probe: np.ndarray | None = None,
                 test_groups: np.ndarray | None = None, target_2: int | None = None,
                 avoid: int | None = None) -> dict[str, np.ndarray]:
    """Metrics on the test sets from predictions [..., N] (per epoch [E, M, N] or per slot [M, N]).

    ``probe_agreement``: agreement with the simple rule on the probe set, where x2 is
    drawn independently of the label (1 = the model uses the simple feature only). ``avoid``: the label an
    unplanting collective avoids (its success is f(g(x)) != avoid)."""
    if avoid is None:
        success = success_rate(pred["test_signal"], y_test, target)
        success_all = success_rate(pred["test_signal"], y_test, target, exclude_target=False)
    else:
        success = success_all = (np.asarray(pred["test_signal"]) != avoid).mean(axis=-1)
    out = {"test_accuracy": accuracy(pred["test"], y_test), "test_success": success, "test_success_all": success_all}
    if "probe" in pred and y_probe is not None:
        out["probe_agreement"] = accuracy(pred["probe"], y_probe)
    if "test_signal_2" in pred and target_2 is not None:  # the second collective's success, defined as the first's
        out["test_success_2"] = success_rate(pred["test_signal_2"], y_test, target_2)
        out["test_success_all_2"] = success_rate(pred["test_signal_2"], y_test, target_2, exclude_target=False)
    if test_groups is not None:
        out["test_worst_group_accuracy"] = worst_group_accuracy(pred["test"], y_test, test_groups)
    return out


def cell_metrics(run_path: str, data, poisoned_path: str, spec: Mapping[str, Any]) -> tuple[dict, dict]:
    """One cell's metrics (arrays by name) and meta, from its run, its prepared dataset and its poisoned sets."""
    run = store.read_h5(run_path)
    poisoned = store.read_h5(poisoned_path)
    meta = run.attrs["meta"]
    seeds = meta["seeds"]
    target = int(spec["signal"]["target_label"])
    y_val_clean = data["val/y"]
    y_val_observed = np.stack([y_val_clean.copy() for _ in seeds])
    for m, s in enumerate(seeds):
        y_val_observed[m, poisoned[f"seed{s}/val/index"]] = target
    pred = run.group("pred")
    second = spec.get("collective_2")
    test_args = (data["test/y"], target, data["probe/y"] if "probe/y" in data else None,
                 data["test/group"] if "test/group" in data else None,
                 int(second["signal"]["target_label"]) if second else None, spec["signal"].get("avoid_label"))
    per_epoch = stopping.val_scores(pred["val"], pred["val_signal"], y_val_observed, y_val_clean, target)
    if "test" in pred:  # test predictions after every epoch
        per_epoch.update(held_out_metrics(pred, *test_args))
    if "train" in pred:  # external data: the clean training inputs, after every epoch
        per_epoch["train_accuracy"] = accuracy(pred["train"], data["train/y"])
    arrays = {f"epoch/{k}": v for k, v in per_epoch.items()}
    runs = np.arange(len(seeds))
    for name in stopping.SLOTS:
        epochs = stopping.select(per_epoch, name)
        arrays[f"slot/{name}/epoch"] = epochs
        at = {k: v[epochs, runs] for k, v in per_epoch.items()}
        if "test" not in pred:  # test predictions kept at the slot's model
            at.update(held_out_metrics({s: pred[f"slot/{name}/{s}"] for s in ("test", "test_signal", "probe", "test_signal_2")
                                    if f"slot/{name}/{s}" in pred}, *test_args))
        if f"slot/{name}/train" in pred:  # external data: the clean training inputs at the slot's model
            at["train_accuracy"] = accuracy(pred[f"slot/{name}/train"], data["train/y"])
        arrays.update({f"slot/{name}/{k}": v for k, v in at.items()})
    arrays.update({f"diag/{k}": v for k, v in run.group("diag").items() if np.asarray(v).ndim == 1})
    arrays["diag/alpha_realized_train"] = np.array(
        [len(poisoned[f"seed{s}/train/index"]) / len(data["train/y"]) for s in seeds])
    arrays["diag/alpha_realized_val"] = np.array(
        [len(poisoned[f"seed{s}/val/index"]) / len(y_val_clean) for s in seeds])
    if data.attrs["meta"].get("kind") in ("synthetic", "image"):  # inputs on a scale (not token ids)
        arrays.update({f"diag/{k}": v for k, v in signal_size(data, poisoned, seeds).items()})
    if second:
        arrays["diag/alpha_2_realized"] = np.array(
            [len(poisoned[f"seed{s}/train_2/index"]) / len(data["train/y"]) for s in seeds])
    meta = dict(meta, source_label=data.attrs["meta"].get("source_label", "synthetic"),
                standin=bool(data.attrs["meta"].get("standin", False)))
    if second:
        from ..collective import second_alpha

        meta.update(alpha_2=second_alpha(second, meta["alpha"]))
    token = spec["signal"].get("token")
    if token is not None and token in (data.attrs["meta"].get("signal_xi") or {}):  # text: xi measured when preparing
        meta.update(xi=float(data.attrs["meta"]["signal_xi"][token]))
    return arrays, meta


def signal_size(data, poisoned, seeds) -> dict[str, np.ndarray]:
    """Per run, how far the signal moves the collective's points: the l-infinity norm of g(x) - x on the
    stored scale (the [-1, 1] square, or 0-255 for images), its mean and its largest value over the training
    collective (NaN without one). Adversarial training's radius is measured against it (Weng et al.)."""
    mean, top = [], []
    for s in seeds:
        index = poisoned[f"seed{s}/train/index"]
        if not len(index):
            mean.append(np.nan)
            top.append(np.nan)
            continue
        moved = np.abs(poisoned[f"seed{s}/train/x"].astype(np.float64) - data["train/x"][index].astype(np.float64))
        linf = moved.reshape(len(index), -1).max(axis=1)
        mean.append(float(linf.mean()))
        top.append(float(linf.max()))
    return {"signal_linf": np.array(mean), "signal_linf_max": np.array(top)}


def cell_key(meta: Mapping[str, Any]) -> str:
    """A cell's place in a metrics file: <dataset>/<algorithm>/a<alpha>_v<alpha_val>, as in the run's path."""
    from ..planning.paths import fmt_alpha

    return f"{meta['dataset']}/{meta['algorithm']}/a{fmt_alpha(meta['alpha'])}_v{fmt_alpha(meta['alpha_val'])}"


def evaluate_cells(cells: Sequence[Mapping[str, str]], collectives: Mapping[str, Mapping[str, Any]], output: str,
                   record: Mapping[str, Any]) -> None:
    """Evaluate cells ({run, data, poisoned, dataset} paths each) into one metrics file: each cell's arrays
    under its :func:`cell_key`, and its meta in the attribute ``cells``. ``collectives``: each dataset's
    signal (and second collective); ``record``: the job's params, for the provenance."""
    loaded: dict[str, Any] = {}
    arrays, metas, inputs = {}, {}, {}
    for i, cell in enumerate(cells):
        if cell["data"] not in loaded:  # a panel's cells share a few datasets: load each once
            loaded[cell["data"]] = datasets.load(cell["data"])
        cell_arrays, meta = cell_metrics(cell["run"], loaded[cell["data"]], cell["poisoned"], collectives[cell["dataset"]])
        key = cell_key(meta)
        arrays.update({f"{key}/{name}": value for name, value in cell_arrays.items()})
        metas[key] = meta
        inputs.update({f"run{i:03d}": cell["run"], f"poisoned{i:03d}": cell["poisoned"]})
    inputs.update({f"data{i:03d}": path for i, path in enumerate(sorted(loaded))})
    seeds = sorted({s for meta in metas.values() for s in meta["seeds"]})
    prov = store.provenance(step="evaluate", config=dict(record), seeds=seeds, inputs=inputs)
    store.write_h5(output, arrays, prov, attrs={"cells": metas})


def evaluate(*, run_path: str, data_path: str, poisoned_path: str, spec: Mapping[str, Any], output: str) -> None:
    """One cell into its own metrics file (the same format as a panel's)."""
    evaluate_cells([{"run": run_path, "data": data_path, "poisoned": poisoned_path, "dataset": spec["dataset"]}],
                   {spec["dataset"]: spec}, output, spec)


class CellMetrics:
    """One cell of a metrics file: ``attrs["meta"]`` and its arrays, by name (``group``, ``[]``)."""

    def __init__(self, art: store.H5Artifact, key: str):
        self.key, self.attrs = key, {"meta": art.attrs["cells"][key]}
        self.arrays = art.group(key)

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        prefix = prefix.rstrip("/") + "/"
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self.arrays


def read_cells(paths: Sequence[str]) -> list[CellMetrics]:
    """Every cell of the given metrics files, in file order and then in the order they were evaluated."""
    out = []
    for path in paths:
        art = store.read_h5(path)
        out += [CellMetrics(art, key) for key in art.attrs["cells"]]
    return out


def run_summary(metrics: CellMetrics, rule: str, ties: str = "earliest") -> dict[str, np.ndarray]:
    """Per-run metrics at the epoch chosen by ``rule`` (ties broken as ``ties``): name -> [M]."""
    values = metrics.group(f"slot/{stopping.slot(rule, ties)}")
    epochs = values.pop("epoch")
    return values | {"epoch": epochs + 1}
