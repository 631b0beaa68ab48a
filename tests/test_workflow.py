"""The Snakemake workflow end to end, on a tiny config in a temporary directory.

These run real Snakemake jobs (a few seconds each), so they share one built
workflow per module where they can.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from collective_action import store

TARGETS = ["figures/fig1a.pdf", "figures/fig1b.pdf", "figures/alpha_eff.pdf", "results/claims/paper.csv",
           "figures/fig5.pdf", "figures/fig7.pdf", "figures/fig8.pdf"]


def snakemake(workdir, *args, check=True, env=None):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def planned_jobs(workdir, *targets, env=None) -> dict[str, int]:
    """Rule -> number of jobs a dry run would execute."""
    out = snakemake(workdir, "-n", *targets, env=env).stdout
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
    from conftest import copy_workflow, tiny_config

    workdir = copy_workflow(tmp_path_factory.mktemp("wf"), tiny_config(repo_config))
    snakemake(workdir, *TARGETS)
    return workdir


def test_build_produces_table_figures_and_claims(built):
    table = pd.read_csv(built / "results/tables/fig1b.csv")
    for column in ["dataset", "algorithm", "alpha", "alpha_val", "seed", "success", "success_all", "accuracy", "alpha_eff"]:
        assert column in table
    assert len(table) == 3 * 2 * 2  # algorithms x alphas x seeds, one stopping rule
    assert table.loc[table.algorithm == "jtt", "alpha_eff"].notna().all()
    assert (built / "figures/fig1b.pdf").read_bytes().startswith(b"%PDF")
    claims = pd.read_csv(built / "results/claims/paper.csv")
    assert {"C1", "C2", "C12", "C13"} <= set(claims.claim)
    assert set(claims.verdict) <= {"reproduced", "not reproduced", "not run", "measured", "inconclusive",
                                   "cannot be decided"}
    # every artifact behind the figure carries provenance
    prov = store.read_sidecar(built / "figures/fig1b.pdf")
    assert prov["inputs"]["table_fig1b"]["sha256"] == store.sha256_file(built / "results/tables/fig1b.csv")
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
    # two alphas of JTT: train (cells shared by the fig1b and learners panels), the evaluation of the one panel the
    # targets read (fig1b: the learners panel is another study's), its table, the paper's claims, which read it,
    # and the two targeted figures that read fig1b's table
    assert jobs == {"train": 2, "evaluate": 1, "table": 1, "claims": 1, "figure": 2}
    assert planned_jobs(built, *TARGETS) == {}


def test_figure_style_reruns_only_that_figure(built):
    edit_config(built, lambda c: c["figures"]["fig1b"].update(marker_size=9))
    try:
        assert planned_jobs(built, *TARGETS) == {"figure": 1}
    finally:
        edit_config(built, lambda c: c["figures"]["fig1b"].pop("marker_size"))


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package that the workflow imports instead of the installed one (PYTHONPATH)."""
    import collective_action

    shutil.copytree(Path(collective_action.__file__).parent, tmp_path / "collective_action",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "collective_action", {**os.environ, "PYTHONPATH": str(tmp_path)}


@pytest.mark.parametrize("module, expected", [
    # JTT's two train jobs, the evaluation and table of the targeted panel with JTT rows (fig1b), the claims, fig1b
    # and alpha_eff
    ("learners/jtt.py", {"train": 2, "evaluate": 1, "table": 1, "claims": 1, "figure": 2}),
    ("figures/panels.py", {"figure": 6}),  # every targeted figure, nothing else
    ("figures/catalog/fig8.py", {"figure": 1}),
])
def test_editing_package_code_reruns_only_what_runs_it(built, package_copy, module, expected):
    pkg, env = package_copy
    assert planned_jobs(built, *TARGETS, env=env) == {}  # the copy is the same code
    with open(pkg / module, "a") as fh:
        fh.write("\n_EDITED_BY_A_TEST = True\n")
    assert planned_jobs(built, *TARGETS, env=env) == expected


def test_k_list_change_reruns_only_what_depends_on_it(built):
    edit_config(built, lambda c: c["datasets"]["lms"].update(ks=[2, 4, 6]))
    try:
        jobs = planned_jobs(built, *TARGETS)
    finally:
        edit_config(built, lambda c: c["datasets"]["lms"].update(ks=[2, 4]))
    # only the new member lms_k6: its data, its cells (fig5b's two alphas and fig8's alpha 0), the evaluations and
    # tables of the two LMS panels, the claims, and the targeted figures that show it: fig8 and fig5 (its table panel,
    # and its k=6 data panel, which now has its own dataset); fig1 and fig7 stay
    assert jobs == {"prepare": 1, "poison": 3, "train": 3, "evaluate": 2, "table": 2, "claims": 1, "figure": 2}
    assert planned_jobs(built, *TARGETS) == {}


def test_same_seed_same_numbers(built):
    """Rebuilding fig1b's chain from scratch gives byte-identical h5 artifacts, tables and PDFs."""
    chain = [p for p in built.rglob("*") if p.suffix in (".h5", ".csv", ".pdf") and
             ("/2d" in str(p) or p.name in ("2d.h5", "fig1b.csv", "fig1b.pdf"))]
    before = {p: store.sha256_file(p) for p in chain}
    snakemake(built, "--forceall", "figures/fig1b.pdf")
    assert {p: store.sha256_file(p) for p in chain} == before


def test_benchmark_floor_trains_every_cell_again_to_the_same_artifact(built):
    """bench_workflow.py --floor trains every run artifact's cell again, alone, in one process: each gives the
    payload the workflow wrote (so its time is the time of the same work)."""
    from conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_workflow
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    totals, differ = bench_workflow.train_floor(built)
    assert differ == []
    assert sum(n for n, _ in totals.values()) == len(list((built / "results" / "runs").glob("*/*/*.h5"))) > 0


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


def test_stopping_rule_change_retrains_nothing(built):
    edit_config(built, lambda c: c["panels"]["fig4_2d"].update(stopping=["last", "max_val_accuracy"]))
    try:
        jobs = planned_jobs(built, *TARGETS, "figures/fig4_2d.pdf")
    finally:
        edit_config(built, lambda c: c["panels"]["fig4_2d"].update(stopping=["max_val_accuracy", "last"]))
    assert "train" not in jobs and "evaluate" not in jobs
    assert jobs == {"table": 1, "claims": 1, "figure": 1}


# ----------------------------------------------------------------------------- audit
def audit(workdir, *targets):
    import contextlib
    import io

    from collective_action import cli

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = cli.main(["audit", *targets, "--directory", str(workdir)])
    return status, buf.getvalue()


@pytest.fixture
def audited_copy(built, tmp_path):
    """A copy of the built workflow to tamper with."""
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def test_clean_build_audits_clean(built, monkeypatch):
    monkeypatch.chdir(built)
    status, out = audit(built, "figures/fig1b.pdf")
    assert status == 0, out
    assert "0 finding(s)" in out and "results/data/2d.h5" in out and "results/runs/2d/jtt/a0.05_v0.0.h5" in out


def test_audit_finds_a_tampered_h5_artifact(audited_copy, monkeypatch):
    import h5py

    monkeypatch.chdir(audited_copy)
    with h5py.File("results/metrics/fig1b.h5", "r+") as f:
        f["2d/erm/a0.4_v0.0/epoch/val_accuracy"][0, 0] = 0.5
    status, out = audit(audited_copy, "figures/fig1b.pdf")
    assert status == 1
    assert re.search(r"results/metrics/fig1b.h5: checksum: .*payload checksum mismatch", out)
    # the table that read it still has the old checksum recorded for it
    assert re.search(r"results/tables/fig1b.csv: inputs: results/metrics/fig1b.h5 changed", out)


def test_audit_finds_an_edited_table(audited_copy, monkeypatch):
    monkeypatch.chdir(audited_copy)
    table = audited_copy / "results/tables/fig1b.csv"
    table.write_text(table.read_text().replace("erm", "ERM", 1))
    status, out = audit(audited_copy, "figures/fig1b.pdf")
    assert status == 1 and "results/tables/fig1b.csv: checksum: sha256" in out
    assert "figures/fig1b.pdf: inputs: results/tables/fig1b.csv changed" in out


def test_audit_finds_a_changed_config_value(audited_copy, monkeypatch):
    monkeypatch.chdir(audited_copy)
    edit_config(audited_copy, lambda c: c["algorithms"]["jtt"].update(upweight=7))
    status, out = audit(audited_copy, "figures/fig1b.pdf")
    assert status == 1
    assert re.search(r"results/runs/2d/jtt/a0.05_v0.0.h5: config: stale: hyperparameters.upweight: recorded 20", out)
    assert "results/runs/2d/erm/a0.05_v0.0.h5: config" not in out  # ERM's slice did not change


def test_audit_finds_a_deleted_input(audited_copy, monkeypatch):
    monkeypatch.chdir(audited_copy)
    (audited_copy / "results/poisoned/2d/a0.05_v0.0.h5").unlink()
    status, out = audit(audited_copy, "figures/fig1b.pdf")
    assert status == 1
    assert "results/runs/2d/erm/a0.05_v0.0.h5: inputs: results/poisoned/2d/a0.05_v0.0.h5 missing" in out
    assert "results/poisoned/2d/a0.05_v0.0.h5: exists: missing" in out


def test_audit_is_a_snakemake_target(built):
    proc = snakemake(built, "audit", check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = (built / "logs/audit.log").read_text() + proc.stdout + proc.stderr
    assert "0 finding(s)" in out
    # the tiny build made only part of the default target: the rest is listed, not a finding
    assert re.search(r"target\(s\) not built yet, not audited: .*figures/fig3_2d.pdf", out)


def test_report_has_figures_tables_and_captions(built, tmp_path):
    report = tmp_path / "report.html"
    # the tiny build made TARGETS, not the whole default target: report on what was built
    snakemake(built, "--report", str(report), *TARGETS)
    html = report.read_text()
    # snakemake embeds the results; the captions name the scale and data of each
    assert "fig1b.pdf" in html and "fig1b.csv" in html and "paper.csv" in html  # results/claims/paper.csv
    assert "the paper&#39;s scale" in html or "the paper's scale" in html or "paper\\u0027s scale" in html


# ----------------------------------------------------------------------------- faults
def test_killed_training_restarts_and_completes(workflow_dir):
    import os
    import signal
    import time

    edit_config(workflow_dir, lambda c: c["training"].update(epochs=2000))
    target = "results/runs/2d/lff/a0.05_v0.0.h5"
    log = workflow_dir / "logs/train/2d/lff/a0.05_v0.0.log"
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", target], cwd=workflow_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (log.exists() and "rule train:" in log.read_text()):
            time.sleep(0.2)
        assert log.exists(), "training never started"
        time.sleep(2)  # well inside the 2000 epochs
        assert proc.poll() is None, "training finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and the training process, mid-training
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = workflow_dir / target
    assert not out.exists(), "a killed job left its output"
    edit_config(workflow_dir, lambda c: c["training"].update(epochs=3))
    # what a user does after a hard kill (docs/faults.md, 'Faults and restarts'): unlock, then rerun
    snakemake(workflow_dir, "--unlock")
    snakemake(workflow_dir, "--rerun-incomplete", target)
    run = store.read_h5(out)  # complete and verified
    assert run["pred/val"].shape[0] == 3  # validation predictions after each of the 3 epochs
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "temporary files left behind"
