"""Waterbirds (Sagawa et al. 2020): metadata splits, y, place, group = 2 y + place; or its offline stand-in.

The stand-in (source kind ``standin``), for machines without Waterbirds: real CIFAR-10 images composited
like Waterbirds composites birds onto places: the central 20x20 of an airplane (y = 0) or a bird (y = 1)
pasted onto a land scene (a deer or horse image, place 0) or a water scene (a ship image, place 1). The
place agrees with y in 95% of training points and is independent of y in the validation and test splits,
as in Waterbirds; four groups."""
from __future__ import annotations

import numpy as np

from ... import rng
from .. import sources
from .base import CIFAR_CLASSES, Builder, _chw, _source_label, _split_off


def standin(spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
    cifar = sources.load_cifar10(srcs["cifar10"], data_dir).require(
        ["airplane", "bird", ("deer", "horse"), "ship"], "the Waterbirds stand-in")
    g = rng.numpy_rng(base_seed, spec["seed"], "data", "waterbirds_standin")
    fg_classes = (CIFAR_CLASSES.index("airplane"), CIFAR_CLASSES.index("bird"))
    bg_classes = ((CIFAR_CLASSES.index("deer"), CIFAR_CLASSES.index("horse")), (CIFAR_CLASSES.index("ship"),))
    lo, crop = 6, 20  # the central 20x20 of a 32x32 image

    def composite(split: str, foreground: np.ndarray, aligned: float | None):
        """Foreground images pasted on scenes whose place agrees with y with probability ``aligned``
        (None: place independent of y)."""
        x, labels = cifar[f"x_{split}"], cifar[f"y_{split}"]
        y = (labels[foreground] == fg_classes[1]).astype(np.int64)
        place = g.integers(0, 2, len(y)) if aligned is None else np.where(g.random(len(y)) < aligned, y, 1 - y)
        scenes = [np.flatnonzero(np.isin(labels, cls)) for cls in bg_classes]
        scene = np.where(place == 0, g.choice(scenes[0], size=len(y)), g.choice(scenes[1], size=len(y)))
        images = x[scene].copy()
        images[:, lo:lo + crop, lo:lo + crop] = x[foreground][:, lo:lo + crop, lo:lo + crop]
        return _chw(images), y, 2 * y + place

    foreground = np.flatnonzero(np.isin(cifar["y_train"], fg_classes))
    train, val = _split_off(len(foreground), int(spec["n_val"]), g)
    out = {}
    for split, src, idx, aligned in (("train", "train", foreground[train], 0.95),
                                     ("val", "train", foreground[val], None),
                                     ("test", "test", np.flatnonzero(np.isin(cifar["y_test"], fg_classes)), None)):
        out[f"{split}/x"], out[f"{split}/y"], out[f"{split}/group"] = composite(src, idx, aligned)
    meta = {"class_names": ["airplane", "bird"], "groups": ["airplane/land", "airplane/water",
            "bird/land", "bird/water"], "standin": True,
            "source_label": "Waterbirds STAND-IN (CIFAR-10 airplanes/birds on land/water scenes, 95% aligned; "
                            f"not Waterbirds) from {_source_label('CIFAR-10', srcs['cifar10'])}"}
    return out, meta


class Waterbirds(Builder):
    name = "waterbirds"
    sources = ["waterbirds"]
    extra_sources = {"waterbirds": {"standin": ["cifar10"]}}
    n_classes = 2  # landbird (0), waterbird (1)
    required = ["n_val", "image_size"]
    description = "Waterbirds, or its stand-in when sources.waterbirds.kind is 'standin'."
    parameters = {
        "image_size": {"type": "integer", "minimum": 8,
                       "description": "Images are centre-cropped and resized to this square size."},
    }

    @classmethod
    def build(cls, spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
        source = srcs["waterbirds"]
        if source["kind"] == "standin":
            return standin(spec, srcs, data_dir, base_seed)
        folder, checksum = sources.waterbirds_folder(source, data_dir)
        raw = sources.load_waterbirds(folder, int(spec["image_size"]))
        out = {}
        for code, split in ((0, "train"), (1, "val"), (2, "test")):
            sel = raw["split"] == code
            out.update({f"{split}/x": _chw(raw["x"][sel]), f"{split}/y": raw["y"][sel],
                        f"{split}/group": 2 * raw["y"][sel] + raw["place"][sel]})
        meta = {"class_names": ["landbird", "waterbird"], "groups": ["landbird/land", "landbird/water",
                "waterbird/land", "waterbird/water"], "source_label": _source_label("Waterbirds", source),
                "archive_sha256": checksum, "standin": False}
        return out, meta
