"""Acquisition of the image datasets, from the network or from staged copies.

Every source ends as numpy arrays in memory (uint8 images in NHWC, integer labels);
``images.py`` turns them into the pipeline's h5 files. Source kinds (config
``sources.<name>``):

- ``torchvision``: ``torchvision.datasets`` downloads into ``<data_dir>/<name>``
  and checks the archive's md5; the downloaded files are then read by the same
  readers as a staged archive.
- ``archive``: a local copy in the original format, for clusters whose compute
  nodes have no internet: ``cifar-10-python.tar.gz``, a directory with MNIST's four
  ``*-idx?-ubyte.gz`` files, or ``waterbird_complete95_forest2water2.tar.gz``.
  Checked against the official checksums.
- ``npz``: arrays ``x_train, y_train, x_test, y_test`` (uint8 images, HWC),
  optionally checked against an ``md5`` given in config.
- ``directory`` (Waterbirds): an extracted Waterbirds folder with
  ``metadata.csv`` (columns ``img_filename, y, split, place``), in the original or
  the WILDS (``waterbirds_v1.0``) layout.
- ``download`` (Waterbirds): the official archive from its URL.
- ``standin`` (Waterbirds): see ``images.waterbirds_standin``.

A missing or corrupt source is one :class:`SourceError` that says what is
missing, where to put it and which checksum it must have; nothing is written.
"""
from __future__ import annotations

import gzip
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..store import md5_file, sha256_file


class SourceError(RuntimeError):
    """A dataset source is missing, unreachable or fails its checksum."""


CIFAR10 = {
    "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "archive": "cifar-10-python.tar.gz",
    "md5": "c58f30108f718f92721af3b95e74349a",
    "folder": "cifar-10-batches-py",
    "train": ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"],
    "test": ["test_batch"],
}
MNIST = {
    "url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "files": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
}
WATERBIRDS = {
    "url": "https://nlp.stanford.edu/data/dro/waterbird_complete95_forest2water2.tar.gz",
    "archive": "waterbird_complete95_forest2water2.tar.gz",
    "folder": "waterbird_complete95_forest2water2",
    # the publishers give no checksum: the structure is checked instead (11,788 images,
    # 4,795 / 1,199 / 5,794 in train / val / test) and the archive's sha256 is recorded
    "n_images": 11788,
}


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


# ----------------------------------------------------------------------------- readers of the original formats
def read_cifar_batches(folder: Path, names) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR 'python version' batches (pickled dicts of b'data' [N, 3072] and b'labels') -> NHWC uint8, labels."""
    xs, ys = [], []
    for name in names:
        path = _require(Path(folder) / name, "CIFAR-10 batch", "Extract cifar-10-python.tar.gz completely.")
        with open(path, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def read_idx(path: Path) -> np.ndarray:
    """An MNIST idx file (gzipped or not): magic, dims, then big-endian uint8 data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SourceError(f"MNIST: {path} is not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise SourceError(f"MNIST: {path} is truncated ({data.size} of {int(np.prod(dims))} values)")
    return data.reshape(dims)


def read_npz(path: Path, md5: str | None, name: str) -> dict[str, np.ndarray]:
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
    for split in ("train", "test"):
        if arrays[f"x_{split}"].dtype != np.uint8:
            raise SourceError(f"{name}: {path}: x_{split} must be uint8 images, got {arrays[f'x_{split}'].dtype}")
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise SourceError(f"{name}: {path}: x_{split} and y_{split} differ in length")
    return {k: (v.astype(np.int64) if k.startswith("y") else v) for k, v in arrays.items()}


# ----------------------------------------------------------------------------- CIFAR-10
def load_cifar10(source: Mapping[str, Any], data_dir: str) -> dict[str, np.ndarray]:
    kind = source["kind"]
    if kind == "npz":
        return read_npz(source["path"], source.get("md5"), "cifar10")
    root = Path(data_dir) / "cifar10"
    if kind == "torchvision":
        _torchvision_download("CIFAR10", root, f"put {CIFAR10['archive']} (md5 {CIFAR10['md5']}) into {root}/, "
                                                f"or point sources.cifar10 at a staged copy (kind archive or npz)")
        folder = root / CIFAR10["folder"]
    elif kind == "archive":
        archive = _require(Path(source["path"]), "CIFAR-10 archive",
                           f"Stage {CIFAR10['archive']} (md5 {CIFAR10['md5']}) there, or change sources.cifar10.")
        _check_md5(archive, source.get("md5", CIFAR10["md5"]), "CIFAR-10 archive")
        folder = _extract(archive, root) / CIFAR10["folder"]
    else:
        raise SourceError(f"sources.cifar10: unknown kind '{kind}' (torchvision, archive, npz)")
    x_train, y_train = read_cifar_batches(folder, CIFAR10["train"])
    x_test, y_test = read_cifar_batches(folder, CIFAR10["test"])
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


# ----------------------------------------------------------------------------- MNIST
def load_mnist(source: Mapping[str, Any], data_dir: str) -> dict[str, np.ndarray]:
    kind = source["kind"]
    if kind == "npz":
        return read_npz(source["path"], source.get("md5"), "mnist")
    if kind == "torchvision":
        root = Path(data_dir) / "mnist"
        files = ", ".join(f"{f} (md5 {m})" for f, m in MNIST["files"].items())
        _torchvision_download("MNIST", root, f"put {files} into {root}/MNIST/raw/, or point sources.mnist at a staged "
                                             f"copy (kind archive or npz)")
        folder = root / "MNIST" / "raw"
    elif kind == "archive":
        folder = _require(Path(source["path"]), "MNIST directory",
                          "Stage a directory with the four MNIST idx .gz files there, or change sources.mnist.")
    else:
        raise SourceError(f"sources.mnist: unknown kind '{kind}' (torchvision, archive, npz)")
    arrays = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        for part, suffix in (("x", "images-idx3-ubyte.gz"), ("y", "labels-idx1-ubyte.gz")):
            name = f"{prefix}-{suffix}"
            path = _require(folder / name, "MNIST file", f"Stage {name} (md5 {MNIST['files'][name]}) in {folder}.")
            _check_md5(path, MNIST["files"][name], "MNIST file")
            arrays[f"{part}_{split}"] = read_idx(path)
    return {k: (v.astype(np.int64) if k.startswith("y") else v) for k, v in arrays.items()}


# ----------------------------------------------------------------------------- Waterbirds
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
        folder = _extract(archive, root) / WATERBIRDS["folder"]
    else:
        raise SourceError(f"sources.waterbirds: unknown kind '{kind}' (download, archive, directory, standin)")
    if not (folder / "metadata.csv").exists():
        raise SourceError(f"Waterbirds: {folder}/metadata.csv not found (columns img_filename, y, split, place)")
    return folder, checksum


def load_waterbirds(folder: Path, image_size: int) -> dict[str, np.ndarray]:
    """Images resized to image_size x image_size (centre crop of the shorter side), labels, places, splits."""
    import pandas as pd
    from PIL import Image

    meta = pd.read_csv(folder / "metadata.csv")
    missing = {"img_filename", "y", "split", "place"} - set(meta.columns)
    if missing:
        raise SourceError(f"Waterbirds: {folder}/metadata.csv lacks columns {sorted(missing)}")
    images = np.empty((len(meta), image_size, image_size, 3), dtype=np.uint8)
    for i, name in enumerate(meta["img_filename"]):
        path = folder / name
        if not path.exists():
            raise SourceError(f"Waterbirds: image {path} listed in metadata.csv is missing")
        with Image.open(path) as img:
            img = img.convert("RGB")
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side)).resize((image_size, image_size), Image.BILINEAR)
            images[i] = np.asarray(img)
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
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SourceError(f"could not download {url} ({type(exc).__name__}: {exc}). {hint}.") from exc


def _extract(archive: Path, root: Path) -> Path:
    """Extract a tar archive under root once (into a temporary folder, then renamed)."""
    marker = root / f".{archive.name}.extracted"
    if marker.exists():
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
        marker.write_text(md5_file(archive) + "\n")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(f"{archive}: not a readable tar archive ({exc}); replace it") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
