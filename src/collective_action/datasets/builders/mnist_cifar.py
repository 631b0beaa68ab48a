"""MNIST-CIFAR (Shah et al. 2020; Fig 6).

An MNIST 0 or 1, padded to 32x32 and repeated over 3 channels, on top of a CIFAR-10 automobile or truck
(3x64x32). The CIFAR half sets the label (automobile 0, truck 1); with probability c the digit matches the
label (0 with automobile), otherwise it is a random 0 or 1. A fixed pool of ``pool_size`` training
automobiles and trucks is stored for the collective's signal."""
from __future__ import annotations

import numpy as np

from ... import rng
from .. import sources
from .base import CIFAR_CLASSES, Builder, _chw, _source_label, _split_off


def _mnist_on_cifar(cifar: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """MNIST digits [N, 28, 28] padded to 32x32, 3 channels, on top of CIFAR images [N, 32, 32, 3] -> [N, 3, 64, 32]."""
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    top = np.repeat(padded[:, None], 3, axis=1)
    return np.ascontiguousarray(np.concatenate([top, _chw(cifar)], axis=2))


class MNISTCIFAR(Builder):
    name = "mnist_cifar"
    sources = ["cifar10", "mnist"]
    family = "c"
    family_scale = 100  # members are named in percent: _c0, _c50, _c100
    n_classes = 2  # automobile (0), truck (1)
    required = ["n_val", "pool_size"]
    description = ("Shah et al.'s MNIST-CIFAR (an MNIST 0/1 on top of a CIFAR automobile/truck, 3x64x32) with "
                   "correlation c; needs c or cs and pool_size.")
    parameters = {
        "c": {"type": "number", "minimum": 0, "maximum": 1,
              "description": "Probability that the MNIST digit matches the label (0 with automobile)."},
        "pool_size": {"type": "integer", "minimum": 1,
                      "description": "Size of the collective's fixed pool of training automobiles and trucks (100 in "
                                     "the paper)."},
    }

    @classmethod
    def build(cls, spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
        needs = "the mnist_cifar builder"
        cifar = sources.load_cifar10(srcs["cifar10"], data_dir).require(["automobile", "truck"], needs)
        mnist = sources.load_mnist(srcs["mnist"], data_dir).require(["0", "1"], needs)
        c = float(spec["c"])
        g = rng.numpy_rng(base_seed, spec["seed"], "data", "mnist_cifar", c)
        car, truck = CIFAR_CLASSES.index("automobile"), CIFAR_CLASSES.index("truck")
        out: dict[str, np.ndarray] = {}
        parts = {}
        for split in ("train", "test"):
            keep = np.flatnonzero((cifar[f"y_{split}"] == car) | (cifar[f"y_{split}"] == truck))
            y = (cifar[f"y_{split}"][keep] == truck).astype(np.int64)
            match = g.random(len(y)) < c
            digit = np.where(match, y, g.integers(0, 2, size=len(y)))
            by_digit = [np.flatnonzero(mnist[f"y_{split}"] == d) for d in (0, 1)]
            pick = np.where(digit == 0, g.choice(by_digit[0], size=len(y)), g.choice(by_digit[1], size=len(y)))
            parts[split] = (_mnist_on_cifar(cifar[f"x_{split}"][keep], mnist[f"x_{split}"][pick, ..., 0]), y, keep)
        x_all, y_all, keep_train = parts["train"]
        train, val = _split_off(len(y_all), int(spec["n_val"]), g)
        out.update({"train/x": x_all[train], "train/y": y_all[train], "val/x": x_all[val], "val/y": y_all[val],
                    "test/x": parts["test"][0], "test/y": parts["test"][1]})
        # the collective's pools: CIFAR halves of training automobiles and trucks (they stay in the training data too)
        pool_size = int(spec["pool_size"])
        for label, cls in ((0, "automobile"), (1, "truck")):
            members = train[y_all[train] == label]
            chosen = np.sort(g.choice(members, size=min(pool_size, len(members)), replace=False))
            out[f"pool/{cls}"] = x_all[chosen][:, :, 32:, :]
        meta = {"class_names": ["automobile", "truck"], "c": c,
                "source_label": f"MNIST-CIFAR c={c:g} from {_source_label('CIFAR-10', srcs['cifar10'])} and "
                                f"{_source_label('MNIST', srcs['mnist'])}"}
        return out, meta
