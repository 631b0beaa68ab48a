"""Shared fixtures: the repository's own config, shrunk to a tiny workflow."""
from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def repo_config() -> dict:
    with open(REPO / "config.yaml") as fh:
        return yaml.safe_load(fh)


def tiny_config(base: dict) -> dict:
    """The default config at toy scale: 2 seeds, 2 alphas, a few epochs, small sets."""
    cfg = copy.deepcopy(base)
    cfg["seeds"] = 2
    cfg["training"]["epochs"] = 3
    cfg["datasets"]["2d"].update(n_train=300, n_val=100, n_test=300)
    cfg["algorithms"]["jtt"]["identification_epochs"] = 1
    cfg["panels"]["fig1b"]["alphas"] = [0.05, 0.4]
    return cfg


@pytest.fixture
def workflow_dir(tmp_path, repo_config):
    """A copy of the workflow (Snakefile, rules, schema) with a tiny config.yaml."""
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(tiny_config(repo_config), sort_keys=False))
    return tmp_path
