"""CIFAR-10 (Fig 1c, 2, 4): the training set minus n_val random images is the training split, those
n_val the validation split; the test set is the test split."""
from __future__ import annotations

from ... import rng
from .. import sources
from .base import CIFAR_CLASSES, Builder, _source_label, _train_val_test


class CIFAR10(Builder):
    name = "cifar10"
    sources = ["cifar10"]
    n_classes = 10
    description = "CIFAR-10; n_val training images form the validation split."
    parameters = {
        "max_train": {"type": ["integer", "null"], "minimum": 1,
                      "description": "Cap on the training split (a random subset), for CPU-scale runs; null keeps "
                                     "all."},
        "max_test": {"type": ["integer", "null"], "minimum": 1,
                     "description": "Cap on the test split (a random subset); null keeps all."},
    }

    @classmethod
    def build(cls, spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
        raw = sources.load_cifar10(srcs["cifar10"], data_dir).require(CIFAR_CLASSES, "the cifar10 builder")
        arrays = _train_val_test(raw, spec, rng.numpy_rng(base_seed, spec["seed"], "data", "cifar10"))
        meta = {"class_names": list(CIFAR_CLASSES),
                "source_label": _source_label("CIFAR-10", srcs["cifar10"])}
        return arrays, meta
