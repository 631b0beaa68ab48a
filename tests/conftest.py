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
    """config.yaml with its study files, as the Snakefile composes them (study_files then empty: a test writes the
    whole config into its own config.yaml)."""
    from collective_action.configuration.studies import compose

    config = compose(REPO / "config.yaml")
    config["study_files"] = []
    return config


def tiny_config(base: dict) -> dict:
    """The default config at toy scale: 2 seeds, 2 alphas, a few epochs, small sets."""
    cfg = copy.deepcopy(base)
    for name in cfg.pop("atlases", None) or {}:  # the atlases have tests of their own (tests/test_atlas.py)
        cfg["figures"].pop(f"atlas_{name}", None)
        cfg["figures"].pop(f"atlas_{name}_curve", None)
    cfg["study_files"] = []
    cfg["seeds"] = 2
    cfg["training"]["epochs"] = 3
    for spec in cfg["datasets"].values():
        spec.update(n_train=300, n_val=100, n_test=300)
        spec.pop("training", None)
        if "ks" in spec:
            spec["ks"] = [2, 4]
    cfg["algorithms"]["jtt"]["identification_epochs"] = 1
    for name, panel in cfg["panels"].items():
        panel["alphas"] = {"fig8": [0.0], "fig4_2d": [0.001, 0.1]}.get(name, [0.05, 0.4])
        if len(panel["alpha_vals"]) > 1:
            panel["alpha_vals"] = [0.0, 1.0]
        if panel.get("per_epoch_alphas"):
            panel["per_epoch_alphas"] = [0.4]
    return cfg


def copy_workflow(dest: Path, config: dict | None = None) -> Path:
    """The repository's Snakefile and workflow/ (rules, schema) in ``dest``, with ``config`` as its config.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    shutil.copytree(REPO / "workflow", dest / "workflow")
    shutil.copytree(REPO / "studies", dest / "studies")
    if config is not None:
        (dest / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


@pytest.fixture
def workflow_dir(tmp_path, repo_config):
    """A copy of the workflow with a tiny config.yaml."""
    return copy_workflow(tmp_path, tiny_config(repo_config))


def package_copy(dest: Path, add: dict[str, Path] | None = None) -> dict[str, str]:
    """A copy of the package under ``dest``/src, with files added (package-relative path -> file), and the
    environment that runs it in place of the installed one: an extension as a user adds it, one file, without
    touching the repository's own package."""
    import os

    src = dest / "src"
    shutil.copytree(REPO / "src" / "collective_action", src / "collective_action",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for rel, file in (add or {}).items():
        shutil.copy(file, src / "collective_action" / rel)
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def narrow_study(cfg: dict, study: str, panels: list[str]) -> dict:
    """``study`` builds only ``panels``; its other panels go to a study of their own ('rest'), so that building
    the study's claims builds just these panels."""
    own = cfg["studies"][study]
    rest = [p for p in own["panels"] if p not in panels]
    own["panels"] = list(panels)
    own["reads"] = [p for p in own.get("reads", []) if p not in rest]
    if rest:
        cfg["studies"]["rest"] = {"title": "the rest", "source": "tests", "panels": rest}
    return cfg
