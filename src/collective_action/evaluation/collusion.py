"""Gauthier, Bach and Jordan (ICML 2025, arXiv 2502.04879), Theorem 3.3: a lower bound on a collective's success
that the collective computes from its own members' data alone, before it acts.

Setting: the platform trains on N points, n of them the collective's, whose members plant h(x, y) = (g(x), y*)
(feature-label planting); success is the share of N_test test points x with f(g(x)) = y*. With probability at
least 1 - delta,

    S >= sum over signal values x~ of P~(x~) 1[ (n/N)(P~(x~) - 2R(n)) - ((N-n)/N)(Delta(x~) + 2R(n) + 2R(N-n))
                                               - eps/(1-eps) > 0 ]  -  R(n) - R(N_test),

with R(k) = sqrt(log(1/delta~) / (2k)), delta~ = delta / (2 + 2 #X~ + 2 #X~ #Y), #X~ the number of signal values
(the product of the cardinalities of the features g leaves free) and #Y the number of labels; P~(x~) the share of
members whose planted g(x) is x~; Delta(x~) = max_{y' != y*} P^(x~, y') - P^(x~, y*), the frequencies of the exact
vector x~ with each label among the members' ORIGINAL (x, y) (divided by n). Nothing is estimated from the other
N - n points. This is what their ``SignalPlanting.compute_lower_bound`` computes (``src/utils.py``); the functions
here take the members' rows as int64 keys (one per feature vector), so that every count is a group-by.

Unplanting (their Def 3.6: success is f(g(x)) != y*): the naive strategy plants a fixed y' != y*, and since
f(g(x)) = y' implies f(g(x)) != y*, the bound above with y* := y' bounds it (their Thm 3.7 is for the adaptive
strategy, which we do not build).
"""
from __future__ import annotations

import numpy as np


def feature_keys(x: np.ndarray, levels) -> np.ndarray:
    """Rows of feature codes [n, d] -> one int64 key each (mixed radix over the cardinalities ``levels``)."""
    x, levels = np.asarray(x), [int(v) for v in levels]
    if int(np.prod(levels, dtype=object)) < 2 ** 53:  # exact in float64: one matrix product
        strides = np.array([int(np.prod(levels[j + 1:], dtype=object)) for j in range(len(levels))], dtype=np.float64)
        return (x.astype(np.float64) @ strides).astype(np.int64)
    key = np.zeros(len(x), dtype=np.int64)
    for j, level in enumerate(levels):
        key = key * level + x[:, j].astype(np.int64)
    return key


def delta_tilde(delta: float, n_signal_values: int, n_labels: int) -> float:
    """delta~ = delta / (2 + 2 #X~ + 2 #X~ #Y): the union bound over every estimate the theorem makes."""
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    return float(delta) / (2.0 + 2.0 * n_signal_values + 2.0 * n_signal_values * n_labels)


def hoeffding(k, dt: float):
    """R(k) = sqrt(log(1/delta~) / (2k)); infinite for k = 0 (nothing estimated)."""
    k = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(k > 0, np.sqrt(np.log(1.0 / dt) / (2.0 * np.where(k > 0, k, 1.0))), np.inf)


def passes(share, gap, n: int, n_train: int, dt: float, eps: float = 0.0):
    """Whether a signal value of planted share ``share`` and margin ``gap`` (Delta) cracks: the indicator inside
    the bound, per value."""
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"epsilon must lie in [0, 1), got {eps}")
    share, gap = np.asarray(share, dtype=float), np.asarray(gap, dtype=float)
    rest = n_train - n
    clean = 0.0 if rest == 0 else (rest / n_train) * (gap + 2 * hoeffding(n, dt) + 2 * hoeffding(rest, dt))
    return (n / n_train) * (share - 2 * hoeffding(n, dt)) - clean - eps / (1.0 - eps) > 0


def signal_statistics(planted_keys: np.ndarray, member_keys: np.ndarray, member_y: np.ndarray, target: int,
                      n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The planted signal values (sorted keys), each one's share P~ among the n planted rows, and its Delta from the
    members' original (key, label) rows."""
    planted_keys, member_keys = np.asarray(planted_keys, np.int64), np.asarray(member_keys, np.int64)
    member_y = np.asarray(member_y, np.int64)
    n = len(planted_keys)
    values, counts = np.unique(planted_keys, return_counts=True)
    at = np.minimum(np.searchsorted(values, member_keys), len(values) - 1)
    hit = values[at] == member_keys
    joint = np.bincount(at[hit] * n_labels + member_y[hit], minlength=len(values) * n_labels)
    joint = joint.reshape(len(values), n_labels) / n
    others = np.delete(joint, target, axis=1)
    gap = (others.max(axis=1) if others.shape[1] else np.zeros(len(values))) - joint[:, target]
    return values, counts / n, gap


def planting_bound(planted_keys: np.ndarray, member_keys: np.ndarray, member_y: np.ndarray, target: int,
                   n_labels: int, n_train: int, n_test: int, n_signal_values: int, delta: float,
                   eps: float = 0.0) -> dict[str, float]:
    """Theorem 3.3's bound from the collective's own rows: ``bound``, and what it rests on: ``bound_share`` (the
    planted share whose signal value cracks, before the two R terms), ``bound_passing`` (how many signal values
    crack), ``bound_values`` (how many the members planted), and its settings ``bound_delta`` and
    ``bound_n_train`` (N). The bound is NaN without members (nothing to estimate)."""
    n = len(planted_keys)
    settings = {"bound_delta": float(delta), "bound_n_train": float(n_train)}
    if n == 0:
        return {"bound": float("nan"), "bound_share": float("nan"), "bound_passing": 0.0, "bound_values": 0.0,
                **settings}
    dt = delta_tilde(delta, n_signal_values, n_labels)
    values, share, gap = signal_statistics(planted_keys, member_keys, member_y, target, n_labels)
    ok = passes(share, gap, n, n_train, dt, eps)
    covered = float(share[ok].sum())
    return {"bound": covered - float(hoeffding(n, dt)) - float(hoeffding(n_test, dt)), "bound_share": covered,
            "bound_passing": float(ok.sum()), "bound_values": float(len(values)), **settings}
