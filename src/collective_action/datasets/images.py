"""Image datasets: CIFAR-10, MNIST-CIFAR and Waterbirds (or its offline stand-in).

Each builder turns its sources (``sources.py``) into one h5 file with uint8
images in NCHW, labels, groups where they exist, the train/val/test splits, the
per-channel mean and std of the training images (for normalisation inside the
training step) and a human-readable ``source_label`` that tables and figures
carry, so a stand-in is always named as one.

- ``cifar10``: the training set minus ``n_val`` random images is the training
  split, those ``n_val`` the validation split; the test set is the test split.
- ``mnist_cifar`` (Shah et al. 2020; Fig 6): an MNIST 0 or 1, padded to 32x32 and
  repeated over 3 channels, on top of a CIFAR-10 automobile or truck (3x64x32).
  The CIFAR half sets the label (automobile 0, truck 1); with probability c the
  digit matches the label (0 with automobile), otherwise it is a random 0 or 1.
  A fixed pool of ``pool_size`` training automobiles and trucks is stored for the
  collective's signal.
- ``waterbirds`` (Sagawa et al. 2020): metadata splits, y, place, group = 2 y + place.
- Waterbirds stand-in (source kind ``standin``), for machines without Waterbirds:
  real CIFAR-10 images composited like Waterbirds composites birds onto places: the
  central 20x20 of an airplane (y = 0) or a bird (y = 1) pasted onto a land scene
  (a deer or horse image, place 0) or a water scene (a ship image, place 1). The
  place agrees with y in 95% of training points and is independent of y in the
  validation and test splits, as in Waterbirds; four groups.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import rng, store
from . import sources

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _chw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.uint8).transpose(0, 3, 1, 2))


def _source_label(name: str, source: Mapping[str, Any]) -> str:
    kind = source["kind"]
    return {"npz": f"{name} (staged .npz: {source.get('path')})", "torchvision": f"{name} (torchvision download)",
            "archive": f"{name} (staged archive)", "directory": f"{name} (local directory)",
            "download": f"{name} (official archive)"}.get(kind, f"{name} ({kind})")


def _split_off(n: int, n_val: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < n_val < n:
        raise ValueError(f"n_val={n_val} must lie in (0, {n})")
    perm = generator.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _cap(idx: np.ndarray, cap: int | None, generator: np.random.Generator) -> np.ndarray:
    return idx if cap is None or cap >= len(idx) else np.sort(generator.choice(idx, size=cap, replace=False))


def build_cifar10(spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
    raw = sources.load_cifar10(srcs["cifar10"], data_dir)
    g = rng.numpy_rng(base_seed, spec["seed"], "data", "cifar10")
    train, val = _split_off(len(raw["y_train"]), int(spec["n_val"]), g)
    train = _cap(train, spec.get("max_train"), g)
    test = _cap(np.arange(len(raw["y_test"])), spec.get("max_test"), g)
    arrays = {"train/x": _chw(raw["x_train"][train]), "train/y": raw["y_train"][train],
              "val/x": _chw(raw["x_train"][val]), "val/y": raw["y_train"][val],
              "test/x": _chw(raw["x_test"][test]), "test/y": raw["y_test"][test]}
    meta = {"n_classes": 10, "class_names": list(CIFAR_CLASSES), "source_label": _source_label("CIFAR-10", srcs["cifar10"])}
    return arrays, meta


def _mnist_on_cifar(cifar: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """MNIST digits [N, 28, 28] padded to 32x32, 3 channels, on top of CIFAR images [N, 32, 32, 3] -> [N, 3, 64, 32]."""
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    top = np.repeat(padded[:, None], 3, axis=1)
    return np.ascontiguousarray(np.concatenate([top, _chw(cifar)], axis=2))


def build_mnist_cifar(spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
    cifar = sources.load_cifar10(srcs["cifar10"], data_dir)
    mnist = sources.load_mnist(srcs["mnist"], data_dir)
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
        parts[split] = (_mnist_on_cifar(cifar[f"x_{split}"][keep], mnist[f"x_{split}"][pick]), y, keep)
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
    meta = {"n_classes": 2, "class_names": ["automobile", "truck"], "c": c,
            "source_label": f"MNIST-CIFAR c={c:g} from {_source_label('CIFAR-10', srcs['cifar10'])} and "
                            f"{_source_label('MNIST', srcs['mnist'])}"}
    return out, meta


def build_waterbirds(spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
    source = srcs["waterbirds"]
    if source["kind"] == "standin":
        return waterbirds_standin(spec, srcs, data_dir, base_seed)
    folder, checksum = sources.waterbirds_folder(source, data_dir)
    raw = sources.load_waterbirds(folder, int(spec["image_size"]))
    out = {}
    for code, split in ((0, "train"), (1, "val"), (2, "test")):
        sel = raw["split"] == code
        out.update({f"{split}/x": _chw(raw["x"][sel]), f"{split}/y": raw["y"][sel],
                    f"{split}/group": 2 * raw["y"][sel] + raw["place"][sel]})
    meta = {"n_classes": 2, "class_names": ["landbird", "waterbird"], "groups": ["landbird/land", "landbird/water",
            "waterbird/land", "waterbird/water"], "source_label": _source_label("Waterbirds", source),
            "archive_sha256": checksum, "standin": False}
    return out, meta


def waterbirds_standin(spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
    cifar = sources.load_cifar10(srcs["cifar10"], data_dir)
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
    meta = {"n_classes": 2, "class_names": ["airplane", "bird"], "groups": ["airplane/land", "airplane/water",
            "bird/land", "bird/water"], "standin": True,
            "source_label": "Waterbirds STAND-IN (CIFAR-10 airplanes/birds on land/water scenes, 95% aligned; "
                            f"not Waterbirds) from {_source_label('CIFAR-10', srcs['cifar10'])}"}
    return out, meta


BUILDERS = {"cifar10": build_cifar10, "mnist_cifar": build_mnist_cifar, "waterbirds": build_waterbirds}
NEEDS = {"cifar10": ("cifar10",), "mnist_cifar": ("cifar10", "mnist"), "waterbirds": ("waterbirds",)}


def needed_sources(spec: Mapping[str, Any], all_sources: Mapping[str, Any]) -> dict[str, Any]:
    """The config of every source a dataset is built from (the stand-in also needs CIFAR-10)."""
    names = list(NEEDS[spec["builder"]])
    if spec["builder"] == "waterbirds" and all_sources["waterbirds"]["kind"] == "standin":
        names.append("cifar10")
    return {n: dict(all_sources[n]) for n in names}


def source_files(srcs: Mapping[str, Any]) -> dict[str, str]:
    """Staged source files, recorded with their sha256 as the dataset's inputs (a staged
    Waterbirds directory is represented by its metadata.csv)."""
    from pathlib import Path

    files = {}
    for name, source in srcs.items():
        if source["kind"] in ("npz", "archive") and Path(source["path"]).is_file():
            files[f"source_{name}"] = source["path"]
        elif source["kind"] == "directory":
            files[f"source_{name}"] = str(Path(source["path"]) / "metadata.csv")
    return files


def prepare(name: str, spec: Mapping[str, Any], srcs: Mapping[str, Any], data_dir: str, base_seed: int,
            output: str, record: Mapping[str, Any] | None = None) -> None:
    arrays, meta = BUILDERS[spec["builder"]](spec, srcs, data_dir, base_seed)
    train = arrays["train/x"].astype(np.float64)
    meta.update(name=name, kind="image", builder=spec["builder"], input_shape=list(arrays["train/x"].shape[1:]),
                mean=train.mean(axis=(0, 2, 3)).tolist(), std=train.std(axis=(0, 2, 3)).tolist())
    prov = store.provenance(step="prepare", config=dict(record or {"dataset": name, "spec": dict(spec),
                                                                    "sources": dict(srcs), "data_dir": data_dir,
                                                                    "base_seed": base_seed}),
                            seeds=spec["seed"], inputs=source_files(srcs))
    store.write_h5(output, arrays, prov, attrs={"meta": meta})
