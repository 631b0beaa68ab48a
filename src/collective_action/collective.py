"""The collective: who joins it and what it plants.

For a dataset, a collective size alpha (training split) and alpha_val
(validation split) and each run seed, exactly round(alpha * n) points are drawn
uniformly without replacement and replaced by (g(x), y*). One poisoned file
holds every seed of a (dataset, alpha, alpha_val) cell and is read by every
algorithm, so algorithms are compared on the same collectives.

Who may join: a signal's ``eligible(y)`` (all points by default). The feature-only
strategy of Hardt et al. draws its members only from points already labelled y*
(``token_insert_feature_only``). alpha stays the collective's share of the WHOLE
split (round(alpha * n) members, n the split's size, as for every other signal), so
feature-label and feature-only collectives of the same alpha have the same number
of members and the same share of the firm's data; a size that needs more members
than there are eligible points is an error naming the dataset.

A second collective (the dataset's ``collective_2``: its own signal, target label
and size alpha_2, fixed or a ratio of alpha, training split only) joins the same training set: round(alpha_2 * n)
members drawn uniformly from the points that are not in the first collective (and
that its own signal lets join), from a stream of its own (``collective_2``), so the
two collectives are disjoint; for one seed the second collective is nested across
its sizes, and it moves with alpha only where the first collective took one of its
points. Its members get g_2(x) and y*_2.

The file stores the collectives' indices and transformed inputs, not a copy of the
whole split: the training code overlays them on the prepared dataset
(``seed<s>/<split>/{index,x}``; the second collective ``seed<s>/train_2/{index,x}``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import datasets, rng, store
from .signals import make_signal


def second_alpha(second: Mapping[str, Any], alpha: float) -> float:
    """The second collective's size in a cell whose first collective has size ``alpha``: ``collective_2.alpha``
    (a fixed share of the training set) or ``alpha_ratio`` times alpha (equal sizes at ratio 1, as in Karan et
    al.'s two-collective experiments)."""
    if second.get("alpha") is not None:
        return float(second["alpha"])
    return float(round(float(second["alpha_ratio"]) * float(alpha), 12))


def collective_size(alpha: float, n: int) -> int:
    """round(alpha * n), halves rounded up (Python's round() would round 0.5 to even)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"collective size {alpha} outside [0, 1]")
    return int(math.floor(alpha * n + 0.5))


def select_members(n: int, alpha: float, generator: np.random.Generator, eligible: np.ndarray | None = None,
                   exclude: np.ndarray | None = None, what: str = "the collective") -> np.ndarray:
    """The first round(alpha * n) points of a uniformly random order of the split, among those
    that may join (``eligible``, a boolean mask) and are not taken already (``exclude``, indices).

    The order depends on the run seed but not on alpha, so the collectives of one
    seed are nested across alphas (common random numbers: the success curve over
    alpha is not jittered by redrawing who joins); each one is still a uniform draw
    from the points allowed to join. With every point allowed this is exactly the
    first round(alpha * n) points of the permutation.
    """
    k = collective_size(alpha, n)
    order = generator.permutation(n)
    if eligible is not None or exclude is not None:
        allowed = np.ones(n, dtype=bool) if eligible is None else np.array(eligible, dtype=bool, copy=True)
        if exclude is not None:
            allowed[np.asarray(exclude, dtype=np.int64)] = False
        order = order[allowed[order]]
        if k > len(order):
            raise ValueError(f"{what}: alpha = {alpha:g} needs round(alpha n) = {k} of the split's {n} points, but only "
                             f"{len(order)} may join (the signal's eligible points, minus another collective's "
                             f"members); lower alpha")
    return np.sort(order[:k]).astype(np.int64)


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
    collective_2: Mapping[str, Any] | None = None,
    stream: str | None = None,
) -> None:
    """Write the poisoned cell; ``record`` is the config slice kept as provenance (the rule's params);
    ``collective_2`` ({alpha, signal}) declares a second collective, training split only; ``stream`` names
    the random streams that draw the collectives (the dataset's own name unless an atlas's variant of a
    dataset draws the collectives of the dataset it derives from)."""
    stream = stream or dataset
    second = dict(collective_2) if collective_2 else None
    data = datasets.load(data_path)
    signal = make_signal(signal_spec, data)
    signal_2 = make_signal(second["signal"], data) if second else None
    alpha_2 = second_alpha(second, alpha) if second else 0.0
    if second and alpha + alpha_2 > 1.0:
        raise ValueError(f"datasets.{dataset}: alpha = {alpha:g} plus the second collective's {alpha_2:g} "
                         f"exceeds the whole training set")
    arrays: dict[str, np.ndarray] = {}
    for seed in seeds:
        for split, size in (("train", alpha), ("val", alpha_val)):
            arrays[f"seed{seed}/{split}/index"], arrays[f"seed{seed}/{split}/x"] = _plant(
                data, split, size, signal, _streams(base_seed, seed, stream, split),
                what=f"datasets.{dataset} ({split} split, signal '{signal_spec['kind']}')")
        if second:
            arrays[f"seed{seed}/train_2/index"], arrays[f"seed{seed}/train_2/x"] = _plant(
                data, "train", alpha_2, signal_2, _streams(base_seed, seed, stream, "train", "_2"),
                exclude=arrays[f"seed{seed}/train/index"],
                what=f"datasets.{dataset}.collective_2 (signal '{second['signal']['kind']}')")
    meta = {"dataset": dataset, "alpha": alpha, "alpha_val": alpha_val, "seeds": list(seeds),
            "target_label": int(signal.target_label)}
    if second:
        meta.update(alpha_2=alpha_2, target_label_2=int(signal_2.target_label))
    config = dict(record or {"dataset": dataset, "signal": dict(signal_spec), "alpha": alpha, "alpha_val": alpha_val,
                             "seeds": list(seeds), "base_seed": base_seed})
    if second and "collective_2" not in config:
        config["collective_2"] = second
    prov = store.provenance(step="poison", config=config, inputs={"data": data_path}, seeds=list(seeds))
    store.write_h5(output, arrays, prov, attrs={"meta": meta})


def _streams(base_seed: int, seed: int, dataset: str, split: str, tag: str = ""):
    """Who joins, and the signal's own draws (a pool image), from streams of their own per (seed, split,
    collective): the validation collective never depends on alpha, nor the training collective on alpha_val."""
    return (rng.numpy_rng(base_seed, seed, f"collective{tag}", dataset, split),
            rng.numpy_rng(base_seed, seed, f"signal{tag}", dataset, split))


def _plant(data, split: str, size: float, signal, streams, exclude=None, what: str = ""):
    """One collective of a split: its members (drawn from the points the signal may take) and what they
    plant (``signal.plant``: g(x), or g(x) with the members' own error)."""
    x, y = data[f"{split}/x"], data[f"{split}/y"]
    members = select_members(len(x), size, streams[0], signal.eligible(y), exclude=exclude, what=what)
    return members, (signal.plant(x[members], streams[1]) if len(members) else x[:0])


def overlay(x: np.ndarray, y: np.ndarray, index: np.ndarray, x_collective: np.ndarray, target: int):
    """The poisoned split as the firm sees it: (x, y) with the collective's points replaced."""
    x = np.array(x, copy=True)
    y = np.array(y, copy=True)
    x[index] = x_collective
    y[index] = target
    member = np.zeros(len(y), dtype=bool)
    member[index] = True
    return x, y, member


class PoisonedBayes:
    """The Bayes classifier of the poisoned distribution, for several disjoint collectives drawn uniformly
    (synthetic 2D data whose P0 the generator knows); :meth:`success` for given sizes.

    P_alpha = (1 - sum alpha_j) P0 + sum_j alpha_j (g_j # P0 labelled y*_j): the members of each
    collective are a uniform draw, so the points left clean are still distributed as P0. Densities
    are histograms of the generator's reference points (exact for the piecewise-uniform 2D data
    when the bin edges contain the signals' mirror lines); the Bayes classifier takes the label of
    largest mass in each bin, ties going against y*. Collective j's success is the share of P0's
    points labelled other than y*_j whose g_j(x) lands in a bin classified y*_j. Everything but the
    sizes is computed once, so a table's cells (one per size) share it."""

    def __init__(self, generator, signals: Sequence, bins: int = 40):
        points = generator.reference_points()
        labels = np.nanargmax(np.nan_to_num(generator.posterior(points), nan=-1.0), axis=1)
        x1_lo, x1_hi, x2_lo, x2_hi = generator.bounds
        edges = (np.linspace(x1_lo, x1_hi, bins + 1), np.linspace(x2_lo, x2_hi, bins + 1))

        def hist(x):
            return np.histogram2d(x[:, 0], x[:, 1], bins=edges)[0] / len(points)

        def bin_of(x):
            i = np.clip(np.searchsorted(edges[0], x[:, 0], side="right") - 1, 0, bins - 1)
            j = np.clip(np.searchsorted(edges[1], x[:, 1], side="right") - 1, 0, bins - 1)
            return i, j

        self.signals = list(signals)
        self.class_mass = np.stack([hist(points[labels == c]) for c in range(int(generator.n_classes))])
        images = [s.apply(points) for s in self.signals]
        self.signal_mass = [hist(gx) for gx in images]
        self.landing = []  # per signal: the bins where g(x) of P0's points not labelled y* land (None if none)
        for s, gx in zip(self.signals, images):
            keep = labels != int(s.target_label)
            self.landing.append(bin_of(gx[keep]) if keep.any() else None)

    def success(self, alphas: Sequence[float]) -> list[float]:
        mass = self.class_mass * (1.0 - float(sum(alphas)))
        for s, a, signal_mass in zip(self.signals, alphas, self.signal_mass):
            mass[int(s.target_label)] += float(a) * signal_mass
        out = []
        for s, landing in zip(self.signals, self.landing):
            target = int(s.target_label)
            others = np.delete(mass, target, axis=0).max(axis=0)
            wins = mass[target] > others * (1 + 1e-9) + 1e-15
            out.append(float(wins[landing].mean()) if landing is not None else float("nan"))
        return out


def bayes_success(generator, signals: Sequence, alphas: Sequence[float], bins: int = 40) -> list[float]:
    """Success of the poisoned distribution's Bayes classifier for each collective (see :class:`PoisonedBayes`)."""
    return PoisonedBayes(generator, signals, bins).success(alphas)
