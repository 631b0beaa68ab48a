"""Stopping rules: which epoch of a run the firm keeps, decided on validation data only.

- ``last``: the last epoch;
- ``max_val_accuracy``: the epoch of highest accuracy on the validation split as the
  firm sees it (the collective's points included, with their labels y*);
- ``max_val_success``: the epoch of highest success of g on the clean validation inputs.

Ties (``earliest`` or ``latest`` epoch among equal scores) are a choice the paper leaves
open; every rule with both tie choices is a *slot*. Training keeps each slot's model,
so evaluating test data at any slot needs no retraining, and the panel's choice
(config ``panels.<panel>.ties``) only reruns tables. Used by training (to keep the
slots' models) and by evaluation (to pick the slots' epochs): one definition for both.
"""
from __future__ import annotations

import numpy as np

RULES = ("last", "max_val_accuracy", "max_val_success")
TIES = ("earliest", "latest")
SLOTS = ("last",) + tuple(f"{rule}.{ties}" for rule in RULES[1:] for ties in TIES)


def slot(rule: str, ties: str = "earliest") -> str:
    if rule not in RULES:
        raise ValueError(f"unknown stopping rule '{rule}' (known: {', '.join(RULES)})")
    if ties not in TIES:
        raise ValueError(f"unknown tie choice '{ties}' (known: {', '.join(TIES)})")
    return rule if rule == "last" else f"{rule}.{ties}"


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


def val_scores(val_pred: np.ndarray, val_signal_pred: np.ndarray, y_val_observed: np.ndarray,
               y_val_clean: np.ndarray, target: int) -> dict[str, np.ndarray]:
    """The scores the rules maximise, per epoch and run ([E, M]), from predictions [E, M, N]."""
    return {"val_accuracy": accuracy(val_pred, y_val_observed[None]),
            "val_success": success_rate(val_signal_pred, y_val_clean, target)}


def select(scores: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The epoch index [M] a slot picks from per-epoch scores [E, M]."""
    rule, _, ties = name.partition(".")
    n_epochs, n_runs = scores["val_accuracy"].shape
    if rule == "last":
        return np.full(n_runs, n_epochs - 1, dtype=np.int64)
    score = np.nan_to_num(scores[rule[len("max_"):]], nan=-1.0)
    if ties == "latest":
        return (n_epochs - 1 - np.argmax(score[::-1], axis=0)).astype(np.int64)
    return np.argmax(score, axis=0).astype(np.int64)  # argmax returns the first maximum
