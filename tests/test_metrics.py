import numpy as np

from collective_action import metrics, stopping


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
