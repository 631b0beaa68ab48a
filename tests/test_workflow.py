"""The Snakemake workflow end to end, on a tiny config in a temporary directory.

These run real Snakemake jobs (a few seconds each), so they share one built
workflow per module where they can.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from collective_action import store

TARGETS = ["figures/fig1a.pdf", "figures/fig1b.pdf", "figures/alpha_eff.pdf", "results/claims.csv"]


def snakemake(workdir, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def planned_jobs(workdir, *targets) -> dict[str, int]:
    """Rule -> number of jobs a dry run would execute."""
    out = snakemake(workdir, "-n", *targets).stdout
    if "Nothing to be done" in out:
        return {}
    stats = out.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M)}


def edit_config(workdir, edit):
    path = workdir / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    edit(cfg)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.fixture(scope="module")
def built(tmp_path_factory, repo_config):
    """The tiny workflow, built once for the module."""
    from conftest import REPO, tiny_config

    workdir = tmp_path_factory.mktemp("wf")
    shutil.copy(REPO / "Snakefile", workdir / "Snakefile")
    shutil.copytree(REPO / "workflow", workdir / "workflow")
    (workdir / "config.yaml").write_text(yaml.safe_dump(tiny_config(repo_config), sort_keys=False))
    snakemake(workdir, *TARGETS)
    return workdir


def test_build_produces_table_figures_and_claims(built):
    table = pd.read_csv(built / "results/tables/fig1b.csv")
    for column in ["dataset", "algorithm", "alpha", "alpha_val", "seed", "success", "success_all", "accuracy", "alpha_eff"]:
        assert column in table
    assert len(table) == 3 * 2 * 2  # algorithms x alphas x seeds, one stopping rule
    assert table.loc[table.algorithm == "jtt", "alpha_eff"].notna().all()
    assert (built / "figures/fig1b.pdf").read_bytes().startswith(b"%PDF")
    claims = pd.read_csv(built / "results/claims.csv")
    assert {"C1", "C2", "C12", "C13"} <= set(claims.claim)
    assert set(claims.verdict) <= {"reproduced", "not reproduced", "not run"}
    # every artifact behind the figure carries provenance
    prov = store.read_sidecar(built / "figures/fig1b.pdf")
    assert prov["inputs"]["table"]["sha256"] == store.sha256_file(built / "results/tables/fig1b.csv")
    run = store.read_h5(built / "results/runs/2d/jtt/a0.05_v0.0.h5")
    assert run.provenance["config"]["hyperparameters"]["upweight"] == 20
    assert run.provenance["seeds"] == [0, 1] and run.provenance["code_version"] == store.code_version()
    assert set(run.provenance["inputs"]) == {"data", "poisoned"}


def test_second_call_does_nothing(built):
    assert planned_jobs(built, *TARGETS) == {}


def test_algorithm_hyperparameter_reruns_only_that_algorithm(built):
    edit_config(built, lambda c: c["algorithms"]["jtt"].update(upweight=7))
    try:
        jobs = planned_jobs(built, *TARGETS)
    finally:
        edit_config(built, lambda c: c["algorithms"]["jtt"].update(upweight=20))
    # two alphas of JTT: train + evaluate; the table, the claims and the two figures that read the table
    assert jobs == {"train": 2, "evaluate": 2, "table": 1, "claims": 1, "figure": 2}
    assert planned_jobs(built, *TARGETS) == {}


def test_figure_style_reruns_only_that_figure(built):
    edit_config(built, lambda c: c["figures"]["fig1b"].update(marker_size=9))
    try:
        assert planned_jobs(built, *TARGETS) == {"figure": 1}
    finally:
        edit_config(built, lambda c: c["figures"]["fig1b"].pop("marker_size"))


def test_same_seed_same_numbers(built, tmp_path):
    """Rebuilding everything from scratch gives byte-identical h5 artifacts and tables."""
    before = {p.relative_to(built): store.sha256_file(p) for p in built.rglob("*")
              if p.suffix in (".h5", ".csv", ".pdf")}
    snakemake(built, "--forceall", *TARGETS)
    after = {p.relative_to(built): store.sha256_file(p) for p in built.rglob("*")
             if p.suffix in (".h5", ".csv", ".pdf")}
    assert before == after


def test_bad_config_fails_before_any_job(workflow_dir):
    edit_config(workflow_dir, lambda c: c["panels"]["fig1b"].update(alphas=[0.1, 1.5]))
    proc = snakemake(workflow_dir, "figures/fig1b.pdf", check=False)
    assert proc.returncode != 0
    assert "config key 'panels.fig1b.alphas[1]'" in proc.stderr + proc.stdout
    assert not (workflow_dir / "results").exists()


def test_corrupt_input_is_named_and_leaves_no_output(workflow_dir):
    snakemake(workflow_dir, "results/data/2d.h5")
    data = workflow_dir / "results/data/2d.h5"
    content = data.read_bytes()
    data.write_bytes(content[: len(content) // 3])
    target = "results/poisoned/2d/a0.05_v0.0.h5"
    proc = snakemake(workflow_dir, target, check=False)
    assert proc.returncode != 0
    log = (workflow_dir / "logs/poison/2d/a0.05_v0.0.log").read_text()
    assert "results/data/2d.h5: corrupt or truncated h5 file" in log
    assert not (workflow_dir / target).exists()
    assert not list((workflow_dir / "results/poisoned/2d").glob(".*tmp"))
