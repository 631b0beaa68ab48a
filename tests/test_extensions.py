"""Extending the workflow is one file plus config (CONTRIBUTING.md), tried as a user does it: the file dropped into
a copy of the package, the workflow run on it."""
from __future__ import annotations

from conftest import REPO, copy_workflow, package_copy, tiny_config
from test_workflow import snakemake

EXTENSIONS = REPO / "tests" / "extensions"


def test_a_new_step_is_one_module_and_one_rule(tmp_path, repo_config):
    """steps/row_count.py and its rule: the registry finds it, the paths know its artifact, the runner and the warm
    worker run it; nothing else in the package changes."""
    env = package_copy(tmp_path / "pkg", {"steps/row_count.py": EXTENSIONS / "row_count.py"})
    wd = copy_workflow(tmp_path / "wf", tiny_config(repo_config))
    with open(wd / "workflow" / "rules" / "reporting.smk", "a") as fh:
        fh.write((EXTENSIONS / "row_count.smk").read_text())
    snakemake(wd, "results/tables/fig8.rows.txt", env=env)
    text = (wd / "results/tables/fig8.rows.txt").read_text()
    assert text.startswith("fig8: ") and int(text.split()[1]) > 0
    assert "rule row_count" in (wd / "logs/row_count/fig8.log").read_text()


def test_a_new_model_kind_is_one_module_and_config(tmp_path, repo_config):
    """models/quadratic.py and a `models:` entry: the schema takes its keys (and refuses others), the config checks
    know what data it takes, and a tiny panel trains with it."""
    import pandas as pd
    import yaml

    env = package_copy(tmp_path / "pkg", {"models/quadratic.py": EXTENSIONS / "quadratic.py"})
    cfg = tiny_config(repo_config)
    cfg["models"]["quad"] = {"kind": "quadratic", "squares": True}
    cfg["datasets"]["2d"]["model"] = "quad"
    cfg["training"].update(lr=0.05, epochs=10)  # a linear layer needs more than the tiny config's 3 epochs
    wd = copy_workflow(tmp_path / "wf", cfg)
    snakemake(wd, "results/tables/fig1b.csv", env=env)
    table = pd.read_csv(wd / "results/tables/fig1b.csv", comment="#")
    erm = table[table["algorithm"] == "erm"]
    assert len(table) == 12 and erm["learned"].all() and erm["accuracy"].mean() > 0.8
    cfg["models"]["quad"]["hidden"] = [4]  # a key of another kind
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = snakemake(wd, "-n", "results/tables/fig1b.csv", env=env, check=False)
    assert proc.returncode != 0 and "config key 'models.quad.hidden': unknown key" in proc.stdout + proc.stderr


def test_a_new_study_is_one_file_and_its_path(tmp_path, repo_config):
    """studies/my_study.yaml and its path in study_files: the Snakefile loads it after config.yaml, its panel builds,
    its claims are its own file; a study file that redefines a key of another is one error naming both files."""
    import shutil

    import yaml

    cfg = tiny_config(repo_config)
    wd = copy_workflow(tmp_path / "wf", cfg)
    shutil.copy(EXTENSIONS / "my_study.yaml", wd / "studies" / "my_study.yaml")
    cfg["study_files"] = ["studies/my_study.yaml"]
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    snakemake(wd, "results/claims/my_study.csv")
    assert (wd / "results/tables/my_panel.csv").exists()
    assert "A study of the tests" in (wd / "results/claims/my_study.md").read_text()
    clash = yaml.safe_load((EXTENSIONS / "my_study.yaml").read_text())
    clash["panels"]["fig1b"] = clash["panels"].pop("my_panel")  # fig1b is config.yaml's here
    clash["studies"]["my_study"]["panels"] = ["fig1b"]
    (wd / "studies" / "my_study.yaml").write_text(yaml.safe_dump(clash))
    proc = snakemake(wd, "-n", "results/claims/my_study.csv", check=False)
    assert proc.returncode != 0
    assert "config key 'panels.fig1b': defined by both config.yaml and studies/my_study.yaml" in proc.stdout + proc.stderr
