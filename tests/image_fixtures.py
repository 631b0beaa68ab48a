"""Tiny image datasets written in the original on-disk formats, for the loaders' tests."""
from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np


def cifar_arrays(n_per_batch: int = 40, seed: int = 0):
    r = np.random.default_rng(seed)
    batches = {}
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        labels = np.arange(n_per_batch) % 10  # every class in every batch
        images = r.integers(0, 256, size=(n_per_batch, 3, 32, 32), dtype=np.uint8)
        batches[name] = (images, labels)
    return batches


def write_cifar_batches(folder: Path, batches) -> Path:
    """The 'python version' of CIFAR-10: pickled dicts with b'data' [N, 3072] (channel-major) and b'labels'."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (images, labels) in batches.items():
        with open(folder / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"data": images.reshape(len(images), -1),
                         b"labels": labels.tolist()}, fh)
    return folder


def write_cifar_archive(path: Path, batches) -> Path:
    staging = path.parent / "staging"
    write_cifar_batches(staging / "cifar-10-batches-py", batches)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return path


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist_idx(folder: Path, n_train: int = 60, n_test: int = 30, seed: int = 0, gz: bool = True,
                    size: int = 28) -> dict:
    """The four idx files of MNIST (or Fashion-MNIST: the same format), gzipped or not; every class in each."""
    r = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, prefix, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        x = r.integers(0, 256, size=(n, size, size), dtype=np.uint8)
        y = (np.arange(n) % 10).astype(np.uint8)
        for suffix, arr in (("images-idx3-ubyte", x), ("labels-idx1-ubyte", y)):
            if gz:
                with gzip.open(folder / f"{prefix}-{suffix}.gz", "wb") as fh:
                    fh.write(_idx(arr))
            else:
                (folder / f"{prefix}-{suffix}").write_bytes(_idx(arr))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y.astype(np.int64)
    return arrays


def idx_md5(folder: Path) -> str:
    """What a config's ``md5`` for an idx directory is: the md5 of the four uncompressed files, concatenated."""
    digest = hashlib.md5()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        path = folder / f"{name}.gz"
        digest.update(gzip.decompress(path.read_bytes()) if path.exists() else (folder / name).read_bytes())
    return digest.hexdigest()


def write_npz(path: Path, batches) -> Path:
    x_train = np.concatenate([b[0] for n, b in batches.items() if n != "test_batch"]).transpose(0, 2, 3, 1)
    y_train = np.concatenate([b[1] for n, b in batches.items() if n != "test_batch"])
    x_test, y_test = batches["test_batch"][0].transpose(0, 2, 3, 1), batches["test_batch"][1]
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def write_waterbirds_folder(root: Path, n: int = 24, wilds: bool = False, seed: int = 0) -> Path:
    """A Waterbirds folder: species subfolders of JPEGs and metadata.csv (img_filename, y, split, place)."""
    from PIL import Image

    r = np.random.default_rng(seed)
    folder = root / ("waterbirds_v1.0" if wilds else "waterbird_complete95_forest2water2")
    rows = []
    for i in range(n):
        species = f"{i % 3:03d}.Species_{i % 3}"
        (folder / species).mkdir(parents=True, exist_ok=True)
        name = f"{species}/bird_{i}.jpg"
        size = (40 + i % 5, 30 + i % 7)  # not square, as the real images are not
        Image.fromarray(r.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)).save(folder / name)
        y, place, split = i % 2, (i // 2) % 2, i % 3
        rows.append((i + 1, name, y, split, place))
    header = "img_id,img_filename,y,split,place" + (",place_filename" if wilds else "")
    lines = [header] + [",".join(map(str, row)) + (",/b/beach/0.jpg" if wilds else "") for row in rows]
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
    return folder


def write_original_formats(root: Path) -> dict:
    """Small CIFAR-10 (the python tarball: 20 images per batch, every class twice), MNIST (the four idx
    .gz files) and Waterbirds (a folder with metadata.csv and 24 JPEGs, every group in every split) under
    root; returns the config's ``sources`` for them, with the md5s that stand in for the official ones."""
    archive = write_cifar_archive(root / "cifar-10-python.tar.gz", cifar_arrays(n_per_batch=20))
    write_mnist_idx(root / "mnist")
    waterbirds = write_waterbirds_folder(root / "waterbirds", n=24)
    return {"cifar10": {"kind": "archive", "path": str(archive), "md5": hashlib.md5(archive.read_bytes()).hexdigest()},
            "mnist": {"kind": "archive", "path": str(root / "mnist"), "md5": idx_md5(root / "mnist")},
            "waterbirds": {"kind": "directory", "path": str(waterbirds)}}
