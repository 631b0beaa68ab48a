import numpy as np

from collective_action import metrics


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


def test_stopping_rules_pick_epochs_with_ties_to_the_earliest():
    per_epoch = {
        "val_accuracy": np.array([[0.5, 0.9], [0.8, 0.9], [0.8, 0.7]]),
        "val_success": np.array([[0.1, np.nan], [0.0, np.nan], [0.3, np.nan]]),
    }
    stops = metrics.select_epochs(per_epoch)
    assert stops["last"].tolist() == [2, 2]
    assert stops["max_val_accuracy"].tolist() == [1, 0]
    assert stops["max_val_success"].tolist() == [2, 0]
