import numpy as np
import pytest

from collective_action import collective, datasets, store
from collective_action.signals import make_signal


@pytest.fixture
def data_file(tmp_path):
    spec = {"generator": "uniform_2d", "n_train": 1000, "n_val": 200, "n_test": 300, "seed": 3, "model": "mlp",
            "signal": {"kind": "reflect_x2_negative", "target_label": 1}}
    path = tmp_path / "d.h5"
    datasets.prepare("toy", spec, base_seed=0, output=str(path))
    return path, spec


@pytest.mark.parametrize("alpha, n, k", [(0.0, 100, 0), (0.1, 100, 10), (0.005, 100, 1), (0.015, 100, 2), (0.333, 1000, 333)])
def test_collective_size_is_round_alpha_n(alpha, n, k):
    assert collective.collective_size(alpha, n) == k
    members = collective.select_members(n, alpha, np.random.default_rng(0))
    assert len(members) == k == len(set(members.tolist()))


def test_signal_maps_into_its_codomain():
    signal = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
    x = np.random.default_rng(0).uniform(-1, 1, size=(500, 2))
    gx = signal.apply(x)
    assert signal.in_codomain(gx).all()
    assert np.array_equal(gx[:, 0], x[:, 0])
    assert np.array_equal(signal.apply(gx), gx)  # idempotent: the codomain is fixed by g
    assert not signal.in_codomain(x).all()


def test_poisoned_file_replaces_exactly_the_members(data_file, tmp_path):
    path, spec = data_file
    out = tmp_path / "p.h5"
    collective.poison(str(path), spec["signal"], 0.1, 0.25, [0, 1], 0, "toy", str(out))
    data, pois = datasets.load(str(path)), store.read_h5(out)
    for s in (0, 1):
        idx = pois[f"seed{s}/train/index"]
        assert len(idx) == 100 and len(pois[f"seed{s}/val/index"]) == 50
        x, y, member = collective.overlay(data["train/x"], data["train/y"], idx, pois[f"seed{s}/train/x"], 1)
        assert (y[member] == 1).all() and (x[member, 1] <= 0).all()
        assert np.array_equal(x[~member], data["train/x"][~member])
    assert not np.array_equal(pois["seed0/train/index"], pois["seed1/train/index"])
    assert pois.provenance["inputs"]["data"]["sha256"] == store.sha256_file(path)


def test_validation_collective_independent_of_alpha_and_vice_versa(data_file, tmp_path):
    path, spec = data_file
    files = {}
    for a, av in [(0.1, 0.2), (0.3, 0.2), (0.1, 0.6)]:
        out = tmp_path / f"{a}_{av}.h5"
        collective.poison(str(path), spec["signal"], a, av, [0], 0, "toy", str(out))
        files[(a, av)] = store.read_h5(out)
    # the validation collective does not move when alpha does, nor the training one when alpha_val does
    assert np.array_equal(files[(0.1, 0.2)]["seed0/val/index"], files[(0.3, 0.2)]["seed0/val/index"])
    assert np.array_equal(files[(0.1, 0.2)]["seed0/train/index"], files[(0.1, 0.6)]["seed0/train/index"])
    # collectives of one seed are nested across sizes
    assert set(files[(0.1, 0.2)]["seed0/train/index"]) <= set(files[(0.3, 0.2)]["seed0/train/index"])
    assert set(files[(0.1, 0.2)]["seed0/val/index"]) <= set(files[(0.1, 0.6)]["seed0/val/index"])


def test_same_seed_same_bytes(data_file, tmp_path):
    path, spec = data_file
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    collective.poison(str(path), spec["signal"], 0.2, 0.0, [0, 1], 0, "toy", str(a))
    collective.poison(str(path), spec["signal"], 0.2, 0.0, [0, 1], 0, "toy", str(b))
    assert store.sha256_file(a) == store.sha256_file(b)
