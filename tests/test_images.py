"""Image sources and datasets, loaded from fixtures in the original on-disk formats."""
import copy
import gzip
import hashlib
import pickle
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import image_fixtures as fx
from collective_action import datasets, store
from collective_action.datasets import check_staged, sources
from collective_action.signals import make_signal
from collective_action.training.augment import random_crop_flip


@pytest.fixture
def cifar_batches():
    return fx.cifar_arrays()


def _hwc(images_chw):
    return images_chw.transpose(0, 2, 3, 1)


def test_cifar_python_batches_are_read_in_hwc(tmp_path, cifar_batches):
    folder = fx.write_cifar_batches(tmp_path / "cifar-10-batches-py", cifar_batches)
    x, y = sources.read_cifar_batches(folder, ["data_batch_1", "data_batch_2"])
    assert x.shape == (80, 32, 32, 3) and x.dtype == np.uint8
    assert np.array_equal(x[:40], _hwc(cifar_batches["data_batch_1"][0]))
    assert np.array_equal(y[40:], cifar_batches["data_batch_2"][1])


def test_cifar_archive_source_checks_md5_and_reads_in_place(tmp_path, cifar_batches):
    archive = fx.write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", cifar_batches)
    source = {"kind": "archive", "path": str(archive), "md5": store.md5_file(archive)}
    arrays = sources.load_cifar10(source, str(tmp_path / "data"))
    assert arrays["x_train"].shape == (200, 32, 32, 3) and arrays["x_test"].shape == (40, 32, 32, 3)
    assert np.array_equal(arrays["x_test"], _hwc(cifar_batches["test_batch"][0]))
    assert not (tmp_path / "data").exists()  # read from the archive, nothing extracted
    # without an md5 in config the official one is expected: the fixture is rejected by name and checksum
    with pytest.raises(sources.SourceError,
                       match=r"cifar-10-python.tar.gz has md5 .* expected c58f30108f718f92721af3b95e74349a"):
        sources.load_cifar10({"kind": "archive", "path": str(archive)}, str(tmp_path / "data2"))


def test_truncated_archive_is_an_error(tmp_path, cifar_batches):
    archive = fx.write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", cifar_batches)
    archive.write_bytes(archive.read_bytes()[:500])
    with pytest.raises(sources.SourceError, match="not a readable tar archive"):
        sources.load_cifar10({"kind": "archive", "path": str(archive), "md5": store.md5_file(archive)},
                             str(tmp_path / "data"))


def test_mnist_idx_files_with_the_md5_of_a_copy_of_ones_own(tmp_path):
    folder = tmp_path / "mnist"
    arrays = fx.write_mnist_idx(folder)
    loaded = sources.load_mnist({"kind": "archive", "path": str(folder), "md5": fx.idx_md5(folder)}, str(tmp_path))
    for key in arrays:
        assert np.array_equal(loaded[key][..., 0] if key.startswith("x") else loaded[key], arrays[key])
    assert loaded["x_train"].shape == (60, 28, 28, 1) and loaded["y_train"].dtype == np.int64
    with pytest.raises(sources.SourceError, match=r"concatenated .* md5 \w+, expected 0{32} \(sources.mnist.md5\)"):
        sources.load_mnist({"kind": "archive", "path": str(folder), "md5": "0" * 32}, str(tmp_path))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_pass_on_the_official_md5_of_their_content(tmp_path, monkeypatch, gz):
    """Uncompressed files, and recompressed ones (Debian's .gz differ byte for byte from the published ones),
    pass on the official md5 of their uncompressed content."""
    folder = tmp_path / "fashion"
    fx.write_mnist_idx(folder, gz=gz)
    content = {p.name.removesuffix(".gz"): hashlib.md5(gzip.decompress(p.read_bytes()) if gz else p.read_bytes())
               .hexdigest() for p in folder.iterdir()}
    monkeypatch.setitem(sources.FASHION_MNIST, "files", {n: ("0" * 32, m) for n, m in content.items()})
    loaded = sources.load_fashion_mnist({"kind": "archive", "path": str(folder)}, str(tmp_path))
    assert loaded["x_test"].shape == (30, 28, 28, 1)


def test_mnist_checksum_mismatch_names_the_file(tmp_path):
    folder = tmp_path / "mnist"
    fx.write_mnist_idx(folder)
    with pytest.raises(sources.SourceError,
                       match=r"train-images-idx3-ubyte.gz has md5 \w+ \(uncompressed \w+\), expected f68b3c2d.*"
                             r"\(uncompressed 6bbc9ace"):
        sources.load_mnist({"kind": "archive", "path": str(folder)}, str(tmp_path / "data"))


def test_truncated_idx_is_an_error(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(fx._idx(np.zeros((10, 28, 28), np.uint8))[:300])
    with pytest.raises(sources.SourceError, match="truncated"):
        sources.read_idx(path)


def test_npz_source(tmp_path, cifar_batches):
    path = fx.write_npz(tmp_path / "c.npz", cifar_batches)
    arrays = sources.read_npz(path, store.md5_file(path), "cifar10")
    assert arrays["x_train"].shape == (200, 32, 32, 3) and arrays["y_train"].dtype == np.int64
    with pytest.raises(sources.SourceError, match="c.npz has md5"):
        sources.read_npz(path, "0" * 32, "cifar10")
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(sources.SourceError, match="lacks the array"):
        sources.read_npz(tmp_path / "bad.npz", None, "cifar10")


def test_missing_staged_source_says_what_and_where(tmp_path):
    with pytest.raises(sources.SourceError,
                       match=r"sources.cifar10: .*nope.npz does not exist; stage an .npz with x_train"):
        check_staged("cifar10", {"kind": "npz", "path": str(tmp_path / "nope.npz")})


@pytest.mark.parametrize("cls, load, hint", [
    ("CIFAR10", sources.load_cifar10, r"put cifar-10-python.tar.gz \(md5 c58f3"),
    ("FashionMNIST", sources.load_fashion_mnist, r"put train-images-idx3-ubyte.gz \(md5 8d4fb7e6"),
])
def test_no_internet_gives_one_clear_error(tmp_path, monkeypatch, cls, load, hint):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, cls, offline)
    with pytest.raises(sources.SourceError, match=r"could not download .*" + hint):
        load({"kind": "torchvision"}, str(tmp_path / "data"))


@pytest.mark.parametrize("wilds", [False, True])
def test_waterbirds_directory(tmp_path, wilds):
    folder = fx.write_waterbirds_folder(tmp_path, wilds=wilds)
    found, checksum = sources.waterbirds_folder({"kind": "directory", "path": str(folder)}, str(tmp_path / "d"))
    raw = sources.load_waterbirds(found, image_size=16)
    assert raw["x"].shape == (24, 16, 16, 3) and set(raw["split"]) == {0, 1, 2} and checksum == ""


def test_waterbirds_archive_records_sha256(tmp_path):
    folder = fx.write_waterbirds_folder(tmp_path / "src")
    archive = tmp_path / "waterbird_complete95_forest2water2.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    found, checksum = sources.waterbirds_folder({"kind": "archive", "path": str(archive)}, str(tmp_path / "d"))
    assert checksum == store.sha256_file(archive) and (found / "metadata.csv").exists()
    with pytest.raises(sources.SourceError, match="expected " + "a" * 64):
        sources.waterbirds_folder({"kind": "archive", "path": str(archive), "sha256": "a" * 64}, str(tmp_path / "e"))


# ----------------------------------------------------------------------------- malformed sources
def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _cifar_npz(tmp_path, x=None, y=None, n=200, seed=0):
    r = np.random.default_rng(seed)
    x = r.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8) if x is None else x
    y = np.arange(len(x)) % 10 if y is None else y
    np.savez(tmp_path / "c.npz", x_train=x, y_train=y, x_test=x[:60], y_test=y[:60])
    return {"cifar10": {"kind": "npz", "path": str(tmp_path / "c.npz")}}


def _cifar_tarball(tmp_path, edit):
    batches = fx.cifar_arrays()
    edit(batches)
    archive = fx.write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", batches)
    return {"cifar10": {"kind": "archive", "path": str(archive), "md5": store.md5_file(archive)}}


def _grayscale_batch(tmp_path):
    """A pickled batch whose b'data' has one channel (N, 1024), written into a tarball by hand."""
    srcs = _cifar_tarball(tmp_path, lambda b: None)
    folder = tmp_path / "staging" / "cifar-10-batches-py"
    with open(folder / "data_batch_1", "wb") as fh:
        pickle.dump({b"data": np.zeros((40, 1024), np.uint8), b"labels": list(range(10)) * 4}, fh)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    srcs["cifar10"]["md5"] = store.md5_file(tmp_path / "cifar-10-python.tar.gz")
    return srcs


def _mnist_cifar(tmp_path, cifar_labels=None, mnist_test_labels=None):
    cifar = _cifar_npz(tmp_path, y=cifar_labels)
    r = np.random.default_rng(1)
    xm, ym = r.integers(0, 256, size=(100, 28, 28), dtype=np.uint8), np.arange(100) % 10
    np.savez(tmp_path / "m.npz", x_train=xm, y_train=ym, x_test=xm,
             y_test=ym if mnist_test_labels is None else mnist_test_labels)
    return {**cifar, "mnist": {"kind": "npz", "path": str(tmp_path / "m.npz")}}


def _waterbirds_without_a_group(tmp_path):
    folder = fx.write_waterbirds_folder(tmp_path)
    meta = pd.read_csv(folder / "metadata.csv")
    meta.loc[(meta.split == 1) & (meta.y == 1), "place"] = 0  # no waterbird on water in the validation split
    meta.to_csv(folder / "metadata.csv", index=False)
    return {"waterbirds": {"kind": "directory", "path": str(folder)}}


def _fashion_with_label_10(tmp_path):
    folder = tmp_path / "fashion"
    fx.write_mnist_idx(folder)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(fx._idx(np.full(30, 10, np.uint8)))
    return {"fashion_mnist": {"kind": "archive", "path": str(folder), "md5": fx.idx_md5(folder)}}


def _mnist_32x32(tmp_path):
    folder = tmp_path / "mnist"
    fx.write_mnist_idx(folder, size=32, gz=False)
    return {"mnist": {"kind": "archive", "path": str(folder), "md5": fx.idx_md5(folder)}}


CIFAR = {"builder": "cifar10", "n_val": 20}
MNIST_CIFAR = {"builder": "mnist_cifar", "c": 1.0, "pool_size": 5, "n_val": 10}
STANDIN = {"builder": "waterbirds", "image_size": 32, "n_val": 10}
MALFORMED = {
    "grayscale CIFAR-10 npz": (CIFAR, lambda t: _cifar_npz(t, x=np.zeros((200, 32, 32), np.uint8)),
                               r"c.npz: array x_train is a uint8 array of shape \(200, 32, 32\); expected CIFAR-10 "
                               r"images: uint8 of shape \(N, 32, 32, 3\)"),
    "CIFAR-10 npz with labels 20 to 29": (CIFAR, lambda t: _cifar_npz(t, y=20 + np.arange(200) % 10),
                                          r"c.npz: array y_train holds labels 20 to 29; expected labels 0 to 9"),
    "float CIFAR-10 npz": (CIFAR, lambda t: _cifar_npz(t, x=np.zeros((200, 32, 32, 3), np.float32)),
                           r"array x_train is a float32 array .* expected CIFAR-10 images: uint8"),
    "NCHW CIFAR-10 npz": (CIFAR, lambda t: _cifar_npz(t, x=np.zeros((200, 3, 32, 32), np.uint8)),
                          r"shape \(200, 3, 32, 32\).*NCHW images must be transposed to NHWC"),
    "grayscale CIFAR-10 python batch": (CIFAR, _grayscale_batch,
                                        r"cifar-10-batches-py/data_batch_1: b'data' is a uint8 array of shape "
                                        r"\(40, 1024\); expected uint8 of shape \(N, 3072\)"),
    "CIFAR-10 test batch with label 10": (CIFAR, lambda t: _cifar_tarball(
        t, lambda b: b.update(test_batch=(b["test_batch"][0], np.full(40, 10)))),
        r"cifar-10-batches-py/test_batch: b'labels' holds labels 10 to 10; expected labels 0 to 9"),
    "MNIST-CIFAR without trucks": (MNIST_CIFAR, lambda t: _mnist_cifar(t, cifar_labels=np.arange(200) % 9),
                                   r"c.npz: array y_train has no image of class truck \(label 9\); the mnist_cifar "
                                   r"builder needs the classes automobile, truck in both the training and the test "
                                   r"set"),
    "MNIST-CIFAR without test 1s": (MNIST_CIFAR, lambda t: _mnist_cifar(t, mnist_test_labels=np.zeros(100, int)),
                                    r"m.npz: array y_test has no image of class 1 \(label 1\)"),
    "stand-in without deer and horses": (STANDIN, lambda t: {
        **_cifar_npz(t, y=np.tile([0, 2, 8, 1], 50)), "waterbirds": {"kind": "standin"}},
        r"has no image of class deer \(label 4\) or horse \(label 7\); the Waterbirds stand-in needs the classes "
        r"airplane, bird, deer or horse, ship"),
    "Waterbirds without a group": (STANDIN, _waterbirds_without_a_group,
                                   r"metadata.csv: the val split \(split = 1\) has no image of group waterbird/water"),
    "Fashion-MNIST with label 10": ({"builder": "mnist10", "images": "fashion_mnist", "n_val": 10},
                                    _fashion_with_label_10,
                                    r"t10k-labels-idx1-ubyte.gz holds labels 10 to 10; expected labels 0 to 9 \(the "
                                    r"10 classes of Fashion-MNIST\)"),
    "MNIST of 32x32 images": ({"builder": "mnist10", "images": "mnist", "n_val": 10}, _mnist_32x32,
                              r"train-images-idx3-ubyte is a uint8 array of shape \(60, 32, 32\); expected MNIST "
                              r"images: uint8 of shape \(N, 28, 28, 1\) or \(N, 28, 28\)"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_source_is_one_error_naming_file_and_array_and_nothing_is_written(tmp_path, case):
    spec, make, message = MALFORMED[case]
    srcs = make(tmp_path)
    before = _files(tmp_path)
    out = tmp_path / "results" / "data.h5"
    with pytest.raises(sources.SourceError, match=message):
        datasets.prepare("d", {**SPEC, "signal": {"kind": "pixel_grid", "target_label": 1}, **spec}, 0, str(out),
                         sources=srcs, data_dir=str(tmp_path / "data"))
    assert _files(tmp_path) == before  # no output, no temporary file, nothing extracted


# ----------------------------------------------------------------------------- dataset builders
SPEC = {"seed": 0, "model": "cnn"}


def test_cifar10_dataset_h5(tmp_path, cifar_batches):
    npz = fx.write_npz(tmp_path / "c.npz", cifar_batches)
    out = tmp_path / "cifar.h5"
    datasets.prepare("cifar10", {**SPEC, "builder": "cifar10", "n_val": 20,
                                 "signal": {"kind": "pixel_grid", "target_label": 0}}, 0, str(out),
                     sources={"cifar10": {"kind": "npz", "path": str(npz)}}, data_dir=str(tmp_path))
    art = store.read_h5(out)
    assert art["train/x"].shape == (180, 3, 32, 32) and art["val/x"].shape == (20, 3, 32, 32)
    assert art["test/x"].shape == (40, 3, 32, 32) and art["train/x"].dtype == np.uint8
    assert art.attrs["meta"]["source_label"].startswith("CIFAR-10 (staged .npz")
    assert len(art.attrs["meta"]["mean"]) == 3
    assert art.provenance["config"]["sources"]["cifar10"]["path"] == str(npz)
    assert art.attrs["meta"]["n_classes"] == len(art.attrs["meta"]["class_names"]) == 10


def test_a_builder_that_makes_other_classes_than_its_class_declares_writes_nothing(tmp_path, cifar_batches,
                                                                                     monkeypatch):
    """The config checks (target labels) read a builder's declared n_classes before any job; the built
    dataset's class names must agree with it."""
    from collective_action.datasets.builders import BUILDERS

    monkeypatch.setitem(BUILDERS.entry("cifar10").meta, "n_classes", 9)  # as the registry reads the class
    npz = fx.write_npz(tmp_path / "c.npz", cifar_batches)
    out = tmp_path / "cifar.h5"
    with pytest.raises(ValueError, match="builder 'cifar10' made 10 classes; the config checks assumed 9"):
        datasets.prepare("cifar10", {**SPEC, "builder": "cifar10", "n_val": 20,
                                     "signal": {"kind": "pixel_grid", "target_label": 0}}, 0, str(out),
                         sources={"cifar10": {"kind": "npz", "path": str(npz)}}, data_dir=str(tmp_path))
    assert not out.exists()


def _cifar_cars_trucks(n=400, seed=1):
    r = np.random.default_rng(seed)
    x = r.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = np.array([1, 9, 2, 0, 8, 4, 7][i % 7] for i in range(n)) if False else np.tile([1, 9, 2, 0, 8, 4, 7], n)[:n]
    return x, y


def test_mnist_cifar_composition_and_correlation(tmp_path):
    xc, yc = _cifar_cars_trucks(700)
    np.savez(tmp_path / "c.npz", x_train=xc, y_train=yc, x_test=xc[:140], y_test=yc[:140])
    r = np.random.default_rng(2)
    xm = r.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    ym = np.arange(300) % 10
    np.savez(tmp_path / "m.npz", x_train=xm, y_train=ym, x_test=xm, y_test=ym)
    srcs = {"cifar10": {"kind": "npz", "path": str(tmp_path / "c.npz")},
            "mnist": {"kind": "npz", "path": str(tmp_path / "m.npz")}}
    for c in (0.0, 1.0):
        out = tmp_path / f"mc{c}.h5"
        datasets.prepare("mc", {**SPEC, "builder": "mnist_cifar", "c": c, "pool_size": 10, "n_val": 20,
                                "signal": {"kind": "cifar_half_pool", "pool": "automobile", "target_label": 1}},
                         0, str(out), sources=srcs, data_dir=str(tmp_path))
        art = store.read_h5(out)
        x, y = art["train/x"], art["train/y"]
        assert x.shape[1:] == (3, 64, 32) and set(y) == {0, 1}
        assert art["pool/automobile"].shape == (10, 3, 32, 32)
        # the top half is an MNIST digit: padded by 2, equal in all channels; identify the digit's source image
        top = x[:, 0, 2:30, 2:30]
        assert (x[:, 0, :32] == x[:, 1, :32]).all() and (x[:, :, :2] == 0).all()
        digit = np.array([ym[np.flatnonzero((xm == t).all(axis=(1, 2)))[0]] for t in top])
        assert set(digit) <= {0, 1}
        match = (digit == y).mean()
        assert match == 1.0 if c == 1.0 else 0.3 < match < 0.7
        # the bottom half is the CIFAR image, automobile for y = 0
        bottom = x[:, :, 32:].transpose(0, 2, 3, 1)
        src = np.array([yc[np.flatnonzero((xc == b).all(axis=(1, 2, 3)))[0]] for b in bottom])
        assert np.array_equal(src == 9, y == 1)
        # the signal plants a pool image in the CIFAR half and leaves the digit
        signal = make_signal({"kind": "cifar_half_pool", "pool": "automobile", "target_label": 1}, art)
        gx = signal.apply(x[:5], np.random.default_rng(0))
        assert np.array_equal(gx[:, :, :32], x[:5, :, :32])
        assert all((art["pool/automobile"] == g).all(axis=(1, 2, 3)).any() for g in gx[:, :, 32:])


def test_waterbirds_standin_structure(tmp_path):
    r = np.random.default_rng(3)
    y = np.tile(np.arange(10), 200)
    x = r.integers(0, 256, size=(len(y), 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "c.npz", x_train=x, y_train=y, x_test=x[:600], y_test=y[:600])
    out = tmp_path / "wb.h5"
    datasets.prepare("waterbirds", {**SPEC, "builder": "waterbirds", "image_size": 32, "n_val": 60,
                                    "signal": {"kind": "pixel_grid", "target_label": 1}}, 0, str(out),
                     sources={"waterbirds": {"kind": "standin"},
                              "cifar10": {"kind": "npz", "path": str(tmp_path / "c.npz")}}, data_dir=str(tmp_path))
    art = store.read_h5(out)
    meta = art.attrs["meta"]
    assert meta["standin"] and "STAND-IN" in meta["source_label"]
    for split in ("train", "val", "test"):
        groups, y_s = art[f"{split}/group"], art[f"{split}/y"]
        assert set(groups) == {0, 1, 2, 3} and np.array_equal(groups // 2, y_s)

    def aligned(split):
        return (art[f"{split}/group"] // 2 == art[f"{split}/group"] % 2).mean()

    assert 0.92 < aligned("train") < 0.98  # the place agrees with the label in 95% of training points
    assert 0.35 < aligned("test") < 0.65 and 0.3 < aligned("val") < 0.7  # independent elsewhere


def test_mnist10_on_fashion_mnist_reads_only_its_own_source(tmp_path):
    folder = tmp_path / "fashion"
    arrays = fx.write_mnist_idx(folder, n_train=60, n_test=30)
    out = tmp_path / "fashion10.h5"
    # no 'mnist' source is configured: a Fashion-MNIST dataset does not need one
    datasets.prepare("fashion10", {**SPEC, "builder": "mnist10", "images": "fashion_mnist", "n_val": 10,
                                   "max_train": 40, "max_test": 20,
                                   "signal": {"kind": "pixel_grid", "target_label": 0}}, 0, str(out),
                     sources={"fashion_mnist": {"kind": "archive", "path": str(folder), "md5": fx.idx_md5(folder)}},
                     data_dir=str(tmp_path / "data"))
    art = store.read_h5(out)
    assert art["train/x"].shape == (40, 1, 28, 28) and art["val/x"].shape == (10, 1, 28, 28)
    assert art["test/x"].shape == (20, 1, 28, 28) and art["train/x"].dtype == np.uint8
    meta = art.attrs["meta"]
    assert meta["n_classes"] == 10 and meta["class_names"][9] == "ankle boot" and len(meta["mean"]) == 1
    assert meta["source_label"].startswith("Fashion-MNIST (staged archive)")
    assert "not a dataset of the paper" in meta["source_label"]
    assert set(art.provenance["config"]["sources"]) == {"fashion_mnist"}
    # the images are the source's, validation images come from the training set
    source = {img.tobytes() for img in arrays["x_train"]}
    assert all(img[0].tobytes() in source for img in art["val/x"])


def test_mnist10_on_mnist_from_an_npz_without_channel_axis(tmp_path):
    r = np.random.default_rng(0)
    x, y = r.integers(0, 256, size=(100, 28, 28), dtype=np.uint8), np.arange(100) % 10
    np.savez(tmp_path / "m.npz", x_train=x, y_train=y.astype(np.uint8), x_test=x[:50], y_test=y[:50])
    out = tmp_path / "mnist10.h5"
    datasets.prepare("mnist10", {**SPEC, "builder": "mnist10", "images": "mnist", "n_val": 20,
                                 "signal": {"kind": "pixel_grid", "target_label": 0}}, 0, str(out),
                     sources={"mnist": {"kind": "npz", "path": str(tmp_path / "m.npz")}}, data_dir=str(tmp_path))
    art = store.read_h5(out)
    assert art["train/x"].shape == (80, 1, 28, 28) and art["test/x"].shape == (50, 1, 28, 28)
    assert np.array_equal(art["test/x"][:, 0], x[:50]) and np.array_equal(art["test/y"], y[:50])
    assert art.attrs["meta"]["source_label"].startswith("MNIST (staged .npz")


DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_debian_fashion_mnist_passes_the_official_checksums():
    """Debian recompresses the .gz files, so they pass on the official md5 of their content."""
    raw = sources.load_fashion_mnist({"kind": "archive", "path": str(DEBIAN_FASHION_MNIST)}, "unused")
    assert raw["x_train"].shape == (60000, 28, 28, 1) and raw["x_test"].shape == (10000, 28, 28, 1)
    assert (np.bincount(raw["y_train"]) == 6000).all() and (np.bincount(raw["y_test"]) == 1000).all()


# ----------------------------------------------------------------------------- signal and augmentation
def test_pixel_grid_signal_parity_channels_and_saturation():
    x = np.full((2, 3, 6, 6), 100, dtype=np.uint8)
    x[0, :, 0, 0] = 254
    gx = make_signal({"kind": "pixel_grid", "target_label": 0}).apply(x)
    diff = gx.astype(int) - x.astype(int)
    assert (diff[:, :, 0::2, 0::2][1] == 2).all()
    assert diff[:, :, 1::2, :].sum() == 0 and diff[:, :, :, 1::2].sum() == 0
    assert gx[0, 0, 0, 0] == 255  # saturates, does not wrap around
    with pytest.raises(TypeError):
        make_signal({"kind": "pixel_grid", "target_label": 0}).apply(x.astype(np.float32))


@pytest.mark.parametrize("padding, flip", [(4, True), (2, False), (0, True)])
def test_augmentation_cannot_destroy_the_signal(padding, flip):
    """Same crop and flip on x and g(x): their difference is still +2 on even rows and columns only,
    at every output pixel that came from the image (not the padding)."""
    r = np.random.default_rng(0)
    x = r.integers(0, 250, size=(2, 16, 3, 32, 32), dtype=np.uint8)
    gx = make_signal({"kind": "pixel_grid", "target_label": 0}).apply(x)
    gens_a = [torch.Generator().manual_seed(s) for s in (1, 2)]
    gens_b = [torch.Generator().manual_seed(s) for s in (1, 2)]
    ax = random_crop_flip(torch.from_numpy(x), gens_a, padding, flip).numpy().astype(int)
    agx = random_crop_flip(torch.from_numpy(gx), gens_b, padding, flip).numpy().astype(int)
    diff = agx - ax
    odd = np.ones((32, 32), bool)
    odd[0::2, 0::2] = False
    assert (diff[..., odd] == 0).all()
    grid = diff[..., 0::2, 0::2]
    assert set(np.unique(grid)) <= {0, 2}
    # zeros only where the crop reached into the padding: both images are 0 there
    assert ((grid == 2) | (ax[..., 0::2, 0::2] == 0)).all()
    if padding == 0 and not flip:
        assert (grid == 2).all()


def test_augmentation_moves_images():
    x = torch.arange(2 * 8 * 3 * 32 * 32, dtype=torch.int64).remainder(251).to(torch.uint8).reshape(2, 8, 3, 32, 32)
    out = random_crop_flip(x, [torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)], 4, True)
    assert out.shape == x.shape and not torch.equal(out, x)
    with pytest.raises(ValueError, match="even"):
        random_crop_flip(x, [torch.Generator()] * 2, 3, False)


def test_standard_augmentation_is_a_plain_crop_and_mirror_that_moves_the_grid():
    """keep_parity false: any offset in 0 .. 2 * padding (odd padding allowed) and the mirror j -> W - 1 - j,
    as torchvision's RandomCrop(padding) and RandomHorizontalFlip; the signal then sits on odd rows or
    columns in about three quarters of the images."""
    r = np.random.default_rng(0)
    x = r.integers(1, 250, size=(2, 64, 3, 32, 32), dtype=np.uint8)
    out = random_crop_flip(torch.from_numpy(x), [torch.Generator().manual_seed(s) for s in (1, 2)], 3, True,
                           keep_parity=False).numpy()
    for m, seed in enumerate((1, 2)):
        g = torch.Generator().manual_seed(seed)  # the draws in the function's order: rows, columns, flips
        oy, ox, fl = (torch.randint(0, hi, (64,), generator=g).numpy() for hi in (7, 7, 2))
        for i in range(64):
            crop = np.pad(x[m, i], ((0, 0), (3, 3), (3, 3)))[:, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
            assert np.array_equal(out[m, i], crop[:, :, ::-1] if fl[i] else crop)
    gx = make_signal({"kind": "pixel_grid", "target_label": 0}).apply(x)
    diff = [random_crop_flip(torch.from_numpy(a), [torch.Generator().manual_seed(s) for s in (1, 2)], 4, True,
                             keep_parity=False).numpy().astype(int) for a in (x, gx)]
    diff = (diff[1] - diff[0]).reshape(-1, 3, 32, 32)
    on_even = np.array([(d[:, 1::2, :] == 0).all() and (d[:, :, 1::2] == 0).all() for d in diff])
    assert 0.1 < on_even.mean() < 0.45  # about 1/4: even row offset, and even column after crop and mirror


def test_the_schema_takes_odd_padding_only_without_parity(repo_config):
    from collective_action.configuration import validation as cfgmod
    from conftest import SCHEMA

    schema = cfgmod.load_schema(SCHEMA)
    cfg = copy.deepcopy(repo_config)
    cfg["datasets"]["cifar10"]["training"]["augment"] = {"crop_padding": 3, "flip": True, "keep_parity": False}
    cfgmod.validate(cfg, schema)
    cfg["datasets"]["cifar10"]["training"]["augment"] = {"crop_padding": 3, "flip": True}
    with pytest.raises(cfgmod.ConfigError, match="crop_padding"):
        cfgmod.validate(cfg, schema)


# ----------------------------------------------------------------------------- image models
@pytest.mark.parametrize("head, shape", [("pool", [3, 32, 32]), ("flatten", [1, 28, 28])])
def test_vmapped_cnn_bank_equals_its_models_one_by_one(head, shape):
    from collective_action import rng
    from collective_action.models import make_bank

    spec = {"kind": "cnn", "stem": "patch2", "channels": [4, 8], "head": head}
    together = make_bank(spec, shape, 10, rng.torch_generators(0, [0, 1], "model"), torch.float32, "cpu")
    apart = make_bank({**spec, "vectorize": False}, shape, 10, rng.torch_generators(0, [0, 1], "model"),
                      torch.float32, "cpu")
    assert together.vmapped and not apart.vmapped
    if head == "flatten":  # a linear layer on the 8 x 7 x 7 feature map of a 28 x 28 image
        assert apart.models[0].head.in_features == 8 * 7 * 7
    x = torch.randn(2, 5, *shape)
    assert torch.allclose(together(x), apart(x), atol=1e-5)
    assert torch.allclose(together(x[0]), apart(x[0]), atol=1e-5)  # one batch shared by both runs


def test_resnet50_bank_trains_a_step():
    """The paper-scale model's path (cifar stem, batch norm, runs one after another) on CPU."""
    from collective_action import rng
    from collective_action.models import make_bank
    from collective_action.training.engine import per_sample_ce
    from collective_action.training.optim import Adam

    bank = make_bank({"kind": "resnet50", "stem": "cifar", "vectorize": False}, [3, 32, 32], 10,
                     rng.torch_generators(0, [0], "model"), torch.float32, "cpu")
    opt = Adam(bank.parameters(), lr=5e-4)
    x, y = torch.randn(1, 4, 3, 32, 32), torch.randint(0, 10, (1, 4))
    loss = per_sample_ce(bank(x), y).mean()
    loss.backward()
    opt.step()
    assert bank(x).shape == (1, 4, 10)


def test_paper_config_validates():

    from collective_action.configuration.studies import compose
    from collective_action.planning.plan import Plan
    from conftest import REPO, SCHEMA

    plan = Plan(compose(REPO / "config.yaml", [REPO / "studies" / "paper_scale.yaml"]), schema_path=str(SCHEMA))
    from types import SimpleNamespace

    from collective_action.steps.jobs import Jobs

    wc = SimpleNamespace(dataset="cifar10", algorithm="erm", alpha="0.1", alpha_val="0.0")
    assert Jobs(plan)["train"].params(wc)["model"]["kind"] == "resnet50"


class _TinyBatchNormNet(torch.nn.Module):
    """Convolution, batch norm, ReLU, average pooling, linear: ResNet-50's batch-norm behaviour at toy size."""

    def __init__(self, n_classes: int):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Linear(4, n_classes)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)).relu().mean(dim=(-2, -1)))


def test_batch_norm_runs_in_eval_mode_for_jtts_error_set_and_the_records(monkeypatch):
    """JTT's error set (FitContext.predict_train) and the evaluator's per-epoch records must use the
    running statistics and leave them alone (eval mode), and training must go on in train mode.

    Each model's batch norm must see exactly one forward pass in train mode per optimisation step and
    count exactly those (num_batches_tracked); the error set must be what the identification models
    predict in eval mode. Checked to fail on the old behaviour (commit 1f42a7f ran predict_train in train
    mode): with FitContext.predict_train monkeypatched back to a plain ``predict_split(bank, self.train,
    self.evaluator.batch_size, self.normalise)``, this test fails: the identification bank's batch norm runs
    in train mode over the error set's 5 batches and counts them; so it does with an Evaluator.record that
    skips ``evaluating``."""
    from collective_action.learners import LEARNERS
    from collective_action.models.banks import ModuleBank
    from collective_action.training import engine
    from collective_action.training.engine import Evaluator, FitContext, Split

    r = np.random.default_rng(0)
    x = r.integers(0, 256, size=(40, 3, 8, 8), dtype=np.uint8)
    y = (x[:, 0].mean(axis=(1, 2)) > 127).astype(np.int64)
    seeds = [0, 1]
    no_collective = [(np.zeros(0, np.int64), np.zeros((0, 3, 8, 8), np.uint8))] * len(seeds)

    def normalise(t):
        return t.float() / 255 - 0.5

    banks, modes = {}, []  # every bank by the tag it was made for; every batch-norm call's (tag, training)

    def make_bank(spec, input_shape, n_classes, gens, dtype, device, channels_last=False, amp=False):
        bank = ModuleBank(lambda: _TinyBatchNormNet(n_classes), gens, len(input_shape), device)
        tag = f"bank{len(banks)}"
        for m in bank.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.register_forward_pre_hook(lambda mod, args, tag=tag: modes.append((tag, mod.training)))
        banks[tag] = bank
        return bank

    monkeypatch.setattr(engine, "make_bank", make_bank)
    epochs, batch_size = 2, 16
    ctx = FitContext(train=Split.from_overlays(x, y, no_collective, 1, "cpu"),
                     evaluator=Evaluator(per_run={"val": Split.from_overlays(x[:10], y[:10], no_collective, 1, "cpu")},
                                         shared={"test": torch.from_numpy(x[10:])}, batch_size=8, transform=normalise),
                     model_spec={"kind": "test"}, input_shape=[3, 8, 8], n_classes=2, seeds=seeds, base_seed=0,
                     epochs=epochs, batch_size=batch_size, lr=1e-2, weight_decay=0.0,
                     hp={"identification_epochs": epochs, "upweight": 5.0}, device=torch.device("cpu"),
                     normalise=normalise)
    result = LEARNERS.get("jtt")(ctx, ctx.hp).fit()
    identification, final = banks["bank0"], banks["bank1"]
    assert result.bank is final and not final.vmapped  # batch norm: the runs go one after another

    steps = epochs * -(-len(x) // batch_size)  # optimisation steps of each stage
    for tag, bank in banks.items():
        assert [mode for t, mode in modes if t == tag].count(True) == steps * len(seeds)
        for model in bank.models:
            assert int(model.bn.num_batches_tracked) == steps  # only training steps moved the running statistics
    assert final.training  # the records handed the model back in train mode

    identification.eval()
    with torch.no_grad():
        predicted = identification(normalise(torch.from_numpy(x))).argmax(-1).numpy()
    assert np.array_equal(result.diagnostics["error_set"], predicted != y)


def test_evaluating_leaves_batch_norm_statistics_and_mode_alone():
    """Direct check of the evaluator's record and predict_train on a bank in train mode."""
    from collective_action import rng
    from collective_action.models.banks import ModuleBank
    from collective_action.training.engine import Evaluator, FitContext, Split

    x = np.random.default_rng(1).integers(0, 256, size=(12, 3, 8, 8), dtype=np.uint8)
    split = Split.from_overlays(x, np.arange(12) % 2, [(np.zeros(0, np.int64), x[:0])] * 2, 1, "cpu")
    bank = ModuleBank(lambda: _TinyBatchNormNet(2), rng.torch_generators(0, [0, 1], "model"), 3, "cpu")
    bank.train()
    bank(torch.randn(2, 4, 3, 8, 8))  # running statistics away from their initial values
    before = {k: v.clone() for k, v in bank.state_dict().items()}
    evaluator = Evaluator(per_run={"val": split}, shared={"test": torch.from_numpy(x)}, batch_size=5,
                          transform=lambda t: t.float() / 255)
    ctx = FitContext(train=split, evaluator=evaluator, model_spec={}, input_shape=[3, 8, 8], n_classes=2, seeds=[0, 1],
                     base_seed=0, epochs=1, batch_size=4, lr=1e-3, weight_decay=0.0, hp={},
                     device=torch.device("cpu"), normalise=lambda t: t.float() / 255)
    evaluator.record(bank)
    predicted = ctx.predict_train(bank)
    assert all(m.training for m in bank.modules())  # back in train mode, every submodule
    assert all(torch.equal(before[k], v) for k, v in bank.state_dict().items())
    bank.eval()
    with torch.no_grad():
        expected = bank(torch.from_numpy(x).float() / 255).argmax(-1)
    assert torch.equal(predicted, expected)
    assert np.array_equal(evaluator.predictions()["test"][0], expected.numpy())


# ----------------------------------------------------------------------------- what image tables report
def test_an_image_table_has_train_accuracy_and_jtts_error_rates(tmp_path, repo_config):
    """Every image table row carries the clean train accuracy of the model it reports (beside the clean test
    accuracy) and JTT's P_E and P_E|C; the package steps run as the rules run them, on a tiny CIFAR-10."""
    from types import SimpleNamespace

    from collective_action import collective
    from collective_action.evaluation import metrics, tables
    from collective_action.planning.plan import Plan
    from collective_action.steps.jobs import Jobs
    from collective_action.training import fit as training
    from conftest import SCHEMA

    npz = fx.write_npz(tmp_path / "c.npz", fx.cifar_arrays(n_per_batch=20))
    cfg = copy.deepcopy(repo_config)
    cfg["sources"]["cifar10"] = {"kind": "npz", "path": str(npz)}
    cfg["datasets"]["cifar10"].update(n_val=20, seeds=2, training={"epochs": 2, "eval_batch_size": 64,
                                                                     "augment": {"crop_padding": 2, "flip": True}})
    cfg["datasets"]["cifar10"]["algorithms"] = {"jtt": {"identification_epochs": 1}}
    cfg["panels"]["fig1c"].update(algorithms=["jtt"], alphas=[0.1], stopping=["last", "max_val_accuracy"])
    jobs = Jobs(Plan(cfg, schema_path=str(SCHEMA)))
    wc = SimpleNamespace(dataset="cifar10", algorithm="jtt", alpha="0.1", alpha_val="0.0", panel="fig1c")
    data, poisoned, run, scores = (str(tmp_path / f) for f in ("d.h5", "p.h5", "r.h5", "m.h5"))
    datasets.prepare_any(jobs["prepare"].params(wc), data)
    p = jobs["poison"].params(wc)
    collective.poison(data_path=data, signal_spec=p["signal"], alpha=p["alpha"], alpha_val=p["alpha_val"],
                      seeds=p["seeds"], base_seed=p["base_seed"], dataset=p["dataset"], output=poisoned, record=p)
    training.train(data_path=data, poisoned_path=poisoned, spec=jobs["train"].params(wc), output=run, threads=1,
                   device="cpu")
    metrics.evaluate(run_path=run, data_path=data, poisoned_path=poisoned,
                     spec=jobs["evaluate"].params(wc)["collectives"]["cifar10"], output=scores)
    tables.build(panel="fig1c", spec=jobs["table"].params(wc), metrics_paths=[scores], output=str(tmp_path / "t.csv"))
    table = pd.read_csv(tmp_path / "t.csv")
    assert len(table) == 2 * 2 and table[["accuracy", "train_accuracy", "p_error",
                                          "p_error_given_collective"]].notna().all().all()
    # the last epoch's model on the clean training split, recomputed from the stored predictions
    art, y_train = store.read_h5(run), datasets.load(data)["train/y"]
    last = table[table.stopping == "last"].sort_values("seed")
    assert np.allclose(last["train_accuracy"], (art["pred/slot/last/train"] == y_train).mean(axis=1))


def test_image_curves_state_the_clean_test_accuracy_in_their_legend():
    from collective_action.figures.panels import Curves

    table = pd.DataFrame({"alpha": [0.0, 0.0, 0.1, 0.1], "accuracy": [0.8, 0.82, 0.5, 0.52],
                          "data_source": "CIFAR-10 (staged .npz: c.npz)"})
    assert Curves("p")._accuracy_note(table, table) == ", test acc. 0.51-0.81"
    assert Curves("p")._accuracy_note(table, table[table.alpha == 0]) == ", test acc. 0.81"
    assert Curves("p", show_accuracy=False)._accuracy_note(table, table) == ""
    synthetic = table.assign(data_source="synthetic")
    assert Curves("p")._accuracy_note(synthetic, synthetic) == ""  # the 2D figures stay as they are
    assert Curves("p", show_accuracy=True)._accuracy_note(synthetic, synthetic) == ", test acc. 0.51-0.81"
