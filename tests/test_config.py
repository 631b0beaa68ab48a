import copy
from types import SimpleNamespace

import pytest

from collective_action.configuration import validation as cfgmod
from collective_action.planning import captions
from collective_action.planning.paths import fmt_alpha
from collective_action.planning.plan import Plan
from collective_action.steps.jobs import Jobs
from conftest import REPO, SCHEMA


def _plan(cfg):
    return Plan(cfg, schema_path=str(SCHEMA))


def test_repository_config_is_valid(repo_config):
    plan = _plan(repo_config)
    targets = plan.default_targets()
    assert "figures/fig1b.pdf" in targets and "results/claims/paper.csv" in targets


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c.update(colour="red"), "colour"),
        (lambda c: c["training"].update(lrr=0.1), "training.lrr"),
        (lambda c: c["panels"]["fig1b"].update(dataset="nope"), "panels.fig1b.dataset"),
        (lambda c: c["panels"]["fig1b"].update(algorithms=["erm", "svm"]), "panels.fig1b.algorithms[1]"),
        (lambda c: c["panels"]["fig1b"].update(alphas=[0.1, 1.0]), "panels.fig1b.alphas[1]"),
        (lambda c: c["panels"]["fig1b"].update(alphas=[-0.1]), "panels.fig1b.alphas[0]"),
        (lambda c: c.update(seeds=-3), "seeds"),
        (lambda c: c["datasets"]["2d"].update(model="resnet"), "datasets.2d.model"),
        (lambda c: c["algorithms"].update(svm={}), "algorithms.svm.learner"),
    ],
)
def test_bad_config_names_the_key(repo_config, mutate, key):
    cfg = copy.deepcopy(repo_config)
    mutate(cfg)
    with pytest.raises(cfgmod.ConfigError) as err:
        _plan(cfg)
    assert str(err.value).startswith(f"config key '{key}'")


def train_params(plan, dataset, algorithm, alpha, alpha_val):
    wc = SimpleNamespace(dataset=dataset, algorithm=algorithm, alpha=alpha, alpha_val=alpha_val)
    return Jobs(plan)["train"].params(wc)


def test_train_params_change_only_for_the_changed_algorithm(repo_config):
    base = _plan(repo_config)
    cfg = copy.deepcopy(repo_config)
    cfg["algorithms"]["jtt"]["upweight"] = 7
    changed = _plan(cfg)
    assert train_params(base, "2d", "jtt", "0.1", "0.0") != train_params(changed, "2d", "jtt", "0.1", "0.0")
    for algo in ("erm", "lff"):
        assert train_params(base, "2d", algo, "0.1", "0.0") == train_params(changed, "2d", algo, "0.1", "0.0")


def test_dataset_overrides_merge_over_defaults(repo_config):
    cfg = copy.deepcopy(repo_config)
    cfg["datasets"]["2d"]["training"] = {"epochs": 3}
    cfg["datasets"]["2d"]["algorithms"] = {"jtt": {"upweight": 5}}
    params = train_params(_plan(cfg), "2d", "jtt", "0.1", "0.0")
    assert params["training"]["epochs"] == 3 and params["training"]["lr"] == repo_config["training"]["lr"]
    assert params["hyperparameters"] == {**repo_config["algorithms"]["jtt"], "upweight": 5}


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.001, 1e-5, 0.35, 0.123456789])
def test_alpha_paths_round_trip(alpha):
    assert float(fmt_alpha(alpha)) == alpha
    assert fmt_alpha(float(fmt_alpha(alpha))) == fmt_alpha(alpha)


def test_report_captions_are_clean_restructuredtext(repo_config):
    """Snakemake renders captions as RST: text like -|x2| must not turn into markup or errors."""
    from docutils.core import publish_parts
    from docutils.writers.html4css1 import Writer

    from collective_action.figures.catalog import FIGURES

    plan = _plan(repo_config)
    texts = [captions.figure(plan, f) for f in FIGURES]
    texts += [captions.table(plan, p) for p in repo_config["panels"]]
    for caption in texts:
        html = publish_parts(caption, writer=Writer(),
                             settings_overrides={"report_level": 2, "halt_level": 5})["body"]
        assert "system-message" not in html, caption
    fig5a = captions.figure(plan, "fig5a")
    assert "-|x2|" in publish_parts(fig5a, writer=Writer())["body"]


def test_a_validated_config_is_remembered_and_any_change_is_checked_again(repo_config, tmp_path, monkeypatch):
    """A no-op dry run skips the schema check of a config that passed it (a marker named by the hashes of config
    and schema, in the working directory's .snakemake); a changed config is checked again."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".snakemake").mkdir()
    _plan(copy.deepcopy(repo_config))
    assert len(list((tmp_path / cfgmod.VALIDATED_DIR).iterdir())) == 1
    _plan(copy.deepcopy(repo_config))  # the same config: the marker is reused
    assert len(list((tmp_path / cfgmod.VALIDATED_DIR).iterdir())) == 1
    bad = copy.deepcopy(repo_config)
    bad["panels"]["fig1b"].update(alphas=[0.1, 1.0])
    with pytest.raises(cfgmod.ConfigError, match="panels.fig1b.alphas"):
        _plan(bad)
    assert len(list((tmp_path / cfgmod.VALIDATED_DIR).iterdir())) == 1  # nothing remembered for a failure


def test_the_checks_run_again_when_a_module_they_read_changes(tmp_path, repo_config):
    """The 'this config passed' marker is keyed by the code hashes of every module the checks import (collective.py
    gives the second collective's size): after an upgrade that changes one, the checks run again."""
    import shutil

    from conftest import copy_workflow, package_copy, tiny_config
    from test_workflow import snakemake

    env = package_copy(tmp_path / "pkg")
    wd = copy_workflow(tmp_path / "wf", tiny_config(repo_config))
    shutil.copytree(REPO / "profiles", wd / "profiles")
    markers = wd / cfgmod.VALIDATED_DIR
    snakemake(wd, "-n", env=env)  # makes .snakemake, where the marker is kept from then on
    snakemake(wd, "-n", env=env)
    first = set(markers.iterdir())
    snakemake(wd, "-n", env=env)
    assert set(markers.iterdir()) == first  # unchanged code and config: remembered
    module = tmp_path / "pkg" / "src" / "collective_action" / "collective.py"
    module.write_text(module.read_text() + "\n# an upgrade\n")
    snakemake(wd, "-n", env=env)
    assert len(set(markers.iterdir()) - first) == 1  # checked again under the new code
