"""What the side-by-side benchmarks share: the poisoned 2D runs they train, and the timing
(best of several rounds, the paths alternating, so a noisy neighbour hurts every path alike)."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from collective_action import collective, rng
from collective_action.signals import make_signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import reference  # noqa: E402, F401  (the tests' yardstick: a plain one-model-at-a-time loop)


def poisoned_2d(n: int, runs: int):
    """The 2D data (x ~ U(-1, 1)^2, y = 1[x1 > 0]) and one collective per run, its alpha spread over
    (0, 0.5): x, y, the run seeds and each run's (indices, planted inputs)."""
    signal = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
    x = np.random.default_rng(0).uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    seeds = list(range(runs))
    overlays = []
    for s in seeds:
        idx = collective.select_members(n, 0.5 * (s + 1) / runs, rng.numpy_rng(0, s, "bench"))
        overlays.append((idx, signal.apply(x[idx])))
    return x, y, seeds, overlays


def best_of(paths: Mapping[str, Callable], repeats: int) -> tuple[dict[str, float], dict]:
    """Each path's best time over ``repeats`` alternating rounds, and what each returned last."""
    best, results = dict.fromkeys(paths, float("inf")), {}
    for _ in range(repeats):
        for name, run in paths.items():
            start = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results
