"""Image sources and datasets, loaded from fixtures in the original on-disk formats."""
import tarfile
import urllib.error

import numpy as np
import pytest
import torch

from collective_action import store
from collective_action.augment import random_crop_flip
from collective_action import datasets
from collective_action.datasets import check_staged, sources
from collective_action.signals import make_signal

import image_fixtures as fx


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


def test_cifar_archive_source_checks_md5_and_extracts(tmp_path, cifar_batches):
    archive = fx.write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", cifar_batches)
    source = {"kind": "archive", "path": str(archive), "md5": store.md5_file(archive)}
    arrays = sources.load_cifar10(source, str(tmp_path / "data"))
    assert arrays["x_train"].shape == (200, 32, 32, 3) and arrays["x_test"].shape == (40, 32, 32, 3)
    assert np.array_equal(arrays["x_test"], _hwc(cifar_batches["test_batch"][0]))
    # without an md5 in config the official one is expected: the fixture is rejected by name and checksum
    with pytest.raises(sources.SourceError, match=r"cifar-10-python.tar.gz has md5 .* expected c58f30108f718f92721af3b95e74349a"):
        sources.load_cifar10({"kind": "archive", "path": str(archive)}, str(tmp_path / "data2"))


def test_truncated_archive_is_an_error(tmp_path, cifar_batches):
    archive = fx.write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", cifar_batches)
    archive.write_bytes(archive.read_bytes()[:500])
    with pytest.raises(sources.SourceError, match="not a readable tar archive"):
        sources.load_cifar10({"kind": "archive", "path": str(archive), "md5": store.md5_file(archive)},
                             str(tmp_path / "data"))


def test_mnist_idx_files(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    arrays = fx.write_mnist_idx(folder)
    # the fixture stands in for the official files: expect its own checksums
    monkeypatch.setitem(sources.MNIST, "files", {f.name: store.md5_file(f) for f in folder.iterdir()})
    loaded = sources.load_mnist({"kind": "archive", "path": str(folder)}, str(tmp_path / "data"))
    for key in arrays:
        assert np.array_equal(loaded[key], arrays[key])
    assert loaded["x_train"].shape == (60, 28, 28)


def test_mnist_checksum_mismatch_names_the_file(tmp_path):
    folder = tmp_path / "mnist"
    fx.write_mnist_idx(folder)
    with pytest.raises(sources.SourceError, match=r"train-images-idx3-ubyte.gz has md5 .* expected f68b3c2d"):
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
    with pytest.raises(sources.SourceError, match=r"sources.cifar10: .*nope.npz does not exist; stage an .npz with x_train"):
        check_staged("cifar10", {"kind": "npz", "path": str(tmp_path / "nope.npz")})


def test_no_internet_gives_one_clear_error(tmp_path, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(sources.SourceError, match=r"could not download .*put cifar-10-python.tar.gz \(md5 c58f3"):
        sources.load_cifar10({"kind": "torchvision"}, str(tmp_path / "data"))


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
    aligned = lambda split: (art[f"{split}/group"] // 2 == art[f"{split}/group"] % 2).mean()
    assert 0.92 < aligned("train") < 0.98  # the place agrees with the label in 95% of training points
    assert 0.35 < aligned("test") < 0.65 and 0.3 < aligned("val") < 0.7  # independent elsewhere


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


# ----------------------------------------------------------------------------- image models
def test_vmapped_cnn_bank_equals_its_models_one_by_one():
    from collective_action import rng
    from collective_action.models import make_image_bank

    spec = {"kind": "cnn", "stem": "patch2", "channels": [4, 8]}
    together = make_image_bank(spec, [3, 32, 32], 10, rng.torch_generators(0, [0, 1], "model"), "cpu")
    apart = make_image_bank({**spec, "vectorize": False}, [3, 32, 32], 10, rng.torch_generators(0, [0, 1], "model"), "cpu")
    assert together.vmapped and not apart.vmapped
    x = torch.randn(2, 5, 3, 32, 32)
    assert torch.allclose(together(x), apart(x), atol=1e-5)
    assert torch.allclose(together(x[0]), apart(x[0]), atol=1e-5)  # one batch shared by both runs


def test_resnet50_bank_trains_a_step():
    """The paper-scale model's path (cifar stem, batch norm, runs one after another) on CPU."""
    from collective_action import rng
    from collective_action.engine import per_sample_ce
    from collective_action.models import make_image_bank
    from collective_action.optim import Adam

    bank = make_image_bank({"kind": "resnet50", "stem": "cifar", "vectorize": False}, [3, 32, 32], 10,
                           rng.torch_generators(0, [0], "model"), "cpu")
    opt = Adam(bank.parameters(), lr=5e-4)
    x, y = torch.randn(1, 4, 3, 32, 32), torch.randint(0, 10, (1, 4))
    loss = per_sample_ce(bank(x), y).mean()
    loss.backward()
    opt.step()
    assert bank(x).shape == (1, 4, 10)


def test_paper_config_validates():
    import yaml

    from collective_action.config import deep_merge
    from collective_action.plan import Plan
    from conftest import REPO, SCHEMA

    base = yaml.safe_load((REPO / "config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config.paper.yaml").read_text())
    plan = Plan(deep_merge(base, paper), schema_path=str(SCHEMA))
    from types import SimpleNamespace

    from collective_action.jobs import Jobs

    wc = SimpleNamespace(dataset="cifar10", algorithm="erm", alpha="0.1", alpha_val="0.0")
    assert Jobs(plan)["train"].params(wc)["model"]["kind"] == "resnet50"
