"""Tidy per-panel tables: one row per run and stopping rule.

``results/tables/<panel>.csv`` is what figures and claims read. Columns:

- identity: dataset, algorithm, alpha, alpha_val, seed, stopping, epoch (1-based)
- outcome: success, success_all, accuracy (clean test), val_accuracy, val_success
- collective: alpha_realized (round(alpha n)/n), alpha_eff (JTT, Prop 3.2),
  alpha_eff_weights (Definition 1 from the algorithm's weights: JTT's stage-two
  weights, LfF's final weights, ERM's unit weights), p_error, p_error_given_collective (JTT)
- theory: xi, delta and theorem1_bound (eps = 0) for the panel's signal
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import store, theory
from .datasets.synthetic import make_generator
from .metrics import run_summary
from .signals import make_signal

COLUMNS = [
    "panel", "dataset", "algorithm", "alpha", "alpha_val", "seed", "stopping", "epoch",
    "success", "success_all", "accuracy", "val_accuracy", "val_success",
    "alpha_realized", "alpha_eff", "alpha_eff_weights", "p_error", "p_error_given_collective",
    "xi", "delta", "theorem1_bound",
]


def signal_theory(dataset_spec: Mapping[str, Any]) -> tuple[float, float]:
    """(xi, Delta) of the dataset's signal, where P0 is known (synthetic data); else NaN."""
    try:
        gen = make_generator(dataset_spec)
    except ValueError:
        return float("nan"), float("nan")
    return theory.signal_uniqueness_and_gap(gen, make_signal(dataset_spec["signal"]))


def panel_rows(panel: str, metrics_paths: Sequence[str], stopping: Sequence[str], xi: float, delta: float) -> pd.DataFrame:
    rows = []
    for path in metrics_paths:
        art = store.read_h5(path)
        meta = art.attrs["meta"]
        diag = art.group("diag")
        n_runs = len(meta["seeds"])
        nan = np.full(n_runs, np.nan)
        alpha_real = diag["alpha_realized_train"]
        bound = float(theory.theorem1_bound(meta["alpha"], delta, xi)) if np.isfinite(xi) else np.nan
        for rule in stopping:
            summary = run_summary(art, rule)
            rows.append(pd.DataFrame({
                "panel": panel,
                "dataset": meta["dataset"],
                "algorithm": meta["algorithm"],
                "alpha": meta["alpha"],
                "alpha_val": meta["alpha_val"],
                "seed": meta["seeds"],
                "stopping": rule,
                "epoch": summary["epoch"],
                "success": summary["test_success"],
                "success_all": summary["test_success_all"],
                "accuracy": summary["test_accuracy"],
                "val_accuracy": summary["val_accuracy"],
                "val_success": summary["val_success"],
                "alpha_realized": alpha_real,
                "alpha_eff": diag.get("alpha_eff", nan),
                "alpha_eff_weights": diag.get("alpha_eff_weights", alpha_real if meta["algorithm"] == "erm" else nan),
                "p_error": diag.get("p_error", nan),
                "p_error_given_collective": diag.get("p_error_given_collective", nan),
                "xi": xi,
                "delta": delta,
                "theorem1_bound": bound,
            }))
    table = pd.concat(rows, ignore_index=True)[COLUMNS]
    return table.sort_values(["algorithm", "alpha", "alpha_val", "stopping", "seed"], kind="stable").reset_index(drop=True)


def build(*, panel: str, spec: Mapping[str, Any], metrics_paths: Sequence[str], output: str) -> None:
    xi, delta = signal_theory(spec["dataset_spec"])
    table = panel_rows(panel, metrics_paths, spec["stopping"], xi, delta)
    with store.atomic_path(output) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    prov = store.provenance(step="table", config=dict(spec),
                            inputs={f"metrics{i:03d}": p for i, p in enumerate(metrics_paths)})
    store.write_sidecar(output, prov)
