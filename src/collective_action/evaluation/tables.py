"""Tidy per-panel tables: one row per run and stopping rule (rules in the panel's
order, the first being the one figures and claims use).

``results/tables/<panel>.csv`` is what figures and claims read. Columns:

- identity: dataset, data_source (where the data came from; a stand-in says so),
  algorithm, learner, alpha, alpha_val, seed, stopping, epoch (1-based)
- outcome: success, success_all, accuracy (clean test), train_accuracy (the same model on the clean
  training split; external data only), worst_group_accuracy (where the data has groups), val_accuracy,
  val_success
- fit (whether the run learned the data it was given, judged on the model as trained, its last epoch, whatever
  the stopping rule): fit_accuracy (its accuracy on its own training split as the firm sees it, the collective
  included), fit_majority (that split's majority-class rate, what a constant prediction scores), fit_balanced
  (the mean over its K classes of the share predicted right: 1/K for a constant or random prediction) and
  learned (fit_balanced >= 1/K + quality.fit_margin x (1 - 1/K), see :func:`learned`); claims computed from a
  run that did not learn are 'inconclusive' (claims/core.py)
- collective: alpha_realized (round(alpha n)/n), alpha_val_realized, alpha_eff (JTT, Prop 3.2),
  alpha_eff_weights (Definition 1 from the algorithm's weights: JTT's stage-two
  weights, LfF's final weights, ERM's unit weights), p_error, p_error_given_collective (JTT)
- theory: xi, delta and theorem1_bound (eps = 0) for the panel's signal, and
  ceiling, the success reachable without contradicting clean data; on text (feature-label signals),
  xi is the planted token's measured frequency in clean training documents and delta its worst case, 1
- datasets: k (for LMS-k and k-strips), c (MNIST-CIFAR's correlation), agreement_x1 (agreement with the simple
  x1-only rule on a probe set where x2 is independent of the label; LMS-k only)
- Prop 3.3, for every algorithm but ERM when the panel also has ERM:
  prop33_rhs = (val_accuracy(f) - val_accuracy(ERM)) / (alpha_val - alpha), with the
  same seed's ERM run standing in for the Bayes classifier on P_alpha, and
  prop33_lhs = success(f) - success(ERM); the proposition says lhs >= rhs.
- two collectives (a dataset with ``collective_2``): alpha_2, success_2, success_all_2 (the second
  collective's size and success), alpha_2_realized, and bayes_success, bayes_success_2 (synthetic data:
  the success of the Bayes classifier of the poisoned distribution for each collective)
- then every other per-run diagnostic a learner records (e.g. DP-SGD's epsilon), one
  column each, named as the learner names it, so a new learner's diagnostics reach the
  tables without a change here.

``results/tables/epochs/<panel>.csv`` has one row per run and epoch at the panel's
``per_epoch_alphas`` (Fig 3a).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import store
from ..datasets.generators import GENERATORS, make_generator
from ..signals import make_signal
from . import theory
from .metrics import read_cells, run_summary

COLUMNS = [
    "panel", "dataset", "data_source", "algorithm", "learner", "alpha", "alpha_val", "seed", "stopping", "epoch",
    "success", "success_all", "accuracy", "train_accuracy", "worst_group_accuracy", "val_accuracy", "val_success",
    "fit_accuracy", "fit_majority", "fit_balanced", "learned", "alpha_realized", "alpha_val_realized", "alpha_eff", "alpha_eff_weights",
    "p_error", "p_error_given_collective",
    "xi", "delta", "theorem1_bound", "ceiling", "k", "c", "agreement_x1", "prop33_lhs", "prop33_rhs",
]
# diagnostics that have a column of their own above
MAPPED_DIAGNOSTICS = {"alpha_realized_train", "alpha_realized_val", "alpha_eff", "alpha_eff_weights", "p_error",
                      "p_error_given_collective", "alpha_realized", "fit_accuracy", "fit_majority", "fit_balanced",
                      "fit_classes"}
EPOCH_COLUMNS = ["panel", "dataset", "data_source", "algorithm", "learner", "learned", "alpha", "alpha_val", "seed", "epoch",
                 "success", "success_all", "accuracy", "train_accuracy", "val_accuracy", "val_success", "worst_group_accuracy", "k"]


def learned(diag: Mapping[str, np.ndarray], n_runs: int, fit_margin: float) -> np.ndarray:
    """Per run, whether it learned its training data: its balanced accuracy there (fit_balanced: the mean over
    the K classes present of the share predicted right) clearly above 1/K, what a constant or a random
    prediction scores, by ``fit_margin`` of the room above it. Balanced, not plain accuracy against the
    majority rate: a learner that reweights (LfF, CVaR-DRO) fits a distribution other than the training split's,
    and on 2D at alpha = 0.6 LfF scores 0.54 against a majority rate of 0.79 while predicting both classes
    where they are (clean test accuracy 0.68); a large collective also makes the data noisy (the best
    classifier there scores 0.9 against 0.8). Runs without these diagnostics count as learned."""
    if "fit_balanced" not in diag:
        return np.ones(n_runs, dtype=bool)
    chance = 1.0 / np.maximum(np.asarray(diag["fit_classes"], float), 1.0)
    return np.asarray(diag["fit_balanced"], float) >= chance + fit_margin * (1.0 - chance) - 1e-12


def known_density(dataset_spec: Mapping[str, Any]) -> bool:
    """Whether the dataset's P0 is known on reference points of the plane (the 2-D generators; not external data,
    nor a categorical generator's)."""
    return "generator" in dataset_spec and GENERATORS.meta(dataset_spec["generator"]).get("data_kind") == "synthetic"


def signal_theory(dataset_spec: Mapping[str, Any]) -> dict[str, float]:
    """xi, Delta and the reachable success of the dataset's signal where P0 is known
    (2-D synthetic data); NaN otherwise."""
    if not known_density(dataset_spec):
        return {"xi": np.nan, "delta": np.nan, "ceiling": np.nan}
    gen = make_generator(dataset_spec)
    signal = make_signal(dataset_spec["signal"])
    xi, delta = theory.signal_uniqueness_and_gap(gen, signal)
    return {"xi": xi, "delta": delta, "ceiling": theory.reachable_success(gen, signal)}


def _feature_label(dataset_spec: Mapping[str, Any]) -> bool:
    """Whether the dataset's signal relabels (Theorem 1 bounds it); feature-only signals say otherwise."""
    from ..signals import SIGNALS

    return SIGNALS.meta(dataset_spec["signal"]["kind"]).get("strategy", "feature-label") == "feature-label"


def second_collective_columns(summary: Mapping[str, np.ndarray], meta: Mapping[str, Any],
                              dataset_spec: Mapping[str, Any], bayes: dict | None = None) -> dict[str, Any]:
    """Columns of a dataset with a second collective (``collective_2``), none otherwise: its size alpha_2, its
    success and success_all, and (synthetic data) the success of the poisoned distribution's Bayes classifier
    for each collective, bayes_success and bayes_success_2 (``collective.PoisonedBayes``, kept in ``bayes``
    by dataset across a table's cells)."""
    second = dataset_spec.get("collective_2")
    if not second:
        return {}
    from ..collective import second_alpha

    alpha_2 = second_alpha(second, meta["alpha"])
    out = {"alpha_2": alpha_2, "success_2": summary["test_success_2"],
           "success_all_2": summary["test_success_all_2"], "bayes_success": np.nan, "bayes_success_2": np.nan}
    if known_density(dataset_spec):
        from ..collective import PoisonedBayes

        bayes = {} if bayes is None else bayes
        if meta["dataset"] not in bayes:
            signals = [make_signal(dataset_spec["signal"]), make_signal(second["signal"])]
            bayes[meta["dataset"]] = PoisonedBayes(make_generator(dataset_spec), signals)
        b1, b2 = bayes[meta["dataset"]].success([meta["alpha"], alpha_2])
        out.update(bayes_success=b1, bayes_success_2=b2)
    return out


def panel_rows(panel: str, metrics_paths: Sequence[str], stopping: Sequence[str],
               datasets: Mapping[str, Mapping[str, Any]], ties: str = "earliest", fit_margin: float = 0.0) -> pd.DataFrame:
    rows, bayes = [], {}
    theory_of = {name: signal_theory(spec) for name, spec in datasets.items()}
    for art in read_cells(metrics_paths):
        meta = art.attrs["meta"]
        diag = art.group("diag")
        n_runs = len(meta["seeds"])
        nan = np.full(n_runs, np.nan)
        alpha_real = diag["alpha_realized_train"]
        th = theory_of[meta["dataset"]]
        xi, delta = th["xi"], th["delta"]
        if not np.isfinite(xi) and "xi" in meta:
            # text: xi is the token's measured frequency in clean training documents; Delta <= 1 (worst case),
            # given for feature-label signals only, as Theorem 1 is about them (no bound for feature-only)
            xi, delta = float(meta["xi"]), 1.0 if _feature_label(datasets[meta["dataset"]]) else np.nan
        bound = float(theory.theorem1_bound(meta["alpha"], delta, xi)) if np.isfinite(xi) else np.nan
        for rule in stopping:
            summary = run_summary(art, rule, ties)
            rows.append(pd.DataFrame({
                "panel": panel,
                "dataset": meta["dataset"],
                "data_source": meta.get("source_label", "synthetic"),
                "algorithm": meta["algorithm"],
                "learner": meta.get("learner", meta["algorithm"]),
                "alpha": meta["alpha"],
                "alpha_val": meta["alpha_val"],
                "seed": meta["seeds"],
                "stopping": rule,
                "epoch": summary["epoch"],
                "success": summary["test_success"],
                "success_all": summary["test_success_all"],
                "accuracy": summary["test_accuracy"],
                "train_accuracy": summary.get("train_accuracy", nan),
                "worst_group_accuracy": summary.get("test_worst_group_accuracy", nan),
                "val_accuracy": summary["val_accuracy"],
                "val_success": summary["val_success"],
                "fit_accuracy": diag.get("fit_accuracy", nan),
                "fit_majority": diag.get("fit_majority", nan),
                "fit_balanced": diag.get("fit_balanced", nan),
                "learned": learned(diag, n_runs, fit_margin),
                "alpha_realized": alpha_real,
                "alpha_val_realized": diag["alpha_realized_val"],
                "alpha_eff": diag.get("alpha_eff", nan),
                "alpha_eff_weights": diag.get("alpha_eff_weights", alpha_real if meta["algorithm"] == "erm" else nan),
                "p_error": diag.get("p_error", nan),
                "p_error_given_collective": diag.get("p_error_given_collective", nan),
                "xi": xi,
                "delta": delta,
                "theorem1_bound": bound,
                "ceiling": th["ceiling"],
                "k": datasets[meta["dataset"]].get("k", np.nan),
                "c": datasets[meta["dataset"]].get("c", np.nan),
                "agreement_x1": summary.get("probe_agreement", nan),
                **{key: value for key, value in diag.items() if key not in MAPPED_DIAGNOSTICS},
                **second_collective_columns(summary, meta, datasets[meta["dataset"]], bayes),
            }))
    table = add_prop33(pd.concat(rows, ignore_index=True))
    table = table[COLUMNS + sorted(set(table.columns) - set(COLUMNS))]
    # rules keep the panel's order: the first is the one figures and claims use
    rule_order = table["stopping"].map({rule: i for i, rule in enumerate(stopping)})
    return (table.assign(_rule=rule_order).sort_values(["_rule", "dataset", "algorithm", "alpha", "alpha_val", "seed"],
                                                       kind="stable").drop(columns="_rule").reset_index(drop=True))


def add_prop33(table: pd.DataFrame) -> pd.DataFrame:
    """Prop 3.3's two sides for each non-ERM run against the same seed's ERM run."""
    table = table.assign(prop33_lhs=np.nan, prop33_rhs=np.nan)
    keys = ["dataset", "alpha", "alpha_val", "seed", "stopping"]
    erm = table[table["algorithm"] == "erm"].set_index(keys)[["success", "val_accuracy"]]
    if erm.empty:
        return table
    others = table["algorithm"] != "erm"
    partner = erm.reindex(pd.MultiIndex.from_frame(table.loc[others, keys]))
    gap = (table.loc[others, "alpha_val_realized"] - table.loc[others, "alpha_realized"]).values
    with np.errstate(divide="ignore", invalid="ignore"):
        rhs = (table.loc[others, "val_accuracy"].values - partner["val_accuracy"].values) / gap
    table.loc[others, "prop33_lhs"] = table.loc[others, "success"].values - partner["success"].values
    table.loc[others, "prop33_rhs"] = np.where(np.isfinite(rhs), rhs, np.nan)
    return table


def epoch_rows(panel: str, metrics_paths: Sequence[str], datasets: Mapping[str, Mapping[str, Any]],
               alphas: Sequence[float] | None = None, fit_margin: float = 0.0) -> pd.DataFrame:
    """Rows of the cells at ``alphas`` (all cells where None), which must have been recorded after every epoch."""
    rows = []
    for art in read_cells(metrics_paths):
        meta = art.attrs["meta"]
        if alphas is not None and meta["alpha"] not in alphas:
            continue
        ep = art.group("epoch")
        n_epochs, n_runs = ep["test_success"].shape
        epoch, run = np.meshgrid(np.arange(n_epochs), np.arange(n_runs), indexing="ij")
        rows.append(pd.DataFrame({
            "panel": panel, "dataset": meta["dataset"], "data_source": meta.get("source_label", "synthetic"),
            "algorithm": meta["algorithm"], "learner": meta.get("learner", meta["algorithm"]),
            "learned": learned(art.group("diag"), n_runs, fit_margin)[run.ravel()], "alpha": meta["alpha"],
            "alpha_val": meta["alpha_val"], "seed": np.asarray(meta["seeds"])[run.ravel()], "epoch": epoch.ravel() + 1,
            "success": ep["test_success"].ravel(), "success_all": ep["test_success_all"].ravel(),
            "accuracy": ep["test_accuracy"].ravel(), "val_accuracy": ep["val_accuracy"].ravel(),
            "train_accuracy": ep["train_accuracy"].ravel() if "train_accuracy" in ep else np.nan,
            "val_success": ep["val_success"].ravel(),
            "worst_group_accuracy": ep["test_worst_group_accuracy"].ravel() if "test_worst_group_accuracy" in ep
            else np.nan,
            "k": datasets[meta["dataset"]].get("k", np.nan),
        }))
    table = pd.concat(rows, ignore_index=True)[EPOCH_COLUMNS]
    return table.sort_values(["dataset", "algorithm", "alpha", "alpha_val", "seed", "epoch"], kind="stable")


def _write(table: pd.DataFrame, output: str, spec: Mapping[str, Any], metrics_paths: Sequence[str]) -> None:
    store.write_table(table, output, store.provenance(
        step="table", config=dict(spec), inputs={f"metrics{i:03d}": p for i, p in enumerate(metrics_paths)}))


def build_epochs(*, panel: str, spec: Mapping[str, Any], metrics_paths: Sequence[str], output: str) -> None:
    _write(epoch_rows(panel, metrics_paths, spec["datasets"], spec.get("per_epoch_alphas"),
                      spec["quality"]["fit_margin"]), output, spec, metrics_paths)


def build(*, panel: str, spec: Mapping[str, Any], metrics_paths: Sequence[str], output: str) -> None:
    _write(panel_rows(panel, metrics_paths, spec["stopping"], spec["datasets"], spec.get("ties", "earliest"),
                      spec["quality"]["fit_margin"]), output, spec, metrics_paths)
