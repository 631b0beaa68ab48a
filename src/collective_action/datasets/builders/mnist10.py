"""MNIST or Fashion-MNIST with all ten classes, 1x28x28: not a dataset of the paper.

A real ten-class image dataset that the CPU-scale CNN fits well and that a fresh machine can
obtain (torchvision downloads both; Debian's ``dataset-fashion-mnist`` package holds
Fashion-MNIST complete), for runs that need real images beyond the paper's CIFAR-10 subsets.
The training set minus n_val random images is the training split, those n_val the validation
split, the test set the test split. Only the chosen source is read (``source_parameter``), so
a dataset on Fashion-MNIST never needs MNIST staged, and the other way round.
"""
from __future__ import annotations

from ... import rng
from .. import sources
from .base import Builder, _source_label, _train_val_test


class MNIST10(Builder):
    name = "mnist10"
    sources = ["mnist", "fashion_mnist"]
    source_parameter = "images"
    n_classes = 10
    required = ["n_val", "images"]
    description = ("MNIST or Fashion-MNIST ('images'), all ten classes, 1x28x28; n_val training images form the "
                   "validation split. Not a dataset of the paper.")
    parameters = {
        "images": {"enum": ["mnist", "fashion_mnist"],
                   "description": "Which dataset, and so which entry of 'sources', the images come from: MNIST's "
                                  "handwritten digits or Fashion-MNIST's clothing."},
        "max_train": {"type": ["integer", "null"], "minimum": 1,
                      "description": "Cap on the training split (a random subset), for CPU-scale runs; null keeps "
                                     "all."},
        "max_test": {"type": ["integer", "null"], "minimum": 1,
                     "description": "Cap on the test split (a random subset); null keeps all."},
    }

    @classmethod
    def build(cls, spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
        key = spec["images"]
        raw = sources.load(key, srcs[key], data_dir)
        raw.require(raw.classes, f"the {cls.name} builder")
        arrays = _train_val_test(raw, spec, rng.numpy_rng(base_seed, spec["seed"], "data", cls.name, key))
        label = _source_label(sources.DATASETS[key]["title"], srcs[key])
        meta = {"class_names": raw.classes,
                "source_label": f"{label}, all ten classes (not a dataset of the paper)"}
        return arrays, meta
