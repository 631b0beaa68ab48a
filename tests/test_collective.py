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


# ----------------------------------------------------------------------------- two collectives at once
SECOND = {"alpha": 0.2, "signal": {"kind": "reflect_x2_positive", "target_label": 0}}


def _two(path, tmp_path, alpha, second=SECOND, seeds=(0, 1), name="two.h5"):
    out = tmp_path / name
    collective.poison(str(path), {"kind": "reflect_x2_negative", "target_label": 1}, alpha, 0.1, list(seeds), 0, "toy",
                      str(out), collective_2=second)
    return store.read_h5(out)


def test_second_collective_is_disjoint_sized_and_planted_with_its_own_signal(data_file, tmp_path):
    path, _ = data_file
    data = datasets.load(str(path))
    pois = _two(path, tmp_path, 0.3)
    assert pois.attrs["meta"]["alpha_2"] == 0.2 and pois.attrs["meta"]["target_label_2"] == 0
    for s in (0, 1):
        first, second = pois[f"seed{s}/train/index"], pois[f"seed{s}/train_2/index"]
        assert len(first) == 300 and len(second) == 200  # round(alpha n) each, alpha a share of the whole split
        assert not set(first) & set(second)  # disjoint
        assert len(set(second.tolist())) == 200 and np.all(np.diff(second) > 0)
        x2 = pois[f"seed{s}/train_2/x"]
        assert np.array_equal(x2[:, 0], data["train/x"][second, 0]) and (x2[:, 1] >= 0).all()  # g2 = (x1, |x2|)
        assert (pois[f"seed{s}/train/x"][:, 1] <= 0).all()  # the first collective keeps its g
        assert f"seed{s}/val_2/index" not in pois  # the second collective plants in the training split only
    assert pois.provenance["config"]["collective_2"] == SECOND


def test_second_collective_has_its_own_stream_nested_over_its_size(data_file, tmp_path):
    path, _ = data_file
    small = _two(path, tmp_path, 0.1, {**SECOND, "alpha": 0.1}, name="small.h5")
    large = _two(path, tmp_path, 0.1, {**SECOND, "alpha": 0.3}, name="large.h5")
    # the first collective does not move when the second grows, and the second is nested across its sizes
    assert np.array_equal(small["seed0/train/index"], large["seed0/train/index"])
    assert set(small["seed0/train_2/index"]) <= set(large["seed0/train_2/index"])
    # with the first collective grown, the second moves only where the first took one of its points
    grown = _two(path, tmp_path, 0.4, {**SECOND, "alpha": 0.1}, name="grown.h5")
    kept = set(small["seed0/train_2/index"]) - set(grown["seed0/train/index"])
    assert kept <= set(grown["seed0/train_2/index"])
    # without a second collective the first is exactly as before (same stream, same members)
    out = tmp_path / "one.h5"
    collective.poison(str(path), {"kind": "reflect_x2_negative", "target_label": 1}, 0.1, 0.1, [0, 1], 0, "toy", str(out))
    assert np.array_equal(store.read_h5(out)["seed0/train/index"], small["seed0/train/index"])
    assert "seed0/train_2/index" not in store.read_h5(out)


def test_two_collectives_too_large_is_one_error(data_file, tmp_path):
    path, _ = data_file
    with pytest.raises(ValueError, match="alpha = 0.6 plus the second collective's 0.5 exceeds the whole training set"):
        _two(path, tmp_path, 0.6, {**SECOND, "alpha": 0.5})
    assert not (tmp_path / "two.h5").exists()


def test_members_are_drawn_only_from_eligible_points():
    y = np.array([0, 1] * 50)
    eligible = y == 1
    members = collective.select_members(100, 0.3, np.random.default_rng(0), eligible)
    assert len(members) == 30 and (y[members] == 1).all()  # alpha: a share of the whole split, drawn from y*
    smaller = collective.select_members(100, 0.1, np.random.default_rng(0), eligible)
    assert set(smaller) <= set(members)  # nested across alphas
    with pytest.raises(ValueError, match=r"round\(alpha n\) = 60 .* only 50 may join"):
        collective.select_members(100, 0.6, np.random.default_rng(0), eligible)
    taken = collective.select_members(100, 0.2, np.random.default_rng(1), eligible, exclude=members)
    assert not set(taken) & set(members) and (y[taken] == 1).all()


def test_two_collective_cell_trains_and_tables_measure_both(data_file, tmp_path):
    """Poison, train (the second collective's points carry its own label), evaluate and tabulate a cell."""
    import pandas as pd
    import torch

    from collective_action.evaluation import metrics, tables
    from collective_action.training import fit as training

    path, spec = data_file
    spec = {**spec, "collective_2": SECOND}
    poisoned = tmp_path / "p.h5"
    collective.poison(str(path), spec["signal"], 0.3, 0.0, [0, 1], 0, "toy", str(poisoned), collective_2=SECOND)
    tspec = {"dataset": "toy", "algorithm": "erm", "learner": "erm", "alpha": 0.3, "alpha_val": 0.0, "seeds": [0, 1],
             "base_seed": 0, "signal": spec["signal"], "collective_2": SECOND, "model": {"kind": "mlp", "hidden": [8]},
             "training": {"optimizer": "adam", "lr": 5e-3, "batch_size": 128, "epochs": 2, "weight_decay": 0.0,
                          "dtype": "float32", "eval_batch_size": 512, "augment": None},
             "hyperparameters": {}, "record_every_epoch": False}
    cell = training.Cell(str(path), str(poisoned), tspec, torch.device("cpu"), torch.float32)
    split = cell.split("train")
    pois = store.read_h5(poisoned)
    for m, s in enumerate((0, 1)):
        first, second = pois[f"seed{s}/train/index"], pois[f"seed{s}/train_2/index"]
        assert (split.y[m, first] == 1).all() and (split.y[m, second] == 0).all()
        assert split.member[m].sum() == len(first) + len(second)
        assert (split.pool[split.src[m, second], 1] >= 0).all()
    run, met = tmp_path / "r.h5", tmp_path / "m.h5"
    training.train(data_path=str(path), poisoned_path=str(poisoned), spec=tspec, output=str(run), threads=1, device="cpu")
    metrics.evaluate(run_path=str(run), data_path=str(path), poisoned_path=str(poisoned),
                     spec={"dataset": "toy", "signal": spec["signal"], "collective_2": SECOND}, output=str(met))
    table = tables.panel_rows("p", [str(met)], ["last"], {"toy": spec})
    assert isinstance(table, pd.DataFrame) and len(table) == 2
    for column in ("success_2", "success_all_2", "alpha_2", "alpha_2_realized", "bayes_success", "bayes_success_2"):
        assert column in table and table[column].notna().all(), column
    assert (table["alpha_2_realized"] == 0.2).all() and table["success_2"].between(0, 1).all()
    # the Bayes classifier of the poisoned distribution: collective 1 (alpha 0.3) is above its threshold
    # (1 - 0.2)/3, collective 2 (0.2) below its own, 1 - 3 x 0.2 = 0.4 for the other's size
    assert table["bayes_success"].iloc[0] == 1.0 and table["bayes_success_2"].iloc[0] == 0.0
    # a dataset without a second collective gets none of these columns
    assert tables.second_collective_columns({}, {"alpha": 0.3}, {k: v for k, v in spec.items() if k != "collective_2"}) == {}


SAME_SIGNAL = {"alpha_ratio": 1.0, "signal": {"kind": "reflect_x2_negative", "target_label": 0}}


def test_two_collectives_with_one_signal_and_two_targets_are_disjoint_and_measured_apart(data_file, tmp_path):
    """Karan et al.'s direct confrontation (K1): the same g, targets 1 and 0, equal sizes (alpha_ratio 1). The
    two are drawn disjoint, each relabels to its own target, and each one's success is measured for its own
    target on the same images g(x)."""
    import torch

    from collective_action.evaluation import metrics, tables
    from collective_action.training import fit as training

    path, spec = data_file
    spec = {**spec, "collective_2": SAME_SIGNAL}
    pois = _two(path, tmp_path, 0.3, SAME_SIGNAL)
    assert pois.attrs["meta"]["alpha_2"] == 0.3 and pois.attrs["meta"]["target_label_2"] == 0
    for s in (0, 1):
        first, second = pois[f"seed{s}/train/index"], pois[f"seed{s}/train_2/index"]
        assert len(first) == len(second) == 300 and not set(first) & set(second)
        assert (pois[f"seed{s}/train/x"][:, 1] <= 0).all() and (pois[f"seed{s}/train_2/x"][:, 1] <= 0).all()
    tspec = {"dataset": "toy", "algorithm": "erm", "learner": "erm", "alpha": 0.3, "alpha_val": 0.1, "seeds": [0, 1],
             "base_seed": 0, "signal": spec["signal"], "collective_2": SAME_SIGNAL, "model": {"kind": "logistic"},
             "training": {"optimizer": "adam", "lr": 1e-2, "batch_size": 128, "epochs": 3, "weight_decay": 0.0,
                          "dtype": "float32", "eval_batch_size": 512, "augment": None},
             "hyperparameters": {}, "record_every_epoch": True}
    cell = training.Cell(str(path), str(tmp_path / "two.h5"), tspec, torch.device("cpu"), torch.float32)
    split = cell.split("train")
    for m, s in enumerate((0, 1)):
        assert (split.y[m, pois[f"seed{s}/train/index"]] == 1).all()
        assert (split.y[m, pois[f"seed{s}/train_2/index"]] == 0).all()
    run, met = tmp_path / "r.h5", tmp_path / "m.h5"
    training.train(data_path=str(path), poisoned_path=str(tmp_path / "two.h5"), spec=tspec, output=str(run),
                   threads=1, device="cpu")
    stored = store.read_h5(run)
    assert sorted(stored.group("model")) == ["layer0/bias", "layer0/weight"]  # logistic regression: one layer
    metrics.evaluate(run_path=str(run), data_path=str(path), poisoned_path=str(tmp_path / "two.h5"),
                     spec={"dataset": "toy", "signal": spec["signal"], "collective_2": SAME_SIGNAL}, output=str(met))
    table = tables.panel_rows("p", [str(met)], ["last"], {"toy": spec})
    data = datasets.load(str(path))
    y_test = data["test/y"]
    pred = stored["pred/test_signal"][-1]  # the same images for both collectives: [runs, points]
    assert np.array_equal(stored["pred/test_signal_2"], stored["pred/test_signal"])
    for m in range(2):
        assert table["success"].iloc[m] == pytest.approx((pred[m][y_test == 0] == 1).mean())
        assert table["success_2"].iloc[m] == pytest.approx((pred[m][y_test == 1] == 0).mean())
    assert (table["alpha_2"] == 0.3).all() and (table["alpha_2_realized"] == 0.3).all()
    # the Bayes classifier: the same codomain, opposite targets, equal sizes: neither collective can win
    assert table["bayes_success"].iloc[0] == 0.0 and table["bayes_success_2"].iloc[0] == 0.0


def test_the_signal_size_is_measured_on_the_stored_scale(data_file, tmp_path):
    from collective_action.evaluation import metrics

    path, _ = data_file
    out = tmp_path / "one.h5"
    collective.poison(str(path), {"kind": "reflect_x2_negative", "target_label": 1}, 0.4, 0.0, [0, 1], 0, "toy", str(out))
    size = metrics.signal_size(datasets.load(str(path)), store.read_h5(out), [0, 1])
    # g moves x2 > 0 by 2 x2 and the rest not at all: about 2 x E[x2; x2 > 0] = 0.5 on U(-1, 1), at most 2
    assert size["signal_linf"] == pytest.approx([0.5, 0.5], abs=0.06) and (size["signal_linf_max"] <= 2).all()
    assert (size["signal_linf_max"] > 1.9).all()


def test_bayes_success_thresholds_on_2d():
    from collective_action.datasets.generators import make_generator
    from collective_action.signals import make_signal

    gen = make_generator({"generator": "uniform_2d"})
    s1 = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
    s2 = make_signal({"kind": "reflect_x2_positive", "target_label": 0})
    assert collective.bayes_success(gen, [s1], [0.32]) == [0.0] and collective.bayes_success(gen, [s1], [0.34]) == [1.0]
    # beside a second collective of 0.2, the first's threshold is (1 - 0.2)/3; the second needs alpha > 0.4
    assert collective.bayes_success(gen, [s1, s2], [0.26, 0.2]) == [0.0, 0.0]
    assert collective.bayes_success(gen, [s1, s2], [0.28, 0.2]) == [1.0, 0.0]
    assert collective.bayes_success(gen, [s1, s2], [0.41, 0.2]) == [1.0, 1.0]


def test_default_target_builds_two_collectives_but_no_text_figure(workflow_dir):
    """A dry run of the default target: the two-collective figure and tables are in it, the text figures
    (which need data) are not."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "2"], cwd=workflow_dir,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    outputs = set()
    for line in proc.stdout.splitlines():
        if line.strip().startswith(("output:", "input:")):
            outputs |= {p.strip() for p in line.split(":", 1)[1].split(",")}
    assert {"figures/two_collectives.pdf", "results/tables/two_collectives.csv",
            "results/tables/two_collectives_swap.csv"} <= outputs
    assert any(p.startswith("results/runs/two_2d_swap/erm/") for p in outputs)
    assert not [p for p in outputs if "text_" in p or "resumes" in p]
