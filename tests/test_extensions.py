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
