"""Gauthier, Bach and Jordan 2025 (the study 'gauthier'): the collective's lower bound (Theorem 3.3) by hand and
against their saved outputs, the car data's distribution, the plug-in Bayes classifier against a brute-force count,
bad input named before any job, and a tiny panel and the atlas through the workflow."""
from __future__ import annotations

import copy
import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch

from collective_action.configuration import validation as cfgmod
from collective_action.datasets.generators import make_generator
from collective_action.evaluation import collusion
from collective_action.models.plug_in_bayes import PlugInBayesBank
from collective_action.signals.set_features import SetFeatures
from collective_action.training.engine import Split
from conftest import REPO, SCHEMA, copy_workflow, tiny_config

SAVED = REPO / "studies" / "data" / "gauthier_saved.csv"
DATASETS = ("cars_plant_poor", "cars_unplant_excellent")


def R(k, dt):
    return math.sqrt(math.log(1 / dt) / (2 * k))


# ----------------------------------------------------------------------------- the bound
def hand_example():
    """Two features (cardinalities 2 and 3), g sets feature 0 to 1, y* = 1 of 2 labels; 4,000 members of N = 8,000:
    1,600 with x = (1, 0), y = 0; 400 with x = (0, 0), y = 1; 1,000 with x = (1, 1), y = 0; 1,000 with x = (0, 2),
    y = 0."""
    x = np.repeat(np.array([[1, 0], [0, 0], [1, 1], [0, 2]], dtype=np.uint8), [1600, 400, 1000, 1000], axis=0)
    y = np.repeat(np.array([0, 1, 0, 0]), [1600, 400, 1000, 1000])
    signal = SetFeatures(target_label=1, values=(("f0", "b"),), delta=0.05, columns=(0,), codes=(1,), levels=(2, 3),
                         n_labels=2)
    return x, y, signal


def test_the_bound_on_a_tiny_dataset_is_the_hand_computation():
    """By hand. Signal values x~ = (1, 0), (1, 1), (1, 2): #X~ = 3, #Y = 2, so delta~ = 0.05 / (2 + 6 + 12) = 0.0025
    and R(k) = sqrt(ln(400) / (2k)): R(4000) = 0.0273666, R(8000) = 0.0193512.
    Planted shares P~: (1, 0) 2000/4000 = 0.5 (the first two groups), (1, 1) 0.25, (1, 2) 0.25.
    Delta from the ORIGINAL rows (y* = 1): (1, 0): P^((1,0), 0) - P^((1,0), 1) = 0.4 - 0 (the 400 rows of label 1
    were (0, 0) before g); (1, 1): 0.25 - 0; (1, 2): 0 - 0 (no member had it).
    With n/N = (N - n)/N = 1/2 and N - n = n, a value passes iff P~ - Delta > 4 R(n) + 2 R(N - n) = 6 R(4000) =
    0.1642: (1, 0) 0.1 no, (1, 1) 0 no, (1, 2) 0.25 yes. Bound = 0.25 - R(4000) - R(8000) = 0.2032822.
    With epsilon = 0.1 the margin also pays 0.1/0.9 = 0.111: (1, 2) gives 0.5 (0.25 - 0.0547) - 0.5 (0 + 0.1095)
    - 0.111 < 0, nothing passes, and the bound is -R(4000) - R(8000) = -0.0467178."""
    x, y, signal = hand_example()
    out = signal.diagnostics(x, y, signal.apply(x), 8000, 8000)
    assert signal.n_signal_values == 3
    assert out["bound"] == pytest.approx(0.2032822, abs=1e-7)
    assert (out["bound_share"], out["bound_passing"], out["bound_values"]) == (0.25, 1.0, 3.0)
    assert out["bound_delta"] == 0.05 and out["bound_n_train"] == 8000
    loose = SetFeatures(**{**signal.__dict__, "epsilon": 0.1}).diagnostics(x, y, signal.apply(x), 8000, 8000)
    assert loose["bound"] == pytest.approx(-0.0467178, abs=1e-7) and loose["bound_passing"] == 0
    assert math.isnan(signal.diagnostics(x[:0], y[:0], x[:0], 8000, 8000)["bound"])  # no members: nothing estimated


def test_the_bound_s_constants_are_theirs():
    """Their setting: #X~ = 5 (countries), #Y = 4, delta = 0.05, so delta~ = 0.05/52 and N_test = 10^5. With no
    signal value passing the bound is -R(n) - R(N_test): -0.06483 at n = 1000; with all passing 1 - R(n) -
    R(N_test): 0.99147 at n = 500,000 (the notes' derivation, and their saved values to every digit). Every
    negative bound they saved for feature-label planting is -R(n) - R(N_test) at its n, at every N."""
    dt = collusion.delta_tilde(0.05, 5, 4)
    assert dt == 0.05 / 52
    none = float(-collusion.hoeffding(1000, dt) - collusion.hoeffding(100000, dt))
    assert none == pytest.approx(-0.06483, abs=5e-6)
    every = float(1 - collusion.hoeffding(500000, dt) - collusion.hoeffding(100000, dt))
    assert every == pytest.approx(0.99147, abs=5e-6)
    saved = pd.read_csv(SAVED, comment="#")
    planting = saved[(saved["quantity"] == "bound") & saved["strategy"].isin(["planting", "naive unplanting"])]
    negative = planting[planting["value"] < 0]
    assert len(negative) > 100
    ours = -collusion.hoeffding(negative["n"].to_numpy(), dt) - collusion.hoeffding(100000, dt)
    np.testing.assert_allclose(ours, negative["value"].to_numpy(), rtol=1e-12)
    fig1 = planting[(planting["experiment"] == "signal-planting") & (planting["target"] == "Excellent")]
    assert fig1.set_index("n").loc[1000, "value"] == pytest.approx(none, rel=1e-12)
    assert fig1.set_index("n").loc[500000, "value"] == pytest.approx(every, rel=1e-12)


def test_a_value_passes_as_the_theorem_says():
    dt = collusion.delta_tilde(0.05, 5, 4)
    n, big = 100000, 1000000
    margin = (n / big) * 2 * R(n, dt) + ((big - n) / big) * (2 * R(n, dt) + 2 * R(big - n, dt))
    share = margin * big / n  # the smallest planted share that passes with Delta = 0
    assert collusion.passes(share * 1.001, 0.0, n, big, dt) and not collusion.passes(share * 0.999, 0.0, n, big, dt)
    assert collusion.passes(0.5, 0.0, big, big, dt)  # n = N: no clean points left to outvote it


# ----------------------------------------------------------------------------- the car data
def test_the_car_data_follow_their_rules():
    gen = make_generator({"generator": "categorical_cars"})
    x, y = gen.sample(200000, np.random.default_rng(7))
    x2, y2 = gen.sample(200000, np.random.default_rng(7))
    assert x.dtype == np.uint8 and x.shape == (200000, 18) and np.array_equal(x, x2) and np.array_equal(y, y2)
    assert (x.max(axis=0) < np.array([len(v) for v in gen.features.values()])).all()
    suv = x[:, gen.column("model_type")] == gen.code("model_type", "SUV")
    assert suv.mean() == pytest.approx(0.45, abs=0.005)
    # an SUV's high values: p_h + (1 - p_h)/k; the sunroof stays uniform
    safety = x[suv, gen.column("safety_rating")] == gen.code("safety_rating", "4 stars")
    assert safety.mean() == pytest.approx(0.7 + 0.3 / 5, abs=0.005)
    assert (x[suv, gen.column("sunroof")] == 0).mean() == pytest.approx(0.5, abs=0.005)
    # labels on the signal set (they depend on the model, safety, fuel, warranty and country only): Excellent
    # 0.95 x 2/3, Good 0.95 x 1/3, Poor 0.05 off C2 (score 4 + 1 + 5 + one of 1, 3, 4); a C2 SUV 0.6, 0.1, 0.3
    fixed = {f: v for f, v in (("model_type", "SUV"), ("fuel_type", "Diesel"), ("safety_rating", "4 stars"),
                                ("warranty_length", "10 years"))}
    inside = np.all([x[:, gen.column(f)] == gen.code(f, v) for f, v in fixed.items()], axis=0)
    c2 = x[:, gen.column("country_of_manufacture")] == gen.code("country_of_manufacture", "C2")
    for rows, expected in ((inside & ~c2, [0.05, 0, 0.95 / 3, 0.95 * 2 / 3]), (inside & c2, [0.3, 0.1, 0, 0.6])):
        shares = np.bincount(y[rows], minlength=4) / rows.sum()
        np.testing.assert_allclose(shares, expected, atol=0.03)
        np.testing.assert_allclose(gen.posterior(x[rows][:1])[0], expected, atol=1e-12)
    np.testing.assert_allclose(gen.posterior(x[:1000]).sum(axis=1), 1.0)


# ----------------------------------------------------------------------------- the plug-in Bayes classifier
def brute_force(xs, ys, n_classes):
    """The plug-in rule by hand: the most frequent label of each x, ties and unseen x to the label most frequent
    in training (then the lower label)."""
    frequency = Counter(ys)
    rank = sorted(range(n_classes), key=lambda c: (-frequency[c], c))
    table = {}
    for x, label in zip(map(tuple, xs), ys):
        table.setdefault(x, Counter())[label] += 1

    def predict(x):
        counts = table.get(tuple(x), Counter())
        return max(rank, key=lambda c: (counts[c], -rank.index(c))) if counts else rank[0]
    return predict


def test_the_plug_in_classifier_is_a_count_per_run():
    levels, n_classes = (2, 3), 3
    grid = np.array([[a, b] for a in range(2) for b in range(3)], dtype=np.uint8)  # every x, once
    # run 0 never sees x = (1, 2) and has a three-way tie at x = (0, 0); run 1 sees other rows and labels
    src = np.array([[0, 0, 1, 1, 1, 2, 3, 4, 0, 1], [5, 5, 5, 4, 3, 2, 1, 0, 0, 3]])
    y = np.array([[0, 1, 2, 2, 0, 1, 1, 2, 2, 0], np.random.default_rng(3).integers(0, n_classes, size=10)])
    split = Split(torch.from_numpy(grid), torch.from_numpy(src), torch.from_numpy(y),
                  torch.zeros(2, 10, dtype=torch.bool))
    bank = PlugInBayesBank(levels, n_classes, 2)
    bank.fit_closed_form(split)
    out = bank(torch.from_numpy(grid))
    assert out.shape == (2, 6, n_classes) and out.sum(-1).eq(1).all()
    for m in range(2):
        rule = brute_force(grid[src[m]], y[m].tolist(), n_classes)
        assert out[m].argmax(-1).tolist() == [rule(g) for g in grid], m
    per_run = bank(torch.from_numpy(np.stack([grid, grid[::-1].copy()])))  # [M, B, d]: each run its own batch
    assert per_run[1].argmax(-1).tolist() == out[1].argmax(-1).flip(0).tolist()
    assert not list(bank.state_dict()) and bank.state_arrays() == {}


def test_the_plug_in_classifier_breaks_ties_and_unseen_by_training_frequency():
    """x = 0 has labels 0 and 1 once each; label frequencies are 1, 2, 2, so the order is 1 (2, the lower label),
    2, 0: the tie at x = 0 and the unseen x = 2 go to label 1; x = 1 has label 2 twice."""
    pool = torch.tensor([[0], [1], [2]], dtype=torch.uint8)
    src = torch.tensor([[0, 0, 1, 1, 1]])
    y = torch.tensor([[0, 1, 2, 2, 1]])
    bank = PlugInBayesBank([3], 3, 1)
    bank.fit_closed_form(Split(pool, src, y, torch.zeros_like(src, dtype=torch.bool)))
    assert bank.predict(pool).tolist() == [[1, 2, 1]]


# ----------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def base(repo_config):
    return json.loads(json.dumps(repo_config))


@pytest.fixture(scope="module")
def schema():
    return cfgmod.load_schema(SCHEMA)


@pytest.mark.parametrize("edit, key, phrase", [
    (lambda s: s["values"].update(model_typo="SUV"), "values.model_typo", "has no feature 'model_typo'"),
    (lambda s: s["values"].update(model_type="Spaceship"), "values.model_type", "must be one of Sedan, SUV"),
    (lambda s: s["values"].update(number_of_doors=5), "values.number_of_doors", "must be a string"),
    (lambda s: s.update(delta=1.0), "delta", "must be < 1"),
    (lambda s: s.update(delta=0.0), "delta", "must be > 0"),
    (lambda s: s.update(epsilon=1.0), "epsilon", "must be < 1"),
    (lambda s: s.update(avoid_label=0), "avoid_label", "other than the planted target_label 0"),
    (lambda s: s.update(target_label=4), "target_label", "must be < 4"),
])
def test_bad_signal_input_is_one_error_naming_the_key(base, schema, tmp_path, monkeypatch, edit, key, phrase):
    monkeypatch.chdir(tmp_path)  # no 'validated' marker in the repository
    cfg = copy.deepcopy(base)
    edit(cfg["datasets"]["cars_plant_poor"]["signal"])
    with pytest.raises(cfgmod.ConfigError) as err:
        cfgmod.validate(cfg, schema)
    assert str(err.value).startswith(f"config key 'datasets.cars_plant_poor.signal.{key}': "), str(err.value)
    assert phrase in str(err.value), str(err.value)


def test_a_model_that_cannot_take_categorical_data_is_named(base, schema, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = copy.deepcopy(base)
    cfg["datasets"]["cars_plant_poor"]["model"] = "mlp"
    with pytest.raises(cfgmod.ConfigError, match=r"^config key 'datasets.cars_plant_poor.model': .*categorical "
                                                  r"features \(codes\).*plug_in_bayes"):
        cfgmod.validate(cfg, schema)


# ----------------------------------------------------------------------------- through the workflow
def tiny_gauthier(repo_config) -> dict:
    """The study at toy scale (N = 3,000), its atlas with one value per axis."""
    cfg = tiny_config(repo_config)
    for d in DATASETS:
        cfg["datasets"][d].update(n_train=3000, n_val=50, n_test=1000, seeds=2)
    cfg["panels"]["gauthier_planting"]["alphas"] = [0.05, 0.6]
    cfg["panels"]["gauthier_unplanting"]["alphas"] = [0.05, 0.6]
    cfg["atlases"] = {"gauthier": {**copy.deepcopy(repo_config["atlases"]["gauthier"]), "seeds": 2, "axes": {
        "datasets.signal.delta": [0.2], "datasets.n_train": [2000], "panels.gauthier_planting.alphas": [[0.1, 0.6]]}}}
    return json.loads(json.dumps(cfg))


def test_a_tiny_study_builds(tmp_path, repo_config):
    """The panels, claims and figure build at toy scale, every run with a bound."""
    from test_workflow import snakemake

    wd = copy_workflow(tmp_path, tiny_gauthier(repo_config))
    snakemake(wd, "results/claims/gauthier.csv", "figures/gauthier.pdf")
    claims = pd.read_csv(wd / "results/claims/gauthier.csv", comment="#")
    assert list(claims["key"]) == [f"{c}@{p}" for c in ("G1", "G2", "G3")
                                   for p in ("gauthier_planting", "gauthier_unplanting")]
    assert claims["verdict"].notna().all() and not claims["verdict"].isin(["not run"]).any()
    for panel in ("gauthier_planting", "gauthier_unplanting"):
        table = pd.read_csv(wd / f"results/tables/{panel}.csv", comment="#")
        assert len(table) == 4 and table["bound"].notna().all() and (table["bound_n_train"] == 3000).all()
        assert table["learned"].all() and table["xi"].isna().all()
    assert (wd / "figures/gauthier.pdf").stat().st_size > 0


def test_the_atlas_over_delta_n_and_the_grid_resolves(repo_config, tmp_path, monkeypatch):
    """The atlas's variants validate and derive what each changes: delta re-poisons (the signal is part of the
    collective's identity) but shares the data, N prepares its own data, the grid adds a planting panel."""
    from collective_action.planning.atlas import Atlas
    from collective_action.planning.plan import Plan

    monkeypatch.chdir(tmp_path)
    plan = Plan(tiny_gauthier(repo_config), schema_path=str(SCHEMA), atlas=Atlas)
    atlas = plan.atlas("gauthier")
    assert [c.key for c in atlas.claims] == [f"{c}@{p}" for c in ("G1", "G2", "G3")
                                             for p in ("gauthier_planting", "gauthier_unplanting")]
    overrides = [v.variant.overrides for v in atlas.variants]
    assert overrides == [{}, {"datasets.signal.delta": 0.2}, {"datasets.n_train": 2000},
                         {"panels.gauthier_planting.alphas": [0.1, 0.6]}]
    baseline, delta, size, grid = atlas.variants

    def dataset_of(variant, panel="gauthier_planting"):
        return plan.dataset_spec(plan.panel(variant.panels[panel])["dataset"])

    assert baseline.panels == {p: p for p in ("gauthier_planting", "gauthier_unplanting")}  # the study's own runs
    for panel in ("gauthier_planting", "gauthier_unplanting"):
        assert dataset_of(delta, panel)["signal"]["delta"] == 0.2 and dataset_of(size, panel)["n_train"] == 2000
        assert dataset_of(delta, panel)["reuses"]["data"] in DATASETS  # the same draw, new collectives
        assert dataset_of(delta, panel)["reuses"]["poisoned"] not in DATASETS
        assert dataset_of(size, panel)["reuses"]["data"] not in DATASETS  # its own draw
    assert plan.panel(grid.panels["gauthier_planting"])["alphas"] == [0.1, 0.6]
    assert grid.panels["gauthier_unplanting"] == "gauthier_unplanting"  # unchanged: the study's own
