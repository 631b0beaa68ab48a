"""The robustness atlases: variants from the config, shared artifacts, bad input named before any job, a tiny
atlas built end to end, and two atlases in one working directory."""
from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from collective_action import store
from collective_action.configuration import validation as cfgmod
from collective_action.planning import atlas
from collective_action.planning.plan import Plan
from conftest import SCHEMA, copy_workflow, tiny_config
from test_workflow import edit_config, planned_jobs, snakemake

TARGETS = ["results/atlas/tiny/summary.csv", "figures/atlas_tiny.pdf", "figures/atlas_tiny_curve.pdf"]


def atlas_config(base: dict, **robust) -> dict:
    cfg = tiny_config(base)
    cfg["atlases"] = {"tiny": {"claims": ["C1", "C6", "C14"], "seeds": None,
                               "axes": {"algorithms.jtt.upweight": [5], "training.epochs": [2]},
                               "joint": {"n": 2, "seed": 0}, **robust}}
    return cfg


def _plan(cfg) -> Plan:
    return Plan(cfg, schema_path=str(SCHEMA), atlas=atlas.Atlas)


def test_variants_are_the_baseline_each_value_and_distinct_joint_draws(repo_config):
    cfg = atlas_config(repo_config, axes={"algorithms.jtt.upweight": [5, 100], "training.epochs": [2]},
                       joint={"n": 20, "seed": 3})
    variants = atlas.variants(cfg, "tiny", ["2d"])
    assert variants[0].id == "baseline" and variants[0].overrides == {}
    axis = [v for v in variants if v.kind == "axis"]
    assert [v.overrides for v in axis] == [{"algorithms.jtt.upweight": 5}, {"algorithms.jtt.upweight": 100},
                                           {"training.epochs": 2}]
    ids = [v.id for v in variants]
    assert len(ids) == len(set(ids))  # duplicates (and draws equal to the baseline or an axis value) dropped
    assert all(v.id == atlas.variant_id(v.overrides) for v in variants)
    assert atlas.variant_id({"training.epochs": 2}) == atlas.variant_id({"training.epochs": 2})
    assert [v.id for v in atlas.variants(cfg, "tiny", ["2d"])] == ids  # the same draws every time
    assert len([v for v in variants if v.kind == "joint"]) <= 20 - 1


def test_a_dataset_level_key_sets_every_dataset_the_claims_read(repo_config):
    cfg = atlas_config(repo_config, claims=["C1", "C8"], axes={"datasets.n_train": [200]}, joint={"n": 0})
    merged = atlas.merged_config(cfg, {"datasets.n_train": 200}, ["2d", "lms"], None, "tiny")
    assert merged["datasets"]["2d"]["n_train"] == 200 and merged["datasets"]["lms"]["n_train"] == 200
    assert merged["datasets"]["strips"]["n_train"] == cfg["datasets"]["strips"]["n_train"]  # not read by C1, C8
    assert "atlases" not in merged


@pytest.mark.parametrize("robust, key", [
    ({"axes": {"training.epochz": [3]}}, "atlases.tiny.axes.training.epochz[0]"),           # unknown key
    ({"axes": {"training.epochs": [5, 0]}}, "atlases.tiny.axes.training.epochs[1]"),       # the schema refuses 0
    ({"axes": {"algorithms.jtt.upweight": [20]}}, "atlases.tiny.axes.algorithms.jtt.upweight[0]"),  # the baseline's
    ({"axes": {"base_seed": [1]}}, "atlases.tiny.axes.base_seed"),                           # not a choice
    ({"axes": {"algorithms.dp_sgd_eps1.clip_norm": [2.0]}}, "atlases.tiny.axes.algorithms.dp_sgd_eps1.clip_norm[0]"),
    ({"claims": ["C1", "C99"]}, "atlases.tiny.claims[1]"),                                  # no such claim
    ({"claims": ["C6@fig1b"]}, "atlases.tiny.claims[0]"),                                   # no such instance
])
def test_bad_atlas_input_is_one_error_naming_the_axis(repo_config, robust, key):
    """Checked when the atlas is built (its targets asked for), before any job; the config itself stays usable."""
    cfg = atlas_config(repo_config, **robust)
    with pytest.raises(cfgmod.ConfigError) as err:
        _plan(cfg).atlas("tiny")
    assert str(err.value).startswith(f"config key '{key}'"), str(err.value)


def test_a_variant_is_validated_like_the_config_with_the_key_named(repo_config):
    cfg = atlas_config(repo_config, axes={"algorithms.jtt.upweight": [-5]})
    with pytest.raises(cfgmod.ConfigError) as err:
        _plan(cfg).atlas("tiny")
    text = str(err.value)
    assert text.startswith("config key 'atlases.tiny.axes.algorithms.jtt.upweight[0]': -5 makes the config invalid, "
                           "at 'algorithms.jtt.upweight': -5 is out of range: must be >= 1"), text


def test_every_atlas_of_the_repository_plans(repo_config):
    """The atlases the studies define (with their figures' styles, which a variant's config leaves out with the
    atlases themselves) derive their variants and pass their checks."""
    plan = _plan(repo_config)
    assert repo_config["atlases"]
    for name in repo_config["atlases"]:
        assert plan.atlas(name).by_id["baseline"]


def test_derived_entries_share_what_the_variant_does_not_change(repo_config):
    plan = _plan(atlas_config(repo_config, axes={"algorithms.jtt.upweight": [5], "datasets.n_train": [200]}))
    tiny = plan.atlas("tiny")
    jtt = tiny.by_id[atlas.variant_id({"algorithms.jtt.upweight": 5})].panels["fig1b"]
    algorithms = plan.panel(jtt)["algorithms"]
    assert plan.panel(jtt)["dataset"] == "2d" and algorithms[0] == "erm" and algorithms[2] == "lff"
    assert algorithms[1].startswith("jtt__") and plan.hyperparameters("2d", algorithms[1])["upweight"] == 5
    small = tiny.by_id[atlas.variant_id({"datasets.n_train": 200})].panels["fig1b"]
    dataset = plan.panel(small)["dataset"]
    assert dataset.startswith("2d__") and plan.dataset_spec(dataset)["n_train"] == 200
    assert plan.reuses(dataset, "data") != "2d" and plan.reuses(dataset, "poisoned") != "2d"
    assert plan.reuses(dataset, "streams") == "2d"
    assert tiny.by_id["baseline"].panels["fig1b"] == "fig1b"  # the config's seeds: the default run itself


def test_fewer_seeds_share_the_data_and_the_collectives(repo_config):
    plan = _plan(atlas_config(repo_config, seeds=1))
    base = plan.panel(plan.atlas("tiny").by_id["baseline"].panels["fig1b"])["dataset"]
    assert base.startswith("2d__") and plan.seeds(base) == [0]
    assert plan.reuses(base, "data") == "2d" and plan.reuses(base, "poisoned") == "2d"  # one seed of the two-seed files


def test_a_bad_axis_stops_the_atlas_before_any_job_and_writes_nothing(workflow_dir, repo_config):
    cfg = atlas_config(repo_config, axes={"training.epochs": [0]})
    (workflow_dir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = snakemake(workflow_dir, *TARGETS, check=False)
    assert proc.returncode != 0
    assert "config key 'atlases.tiny.axes.training.epochs[0]': 0 makes the config invalid" in proc.stdout + proc.stderr
    assert not (workflow_dir / "results").exists()
    assert planned_jobs(workflow_dir, "figures/fig1b.pdf")  # the default targets are not held up by the atlas


@pytest.fixture(scope="module")
def atlas_dir(tmp_path_factory, repo_config):
    """The tiny workflow with a tiny atlas, its default figures built first."""
    workdir = tmp_path_factory.mktemp("atlas")
    copy_workflow(workdir, atlas_config(repo_config))
    snakemake(workdir, "figures/fig1b.pdf", "figures/fig4_2d.pdf")
    return workdir


def test_a_learner_axis_trains_only_that_learner_and_a_data_axis_everything(atlas_dir):
    """At the config's seeds the atlas's baseline is the default run: with fig1b and fig4_2d built, a variant of
    JTT's upweight trains JTT's two cells and nothing else; one of n_train prepares its data and trains all."""
    cfg_path = atlas_dir / "config.yaml"
    original = cfg_path.read_text()
    try:
        cfg = yaml.safe_load(original)
        cfg["atlases"]["tiny"].update(axes={"algorithms.jtt.upweight": [5]}, joint={"n": 0})
        cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        jobs = planned_jobs(atlas_dir, "results/atlas/tiny/summary.csv")
        assert jobs["train"] == 2 and "prepare" not in jobs and "poison" not in jobs, jobs
        assert jobs["atlas_claims"] == 2  # the baseline and the variant
        cfg["atlases"]["tiny"].update(axes={"datasets.n_train": [200]})
        cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        jobs = planned_jobs(atlas_dir, "results/atlas/tiny/summary.csv")
        # fig1b: 3 algorithms x 2 alphas; fig4_2d: 2 algorithms x 2 alphas x 2 alpha_vals (shared cells: none)
        assert jobs["prepare"] == 1 and jobs["train"] == 6 + 8, jobs
    finally:
        cfg_path.write_text(original)


def test_a_tiny_atlas_builds_end_to_end(atlas_dir):
    snakemake(atlas_dir, *TARGETS)
    rows = store.read_table(atlas_dir / "results/atlas/tiny/summary.csv")
    plan = _plan(yaml.safe_load((atlas_dir / "config.yaml").read_text()))
    ids = [vp.variant.id for vp in plan.atlas("tiny").variants]
    assert set(rows["variant"]) == set(ids) and ids[0] == "baseline"
    assert set(rows["key"]) == {"C1@fig1b", "C6@fig4_2d", "C14@fig1b"}
    assert len(rows) == 3 * len(ids)
    upweight = rows[rows["variant"] == atlas.variant_id({"algorithms.jtt.upweight": 5})].set_index("key")
    assert bool(upweight.loc["C1@fig1b", "affected"]) and not bool(upweight.loc["C6@fig4_2d", "affected"])
    assert upweight.loc["C1@fig1b", "train_cells_new"] == 2
    base = rows[rows["variant"] == "baseline"].set_index("key")
    claims = pd.read_csv(atlas_dir / "results/claims/paper.csv").set_index("key") \
        if (atlas_dir / "results/claims/paper.csv").exists() else None
    if claims is not None:  # the atlas's baseline is the default run: the same verdicts as claims.csv
        assert base.loc["C1@fig1b", "verdict"] == claims.loc["C1@fig1b", "verdict"]
    md = (atlas_dir / "results/atlas/tiny/summary.md").read_text()
    assert "| C1@fig1b |" in md and "holds in" in md
    for figure in ("atlas_tiny", "atlas_tiny_curve"):
        assert (atlas_dir / f"figures/{figure}.pdf").read_bytes().startswith(b"%PDF")
    assert planned_jobs(atlas_dir, *TARGETS) == {}


def test_two_atlases_live_in_one_working_directory(atlas_dir):
    """A second atlas beside the first: its own summary under results/atlas/<name>/, the runs they agree on shared
    (derived names are hashes of what they hold), and the first atlas's outputs untouched."""
    snakemake(atlas_dir, *TARGETS)
    before = (atlas_dir / "results/atlas/tiny/summary.csv").read_bytes()
    original = (atlas_dir / "config.yaml").read_text()
    try:
        edit_config(atlas_dir, lambda c: c["atlases"].update(
            other={"claims": ["C1"], "seeds": None, "axes": {"algorithms.jtt.upweight": [5]}, "joint": {"n": 0}}))
        jobs = planned_jobs(atlas_dir, "results/atlas/other/summary.csv")
        assert "train" not in jobs, jobs  # its one variant is one of the first atlas's
        snakemake(atlas_dir, "results/atlas/other/summary.csv", "figures/atlas_other.pdf")
        rows = store.read_table(atlas_dir / "results/atlas/other/summary.csv")
        assert set(rows["key"]) == {"C1@fig1b"} and len(rows) == 2
        assert (atlas_dir / "results/atlas/tiny/summary.csv").read_bytes() == before
        assert planned_jobs(atlas_dir, *TARGETS) == {}
    finally:
        (atlas_dir / "config.yaml").write_text(original)


def test_the_audit_walks_the_atlas(atlas_dir):
    from collective_action.steps import audit
    from collective_action.steps.jobs import Jobs

    cfg = yaml.safe_load((atlas_dir / "config.yaml").read_text())
    entries, _ = audit.audit(["results/atlas/tiny/summary.csv"], Jobs(_plan(copy.deepcopy(cfg))), root=atlas_dir)
    assert not [f for e in entries for f in e.findings], audit.format_table(entries)
    assert any(e.path.startswith("results/runs/2d/jtt__") for e in entries)
