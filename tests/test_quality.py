"""Training that fails is never silent: divergence stops the job naming the cell, runs and epoch; a run that did
not learn its training data is flagged in the tables and makes the claims that read it inconclusive."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from collective_action.evaluation import tables
from collective_action.models.banks import MLPBank, mlp_sizes
from collective_action.training.engine import TrainingDiverged, check_finite
from collective_action.training.fit import fit_diagnostics
from conftest import narrow_study
from test_engine import _context, _data, _overlays, fit
from test_workflow import edit_config, snakemake


def test_a_non_finite_parameter_names_its_runs_and_epoch():
    bank = MLPBank(mlp_sizes(2, [4], 2), [torch.Generator().manual_seed(s) for s in range(3)])
    check_finite([bank], [0, 1, 2], 1, "training")  # finite: nothing
    with torch.no_grad():
        bank.weight0[1, 0, 0] = float("nan")
        bank.bias1[2, 0, 1] = float("inf")
    with pytest.raises(TrainingDiverged) as err:
        check_finite([bank], [0, 5, 7], 4, "training")
    assert err.value.runs == [5, 7] and err.value.epoch == 4
    assert "seeds [5, 7] after epoch 4 of training" in str(err.value)
    assert "cell 2d/erm alpha=0.1" in str(err.value.in_cell("2d/erm alpha=0.1 alpha_val=0"))


def test_training_that_overflows_stops_at_the_epoch_it_happens():
    x, y = _data()
    ctx = _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=3)
    ctx = dataclasses.replace(ctx, lr=1e300)
    with pytest.raises(TrainingDiverged) as err:
        fit("erm", ctx)
    assert err.value.runs == [0, 1] and err.value.epoch == 1


def test_fit_diagnostics_measure_the_training_split_as_the_firm_sees_it():
    x, y = _data()
    ctx = _context(x, y, _overlays(x, [0, 1], 0.3), [0, 1], epochs=5)
    bank = fit("erm", ctx).bank
    out = fit_diagnostics(ctx, bank)
    labels, pred = ctx.train.y.numpy(), ctx.predict_train(bank).numpy()
    assert np.allclose(out["fit_majority"], [np.bincount(row).max() / len(row) for row in labels])
    assert np.allclose(out["fit_accuracy"], (pred == labels).mean(axis=1))
    balanced = [np.mean([(p[t == c] == c).mean() for c in (0, 1)]) for p, t in zip(pred, labels)]
    assert (out["fit_classes"] == 2).all() and np.allclose(out["fit_balanced"], balanced)
    # a constant prediction scores the majority rate, and a balanced accuracy of exactly 1/K
    ctx_const = dataclasses.replace(ctx, epochs=1)
    bank = fit("erm", ctx_const).bank
    with torch.no_grad():
        bank.weights[-1].zero_()
        bank.biases[-1].copy_(torch.tensor([0.0, 1.0], dtype=bank.biases[-1].dtype))
    const = fit_diagnostics(ctx_const, bank)
    assert np.allclose(const["fit_balanced"], 0.5) and np.allclose(const["fit_accuracy"], (labels == 1).mean(axis=1))


def test_learned_is_balanced_accuracy_clearly_above_chance():
    diag = {"fit_balanced": np.array([0.5, 0.54, 0.56, 0.19, 0.2]), "fit_classes": np.array([2, 2, 2, 10, 10])}
    assert tables.learned(diag, 5, 0.1).tolist() == [False, False, True, True, True]
    assert tables.learned(diag, 5, 0.2).tolist() == [False, False, False, False, False]
    assert tables.learned({}, 3, 0.1).all()  # runs from before these diagnostics: nothing says otherwise


@pytest.fixture
def built_with(workflow_dir):
    def build(edit, *targets):
        edit_config(workflow_dir, edit)
        snakemake(workflow_dir, *targets)
        return workflow_dir
    return build


def test_a_learning_rate_of_1000_flags_the_runs_and_their_claims(built_with):
    """lr = 1000 on fig1b: the runs train (finite weights, rc 0) but predict one class; every table row says so and
    no claim on them is counted as reproduced or not reproduced."""
    def edit(c):
        c["training"].update(lr=1000.0, epochs=5)
        c["datasets"]["2d"].update(n_train=1000, n_val=300, n_test=1000)
        narrow_study(c, "paper", ["fig1b"])
    wd = built_with(edit, "results/claims/paper.csv")
    table = pd.read_csv(wd / "results/tables/fig1b.csv")
    assert {"fit_accuracy", "fit_majority", "fit_balanced", "learned"} <= set(table.columns)
    assert (~table["learned"]).mean() >= 0.75, table[["algorithm", "alpha", "seed", "fit_balanced"]]
    claims = pd.read_csv(wd / "results/claims/paper.csv").set_index("key")
    for key in ("C1@fig1b", "C2@fig1b", "C12@fig1b", "C13@fig1b", "C14@fig1b"):
        verdict, note = claims.loc[key, "verdict"], claims.loc[key, "sensitivity"]
        assert verdict not in ("reproduced", "not reproduced"), (key, verdict, note, claims.loc[key, "measured"])
        assert verdict != "inconclusive" or "did not learn their training data" in note, (key, note)


def test_a_model_that_cannot_fit_is_flagged(built_with):
    """Logistic regression on 16- and 32-strips (the label is the parity of one of k horizontal strips of x2): the
    best linear rule gets about 53% of it right, so every run is flagged, and the claim on them is inconclusive."""
    def edit(c):
        c["datasets"]["strips"].update(ks=[16, 32], n_train=1000, n_val=300, n_test=1000, model="logistic")
        c["datasets"]["strips"]["training"] = {"epochs": 10}
        narrow_study(c, "paper", ["fig7b"])
    wd = built_with(edit, "results/claims/paper.csv")
    linear = pd.read_csv(wd / "results/tables/fig7b.csv")
    assert not linear["learned"].any(), linear[["alpha", "seed", "fit_balanced"]]
    assert linear["fit_balanced"].max() < 0.55
    claims = pd.read_csv(wd / "results/claims/paper.csv").set_index("key")
    assert claims.loc["C10@fig7b", "verdict"] == "inconclusive", claims.loc["C10@fig7b", "sensitivity"]
    n = int(claims.loc["C10@fig7b", "sensitivity"].split("depends on the ")[1].split(" of the ")[0])
    assert f"depends on the {n} of the {n} runs" in claims.loc["C10@fig7b", "sensitivity"]  # every run it reads


def test_a_diverging_run_stops_its_job_naming_the_cell(workflow_dir):
    edit_config(workflow_dir, lambda c: c["training"].update(lr=1e30))
    proc = snakemake(workflow_dir, "results/runs/2d/erm/a0.05_v0.0.h5", check=False)
    log = (workflow_dir / "logs/train/2d/erm/a0.05_v0.0.log").read_text()
    assert proc.returncode != 0
    assert "TrainingDiverged: cell 2d/erm alpha=0.05 alpha_val=0: non-finite parameters" in log
    assert "after epoch 1 of training" in log
    assert not (workflow_dir / "results/runs/2d/erm/a0.05_v0.0.h5").exists()


def test_config_keeps_the_fit_margin_documented(repo_config):
    from conftest import SCHEMA

    with open(SCHEMA) as fh:
        schema = yaml.safe_load(fh)
    assert "fit_margin" in schema["properties"]["quality"]["properties"]
    assert 0 < repo_config["quality"]["fit_margin"] < 1


def test_a_learning_rate_the_float_type_cannot_hold_is_named_before_any_job(repo_config):
    """1e300 overflows float32 inside the optimiser ('value cannot be converted to type float'): a config error."""
    import copy

    from collective_action.configuration.errors import ConfigError
    from collective_action.planning.plan import Plan
    from conftest import SCHEMA

    cfg = copy.deepcopy(repo_config)
    cfg["training"]["lr"] = 1e300
    with pytest.raises(ConfigError, match=r"^config key 'training.lr': 1e\+300 is not a float32 number"):
        Plan(cfg, schema_path=str(SCHEMA))
    cfg["training"]["lr"] = 1e30  # representable: trains, and stops at the first epoch if it diverges
    Plan(cfg, schema_path=str(SCHEMA))
    cfg["datasets"]["strips"]["training"]["lr"] = 1e300  # a dataset's own: its key is named
    with pytest.raises(ConfigError, match=r"^config key 'datasets.strips.training.lr': 1e\+300 is not a float32"):
        Plan(cfg, schema_path=str(SCHEMA))
    cfg["datasets"]["strips"]["training"]["dtype"] = "float64"  # which holds it
    Plan(cfg, schema_path=str(SCHEMA))
