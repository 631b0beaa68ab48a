"""Acquisition of the image datasets, from the network or from staged copies.

Every source ends as validated numpy arrays in memory (:class:`Images`: uint8 images in
NHWC, int64 labels); the builders turn them into the pipeline's h5 files. Source kinds
(config ``sources.<name>``):

- ``torchvision`` (CIFAR-10, MNIST, Fashion-MNIST): ``torchvision.datasets`` downloads
  into ``<data_dir>/<name>`` and checks the files' md5; the downloaded files are then
  read by the same readers as a staged copy.
- ``archive``: a local copy in the original format, for clusters whose compute nodes
  have no internet: ``cifar-10-python.tar.gz`` (read in place, nothing is extracted), a
  directory with the four ``*-idx?-ubyte`` files of MNIST or Fashion-MNIST (gzipped or
  not; Debian's ``dataset-fashion-mnist`` puts them in ``/usr/share/datasets/fashion-mnist``),
  or ``waterbird_complete95_forest2water2.tar.gz``. Checked against the official
  checksums, or against an ``md5`` given in config (for an idx directory: the md5 of the
  four uncompressed files concatenated in the order of :data:`IDX_FILES`).
- ``npz``: arrays ``x_train, y_train, x_test, y_test`` (uint8 images, HWC; grayscale may
  omit the channel axis), optionally checked against an ``md5`` given in config.
- ``directory`` (Waterbirds): an extracted Waterbirds folder with ``metadata.csv``
  (columns ``img_filename, y, split, place``), in the original or the WILDS
  (``waterbirds_v1.0``) layout.
- ``download`` (Waterbirds): the official archive from its URL.
- ``standin`` (Waterbirds): see ``builders/waterbirds.py``.

A missing, corrupt or malformed source is one :class:`SourceError` that names the file
(and the array) and says what was expected, raised while reading, before a dataset file
is written: images must have the dataset's height, width and channels and dtype uint8,
labels must lie in the dataset's class range, and a builder states the classes it needs
(:meth:`Images.require`); otherwise a wrong file fails deep inside numpy, or worse,
builds a dataset without a word.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..store import atomic_path, md5_file, sha256_file


class SourceError(RuntimeError):
    """A dataset source is missing, unreachable, fails its checksum or holds the wrong arrays."""


CIFAR10 = {
    "key": "cifar10", "title": "CIFAR-10", "shape": (32, 32, 3),
    "classes": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "archive": "cifar-10-python.tar.gz",
    "md5": "c58f30108f718f92721af3b95e74349a",
    "folder": "cifar-10-batches-py",
    "train": ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"],
    "test": ["test_batch"],
}
# idx datasets: per file the official md5 of the published .gz and of its uncompressed content (which also
# accepts uncompressed or recompressed copies, e.g. Debian's, whose .gz differ byte for byte)
MNIST = {
    "key": "mnist", "title": "MNIST", "torchvision": "MNIST", "shape": (28, 28, 1),
    "classes": [str(d) for d in range(10)],
    "files": {
        "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    },
}
FASHION_MNIST = {
    "key": "fashion_mnist", "title": "Fashion-MNIST", "torchvision": "FashionMNIST", "shape": (28, 28, 1),
    "classes": ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                "ankle boot"],
    "files": {
        "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    },
}
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
WATERBIRDS = {
    "url": "https://nlp.stanford.edu/data/dro/waterbird_complete95_forest2water2.tar.gz",
    "archive": "waterbird_complete95_forest2water2.tar.gz",
    "folder": "waterbird_complete95_forest2water2",
    # the publishers give no checksum: the structure is checked instead (11,788 images,
    # 4,795 / 1,199 / 5,794 in train / val / test) and the archive's sha256 is recorded
    "n_images": 11788,
}
DATASETS = {spec["key"]: spec for spec in (CIFAR10, MNIST, FASHION_MNIST)}


def _check_md5(path: Path, expected: str | None, what: str) -> None:
    if expected is None:
        return
    actual = md5_file(path)
    if actual != expected:
        raise SourceError(f"{what}: {path} has md5 {actual}, expected {expected}; the file is corrupt or not the "
                          f"official one: replace it")


def _require(path: Path, what: str, hint: str) -> Path:
    if not path.exists():
        raise SourceError(f"{what}: {path} does not exist. {hint}")
    return path


# ----------------------------------------------------------------------------- validation
def check_images(x, where: str, spec: Mapping[str, Any]) -> np.ndarray:
    """Images as uint8 [N, H, W, C] with the dataset's H, W, C (grayscale may come as [N, H, W])."""
    x = given = np.asarray(x)
    h, w, c = spec["shape"]
    if c == 1 and x.ndim == 3:  # MNIST's own format has no channel axis
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (h, w, c) or x.dtype != np.uint8 or not len(x):
        x = given
        shapes = f"(N, {h}, {w}, {c})" + (f" or (N, {h}, {w})" if c == 1 else "")
        hint = "; NCHW images must be transposed to NHWC" if x.ndim == 4 and x.shape[1] == c != x.shape[-1] else ""
        raise SourceError(f"{where} is a {x.dtype} array of shape {x.shape}; expected {spec['title']} images: uint8 "
                          f"of shape {shapes}, i.e. N >= 1 images of {h}x{w} pixels with {c} "
                          f"channel{'s' if c > 1 else ''}, channels last{hint}")
    return x


def check_labels(y, n: int, where: str, spec: Mapping[str, Any]) -> np.ndarray:
    """Labels as int64 [n] in 0 .. (number of classes - 1)."""
    y = np.asarray(y)
    k = len(spec["classes"])
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise SourceError(f"{where} is a {y.dtype} array of shape {y.shape}; expected integer labels of shape ({n},), "
                          f"one per image")
    if len(y) and (y.min() < 0 or y.max() >= k):
        raise SourceError(f"{where} holds labels {y.min()} to {y.max()}; expected labels 0 to {k - 1} (the {k} "
                          f"classes of {spec['title']})")
    return y.astype(np.int64)


class Images(dict):
    """A source's x_train, y_train, x_test, y_test, validated (see :func:`images`), with the
    dataset's class names and, per array, where it was read (``origin``), so that a builder's
    complaint about the content names the file."""

    def __init__(self, arrays: Mapping[str, np.ndarray], origin: Mapping[str, str], classes: Sequence[str]):
        super().__init__(arrays)
        self.origin, self.classes = dict(origin), list(classes)

    def require(self, needed: Sequence[str | tuple[str, ...]], dataset: str) -> Images:
        """Fail unless the training and the test set each hold every needed class (a tuple:
        any one of its classes), before a builder draws from a class that is not there."""
        wanted = [(n,) if isinstance(n, str) else tuple(n) for n in needed]
        listing = ", ".join(" or ".join(options) for options in wanted)
        for split in ("train", "test"):
            present = {self.classes[i] for i in np.unique(self[f"y_{split}"])}
            for options in wanted:
                if not present & set(options):
                    names = " or ".join(f"{c} (label {self.classes.index(c)})" for c in options)
                    raise SourceError(f"{self.origin[f'y_{split}']} has no image of class {names}; {dataset} needs "
                                      f"the classes {listing} in both the training and the test set")
        return self


def images(arrays: Mapping[str, Any], origin: Mapping[str, str], spec: Mapping[str, Any]) -> Images:
    """The four arrays checked against the dataset's format (``spec``: CIFAR10, MNIST, FASHION_MNIST)."""
    out = {}
    for split in ("train", "test"):
        out[f"x_{split}"] = check_images(arrays[f"x_{split}"], origin[f"x_{split}"], spec)
        out[f"y_{split}"] = check_labels(arrays[f"y_{split}"], len(out[f"x_{split}"]), origin[f"y_{split}"], spec)
    return Images(out, origin, spec["classes"])


def load(name: str, source: Mapping[str, Any], data_dir: str) -> Images:
    """The train and test arrays of CIFAR-10, MNIST or Fashion-MNIST from any source kind."""
    return {"cifar10": load_cifar10, "mnist": load_mnist, "fashion_mnist": load_fashion_mnist}[name](source, data_dir)


# ----------------------------------------------------------------------------- readers of the original formats
def _cifar_batch(fh, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch (a dict of b'data' [N, 3072], channel-major 3x32x32, and b'labels') -> NHWC uint8, labels."""
    raw = fh.read()  # a truncated file fails here, as a read error, not as a bad pickle
    try:
        batch = pickle.loads(raw, encoding="bytes")
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    except Exception as exc:  # unpickling fails in many ways
        raise SourceError(f"{where} is not a CIFAR-10 python batch (a pickled dict with b'data' and b'labels'): "
                          f"{type(exc).__name__}: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.dtype != np.uint8:
        raise SourceError(f"{where}: b'data' is a {data.dtype} array of shape {data.shape}; expected uint8 of shape "
                          f"(N, 3072): N images of 3 channels x 32 x 32, channel-major")
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, check_labels(labels, len(x), f"{where}: b'labels'", CIFAR10)


def _cifar_images(batches: Mapping[str, tuple[np.ndarray, np.ndarray]], where: str) -> Images:
    arrays, origin = {}, {}
    for split in ("train", "test"):
        names = CIFAR10[split]
        arrays[f"x_{split}"] = np.concatenate([batches[n][0] for n in names])
        arrays[f"y_{split}"] = np.concatenate([batches[n][1] for n in names])
        files = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        origin[f"x_{split}"], origin[f"y_{split}"] = f"{where} {files}: b'data'", f"{where} {files}: b'labels'"
    return images(arrays, origin, CIFAR10)


def read_cifar_batches(folder: Path, names) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR 'python version' batches in a folder -> NHWC uint8 images, labels."""
    xs, ys = [], []
    for name in names:
        path = _require(Path(folder) / name, "CIFAR-10 batch", "Extract cifar-10-python.tar.gz completely.")
        with open(path, "rb") as fh:
            x, y = _cifar_batch(fh, f"CIFAR-10: {path}")
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def read_cifar_archive(archive: Path) -> Images:
    """The batches read straight from cifar-10-python.tar.gz: nothing is extracted, so a bad archive leaves
    nothing behind."""
    wanted = {f"{CIFAR10['folder']}/{n}": n for n in CIFAR10["train"] + CIFAR10["test"]}
    found = {}
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                name = os.path.normpath(member.name)
                if name in wanted and member.isfile():
                    found[wanted[name]] = _cifar_batch(tar.extractfile(member), f"CIFAR-10: {archive}: {name}")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{archive}: not a readable tar archive ({exc}); replace it") from exc
    missing = [f for f, n in wanted.items() if n not in found]
    if missing:
        raise SourceError(f"CIFAR-10: {archive} lacks {', '.join(missing)}; expected the official "
                          f"{CIFAR10['archive']} (md5 {CIFAR10['md5']})")
    return _cifar_images(found, f"CIFAR-10: {archive}:")


def _read_maybe_gzipped(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(f"{path}: not readable ({type(exc).__name__}: {exc}); replace it") from exc


def parse_idx(raw: bytes, where: str) -> np.ndarray:
    """An idx file's content: zero bytes, the type code 0x08 (unsigned bytes), the number of dimensions, each
    dimension as a big-endian int32, then the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SourceError(f"{where} is not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=min(4 + 4 * ndim, len(raw)))
    if data.size != int(np.prod(dims)):
        raise SourceError(f"{where} is truncated ({data.size} of {int(np.prod(dims))} values)")
    return data.reshape(dims)


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped or not)."""
    return parse_idx(_read_maybe_gzipped(Path(path)), str(path))


def read_idx_folder(folder: Path, spec: Mapping[str, Any], md5: str | None = None) -> Images:
    """The four idx files of MNIST or Fashion-MNIST (each ``name.gz`` or ``name``). Each must match its
    official md5 (of the .gz as published, or of the uncompressed content); with ``md5`` (config) the four
    uncompressed contents, concatenated in the order of IDX_FILES, must match it instead."""
    title, files = spec["title"], spec["files"]
    contents, origin = {}, {}
    for key, name in IDX_FILES.items():
        path = next((p for p in (folder / f"{name}.gz", folder / name) if p.exists()), None)
        if path is None:
            raise SourceError(f"{title}: {folder} holds neither {name}.gz nor {name}. Stage the official files "
                              f"there ({', '.join(f'{n}.gz md5 {m[0]}' for n, m in files.items())}), or point "
                              f"sources.{spec['key']} at another copy (kind archive or npz).")
        raw = _read_maybe_gzipped(path)
        if md5 is None and not (path.suffix == ".gz" and md5_file(path) == files[name][0]):
            actual = hashlib.md5(raw).hexdigest()
            if actual != files[name][1]:
                raise SourceError(f"{title}: {path} has md5 {md5_file(path)} (uncompressed {actual}), expected "
                                  f"{files[name][0]} (uncompressed {files[name][1]}); the file is corrupt or not the "
                                  f"official one: replace it, or give sources.{spec['key']}.md5 for a copy of your "
                                  f"own")
        contents[key], origin[key] = raw, f"{title}: {path}"
    if md5 is not None:
        digest = hashlib.md5()
        for key in IDX_FILES:
            digest.update(contents[key])
        if (actual := digest.hexdigest()) != md5:
            raise SourceError(f"{title}: the idx files in {folder}, uncompressed and concatenated in the order "
                              f"{', '.join(IDX_FILES.values())}, have md5 {actual}, expected {md5} "
                              f"(sources.{spec['key']}.md5)")
    return images({k: parse_idx(v, origin[k]) for k, v in contents.items()}, origin, spec)


def read_npz(path: Path, md5: str | None, name: str) -> Images:
    spec = DATASETS[name]
    path = _require(Path(path), f"{name} (.npz source)",
                    f"Stage an .npz with x_train, y_train, x_test, y_test (uint8 images, HWC) there, "
                    f"or change sources.{name}.")
    _check_md5(path, md5, f"{name} (.npz source)")
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except KeyError as exc:
        raise SourceError(f"{name}: {path} lacks the array {exc} (needs x_train, y_train, x_test, y_test)") from None
    except Exception as exc:
        raise SourceError(f"{name}: {path} is not a readable .npz file ({exc})") from exc
    return images(arrays, {k: f"{spec['title']}: {path}: array {k}" for k in arrays}, spec)


# ----------------------------------------------------------------------------- CIFAR-10
def load_cifar10(source: Mapping[str, Any], data_dir: str) -> Images:
    kind = source["kind"]
    if kind == "npz":
        return read_npz(source["path"], source.get("md5"), "cifar10")
    if kind == "torchvision":
        root = Path(data_dir) / "cifar10"
        _torchvision_download("CIFAR10", root, f"put {CIFAR10['archive']} (md5 {CIFAR10['md5']}) into {root}/, "
                                                f"or point sources.cifar10 at a staged copy (kind archive or npz)")
        folder = root / CIFAR10["folder"]
        batches = {n: read_cifar_batches(folder, [n]) for n in CIFAR10["train"] + CIFAR10["test"]}
        return _cifar_images(batches, f"CIFAR-10: {folder}/")
    if kind == "archive":
        archive = _require(Path(source["path"]), "CIFAR-10 archive",
                           f"Stage {CIFAR10['archive']} (md5 {CIFAR10['md5']}) there, or change sources.cifar10.")
        _check_md5(archive, source.get("md5", CIFAR10["md5"]), "CIFAR-10 archive")
        return read_cifar_archive(archive)
    raise SourceError(f"sources.cifar10: unknown kind '{kind}' (torchvision, archive, npz)")


# ----------------------------------------------------------------------------- MNIST and Fashion-MNIST
def load_idx_dataset(spec: Mapping[str, Any], source: Mapping[str, Any], data_dir: str) -> Images:
    key, kind = spec["key"], source["kind"]
    if kind == "npz":
        return read_npz(source["path"], source.get("md5"), key)
    if kind == "torchvision":
        root = Path(data_dir) / key
        raw = root / spec["torchvision"] / "raw"
        files = ", ".join(f"{f}.gz (md5 {m[0]})" for f, m in spec["files"].items())
        _torchvision_download(spec["torchvision"], root, f"put {files} into {raw}/, or point sources.{key} at a "
                                                         f"staged copy (kind archive or npz)")
        return read_idx_folder(raw, spec)
    if kind == "archive":
        folder = _require(Path(source["path"]), f"{spec['title']} directory",
                          f"Stage a directory with the four {spec['title']} idx files (gzipped or not) there, or "
                          f"change sources.{key}.")
        return read_idx_folder(folder, spec, source.get("md5"))
    raise SourceError(f"sources.{key}: unknown kind '{kind}' (torchvision, archive, npz)")


def load_mnist(source: Mapping[str, Any], data_dir: str) -> Images:
    return load_idx_dataset(MNIST, source, data_dir)


def load_fashion_mnist(source: Mapping[str, Any], data_dir: str) -> Images:
    return load_idx_dataset(FASHION_MNIST, source, data_dir)


# ----------------------------------------------------------------------------- Waterbirds
WATERBIRDS_GROUPS = {(0, 0): "landbird/land", (0, 1): "landbird/water", (1, 0): "waterbird/land",
                     (1, 1): "waterbird/water"}


def waterbirds_folder(source: Mapping[str, Any], data_dir: str) -> tuple[Path, str]:
    """The folder holding metadata.csv and the images, and the archive's sha256 where one was read."""
    kind = source["kind"]
    root = Path(data_dir) / "waterbirds"
    checksum = ""
    if kind == "directory":
        folder = _require(Path(source["path"]), "Waterbirds directory",
                          "Point sources.waterbirds.path at the extracted waterbird_complete95_forest2water2 "
                          "(or WILDS waterbirds_v1.0) folder with metadata.csv.")
    elif kind in ("archive", "download"):
        if kind == "download":
            archive = root / WATERBIRDS["archive"]
            if not archive.exists():
                _download(source.get("url", WATERBIRDS["url"]), archive,
                          f"Download {WATERBIRDS['url']} elsewhere and set sources.waterbirds to "
                          f"{{kind: archive, path: ...}} or {{kind: directory, path: ...}}")
        else:
            archive = _require(Path(source["path"]), "Waterbirds archive",
                               f"Stage {WATERBIRDS['archive']} there, or change sources.waterbirds.")
        checksum = sha256_file(archive)
        if source.get("sha256") and source["sha256"] != checksum:
            raise SourceError(f"Waterbirds archive: {archive} has sha256 {checksum}, expected {source['sha256']} "
                              f"(sources.waterbirds.sha256); replace it")
        folder = _extract(archive, root, checksum) / WATERBIRDS["folder"]
    else:
        raise SourceError(f"sources.waterbirds: unknown kind '{kind}' (download, archive, directory, standin)")
    if not (folder / "metadata.csv").exists():
        raise SourceError(f"Waterbirds: {folder}/metadata.csv not found (columns img_filename, y, split, place)")
    return folder, checksum


def _check_waterbirds_metadata(meta, where: str) -> None:
    """y and place in {0, 1}, split in {0, 1, 2}, and all four groups (y, place) in every split, as in Waterbirds."""
    missing = {"img_filename", "y", "split", "place"} - set(meta.columns)
    if missing:
        raise SourceError(f"{where} lacks columns {sorted(missing)} (needs img_filename, y, split, place)")
    for column, allowed in (("y", {0, 1}), ("place", {0, 1}), ("split", {0, 1, 2})):
        values = set(meta[column].tolist())
        if not values <= allowed:
            raise SourceError(f"{where}: column {column} holds {sorted(map(str, values - allowed))}; expected only "
                              f"{sorted(allowed)}")
    for code, split in enumerate(("train", "val", "test")):
        rows = meta[meta["split"] == code]
        absent = [name for group, name in WATERBIRDS_GROUPS.items()
                  if group not in set(zip(rows["y"].tolist(), rows["place"].tolist()))]
        if absent:
            raise SourceError(f"{where}: the {split} split (split = {code}) has no image of group "
                              f"{', '.join(absent)}; Waterbirds has all four groups (y, place) in every split")


def load_waterbirds(folder: Path, image_size: int) -> dict[str, np.ndarray]:
    """Images resized to image_size x image_size (centre crop of the shorter side), labels, places, splits."""
    import pandas as pd
    from PIL import Image

    meta = pd.read_csv(folder / "metadata.csv")
    _check_waterbirds_metadata(meta, f"Waterbirds: {folder}/metadata.csv")
    images = np.empty((len(meta), image_size, image_size, 3), dtype=np.uint8)
    for i, name in enumerate(meta["img_filename"]):
        path = folder / name
        if not path.exists():
            raise SourceError(f"Waterbirds: image {path} listed in metadata.csv is missing")
        try:
            with Image.open(path) as img:
                img = img.convert("RGB")
                side = min(img.size)
                left, top = (img.width - side) // 2, (img.height - side) // 2
                img = img.crop((left, top, left + side, top + side)).resize((image_size, image_size), Image.BILINEAR)
                images[i] = np.asarray(img)
        except OSError as exc:
            raise SourceError(f"Waterbirds: image {path} listed in metadata.csv is not readable ({exc})") from exc
    return {"x": images, "y": meta["y"].to_numpy(np.int64), "place": meta["place"].to_numpy(np.int64),
            "split": meta["split"].to_numpy(np.int64)}


# ----------------------------------------------------------------------------- helpers
def _torchvision_download(cls_name: str, root: Path, hint: str) -> None:
    """Let torchvision fetch (or find and verify) the dataset under root; no network -> SourceError."""
    import torchvision

    cls = getattr(torchvision.datasets, cls_name)
    root.mkdir(parents=True, exist_ok=True)
    try:
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise SourceError(f"{cls_name}: could not download into {root} ({type(exc).__name__}: {exc}). "
                          f"Without internet, {hint}.") from exc


def _download(url: str, target: Path, hint: str) -> None:
    """Fetch url into target atomically, with the permissions of any file the user writes (a shared cache)."""
    try:
        with atomic_path(target) as tmp, urllib.request.urlopen(url, timeout=30) as response, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as exc:
        raise SourceError(f"could not download {url} ({type(exc).__name__}: {exc}). {hint}.") from exc


def _extract(archive: Path, root: Path, checksum: str) -> Path:
    """Extract a tar archive under root once per archive content (``checksum``, its sha256), into a
    temporary folder, then renamed: a replaced archive is extracted again."""
    marker = root / f".{archive.name}.extracted"
    if marker.exists() and marker.read_text().strip() == checksum:
        return root
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".extract."))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        for entry in tmp.iterdir():
            dest = root / entry.name
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            os.replace(entry, dest)
        marker.write_text(checksum + "\n")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(f"{archive}: not a readable tar archive ({exc}); replace it") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
