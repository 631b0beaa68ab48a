"""The collective: who joins it and what it plants.

For a dataset, a collective size alpha (training split) and alpha_val
(validation split) and each run seed, exactly round(alpha * n) points are drawn
uniformly without replacement and replaced by (g(x), y*). One poisoned file
holds every seed of a (dataset, alpha, alpha_val) cell and is read by every
algorithm, so algorithms are compared on the same collectives.

The file stores the collective's indices and its transformed inputs, not a copy
of the whole split: the training code overlays them on the prepared dataset.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import datasets, rng, store
from .signals import make_signal


def collective_size(alpha: float, n: int) -> int:
    """round(alpha * n), halves rounded up (Python's round() would round 0.5 to even)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"collective size {alpha} outside [0, 1]")
    return int(math.floor(alpha * n + 0.5))


def select_members(n: int, alpha: float, generator: np.random.Generator) -> np.ndarray:
    """The first round(alpha * n) points of a uniformly random order of the split.

    The order depends on the run seed but not on alpha, so the collectives of one
    seed are nested across alphas (common random numbers: the success curve over
    alpha is not jittered by redrawing who joins); each one is still a uniform draw.
    """
    k = collective_size(alpha, n)
    return np.sort(generator.permutation(n)[:k]).astype(np.int64)


def poison(
    data_path: str,
    signal_spec: Mapping[str, Any],
    alpha: float,
    alpha_val: float,
    seeds: Sequence[int],
    base_seed: int,
    dataset: str,
    output: str,
    record: Mapping[str, Any] | None = None,
) -> None:
    """Write the poisoned cell; ``record`` is the config slice kept as provenance (the rule's params)."""
    data = datasets.load(data_path)
    signal = make_signal(signal_spec, data)
    arrays: dict[str, np.ndarray] = {}
    for seed in seeds:
        for split, size in (("train", alpha), ("val", alpha_val)):
            x = data[f"{split}/x"]
            # one stream per (seed, split): the validation collective never depends on alpha,
            # nor the training collective on alpha_val
            members = select_members(len(x), size, rng.numpy_rng(base_seed, seed, "collective", dataset, split))
            arrays[f"seed{seed}/{split}/index"] = members
            draws = rng.numpy_rng(base_seed, seed, "signal", dataset, split)  # for signals that draw (a pool image)
            arrays[f"seed{seed}/{split}/x"] = signal.apply(x[members], draws) if len(members) else x[:0]
    meta = {"dataset": dataset, "alpha": alpha, "alpha_val": alpha_val, "seeds": list(seeds),
            "target_label": int(signal.target_label)}
    prov = store.provenance(
        step="poison",
        config=dict(record or {"dataset": dataset, "signal": dict(signal_spec), "alpha": alpha, "alpha_val": alpha_val,
                               "seeds": list(seeds), "base_seed": base_seed}),
        inputs={"data": data_path},
        seeds=list(seeds),
    )
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def overlay(x: np.ndarray, y: np.ndarray, index: np.ndarray, x_collective: np.ndarray, target: int):
    """The poisoned split as the firm sees it: (x, y) with the collective's points replaced."""
    x = np.array(x, copy=True)
    y = np.array(y, copy=True)
    x[index] = x_collective
    y[index] = target
    member = np.zeros(len(y), dtype=bool)
    member[index] = True
    return x, y, member
