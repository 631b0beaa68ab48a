import numpy as np

from collective_action.evaluation import metrics
from collective_action.training import stopping


def test_success_leaves_out_points_already_labelled_target():
    y = np.array([0, 0, 1, 1])
    pred = np.array([1, 0, 1, 1])  # predictions on g(x)
    assert metrics.success_rate(pred, y, target=1) == 0.5
    assert metrics.success_rate(pred, y, target=1, exclude_target=False) == 0.75
    assert metrics.success_rate(np.array([0, 0, 1, 1]), y, target=1) == 0.0  # success 0 is possible only this way


def test_metrics_broadcast_over_epochs_and_runs():
    pred = np.zeros((3, 2, 4), dtype=np.uint8)
    pred[2, 1] = 1
    y = np.array([0, 0, 1, 1])
    assert metrics.success_rate(pred, y, 1).shape == (3, 2)
    assert metrics.success_rate(pred, y, 1)[2, 1] == 1.0
    assert metrics.accuracy(pred, y)[0, 0] == 0.5


PER_EPOCH = {
    "val_accuracy": np.array([[0.5, 0.9], [0.8, 0.9], [0.8, 0.7]]),
    "val_success": np.array([[0.1, np.nan], [0.0, np.nan], [0.3, np.nan]]),
}


def test_stopping_rules_pick_epochs_with_ties_to_the_earliest():
    assert stopping.select(PER_EPOCH, "last").tolist() == [2, 2]
    assert stopping.select(PER_EPOCH, "max_val_accuracy.earliest").tolist() == [1, 0]
    assert stopping.select(PER_EPOCH, "max_val_success.earliest").tolist() == [2, 0]


def test_stopping_rules_pick_epochs_with_ties_to_the_latest():
    assert stopping.select(PER_EPOCH, "max_val_accuracy.latest").tolist() == [2, 1]
    assert stopping.select(PER_EPOCH, "max_val_success.latest").tolist() == [2, 2]  # all NaN: the last epoch


def test_training_keeps_the_model_each_slot_picks():
    """Test predictions at the stopping slots' kept models equal those of predicting after every epoch."""
    import torch

    from test_engine import _context, _data, _overlays, fit

    x, y = _data()
    runs = {}
    for every_epoch in (True, False):
        ctx = _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=6)
        val = ctx.train  # the poisoned training split stands in for a validation split here
        ctx.evaluator.per_run = {"val": val}
        ctx.evaluator.shared = {"val_signal": torch.from_numpy(x[:50]), **ctx.evaluator.shared}
        ctx.evaluator.watched, ctx.evaluator.every_epoch = ("val", "val_signal"), every_epoch
        y_obs, y_clean = val.y.numpy(), y[:50]
        ctx.evaluator.scores = lambda p, y_obs=y_obs, y_clean=y_clean: stopping.val_scores(p["val"], p["val_signal"], y_obs, y_clean, 1)
        fit("erm", ctx)
        runs[every_epoch] = ctx.evaluator.predictions()
    full, kept = runs[True], runs[False]
    scores = stopping.val_scores(full["val"], full["val_signal"], val.y.numpy(), y[:50], 1)
    for name in stopping.SLOTS:
        epochs = stopping.select(scores, name)
        assert np.array_equal(full["test"][epochs, [0, 1]], kept[f"slot/{name}/test"]), name


def test_a_panel_file_holds_each_cell_as_its_own_file_would(tmp_path):
    """evaluate_cells writes several cells into one file; each reads back as the one-cell file of the same cell."""
    cells, collectives = _trained_toy_cells(tmp_path)
    metrics.evaluate_cells(cells, collectives, str(tmp_path / "panel.h5"), {"panel": "p"})
    together = {c.key: c for c in metrics.read_cells([str(tmp_path / "panel.h5")])}
    assert len(together) == len(cells) == 2
    for i, cell in enumerate(cells):
        alone_path = str(tmp_path / f"alone{i}.h5")
        metrics.evaluate(run_path=cell["run"], data_path=cell["data"], poisoned_path=cell["poisoned"],
                         spec=collectives[cell["dataset"]], output=alone_path)
        alone, = metrics.read_cells([alone_path])
        mine = together[alone.key]
        assert mine.attrs == alone.attrs and mine.arrays.keys() == alone.arrays.keys()
        assert all(np.array_equal(mine[k], alone[k], equal_nan=True) for k in alone.arrays)


def _trained_toy_cells(tmp_path):
    """Two trained cells (ERM, alphas 0.05 and 0.2, two seeds) of a small 2D dataset, as an evaluate job lists them."""
    from collective_action import collective, datasets
    from collective_action.training import fit as training

    signal = {"kind": "reflect_x2_negative", "target_label": 1}
    spec = {"generator": "uniform_2d", "n_train": 400, "n_val": 100, "n_test": 200, "seed": 3, "model": "mlp",
            "signal": signal}
    data = str(tmp_path / "d.h5")
    datasets.prepare("toy", spec, base_seed=0, output=data)
    cells = []
    for alpha in (0.05, 0.2):
        poisoned, run = str(tmp_path / f"p{alpha}.h5"), str(tmp_path / f"r{alpha}.h5")
        collective.poison(data, signal, alpha, 0.0, [0, 1], 0, "toy", poisoned)
        tspec = {"dataset": "toy", "algorithm": "erm", "learner": "erm", "alpha": alpha, "alpha_val": 0.0, "seeds": [0, 1],
                 "base_seed": 0, "signal": signal, "model": {"kind": "mlp", "hidden": [8]},
                 "training": {"optimizer": "adam", "lr": 5e-3, "batch_size": 64, "epochs": 2, "weight_decay": 0.0,
                              "dtype": "float32", "eval_batch_size": 512, "augment": None},
                 "hyperparameters": {}, "record_every_epoch": False}
        training.train(data_path=data, poisoned_path=poisoned, spec=tspec, output=run, threads=1, device="cpu")
        cells.append({"dataset": "toy", "algorithm": "erm", "alpha": alpha, "alpha_val": 0.0, "run": run, "data": data,
                      "poisoned": poisoned})
    return cells, {"toy": {"dataset": "toy", "signal": signal}}
