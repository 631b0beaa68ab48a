"""The SLURM profile against a real single-node SLURM (munge, slurmctld, slurmd from Debian).

Brought up by scripts/slurm-local.sh as root; where that is impossible (not root, no
apt-get) the test says why and skips. It never fakes a cluster.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, copy_workflow, narrow_study, tiny_config

SCRIPT = REPO / "scripts" / "slurm-local.sh"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("a local SLURM needs root (SlurmUser=root, munge); not root here")
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        pytest.skip("SLURM is not installed and there is no apt-get to install it")
    state = tmp_path_factory.mktemp("slurm")
    up = subprocess.run([str(SCRIPT), "up", str(state)], capture_output=True, text=True, timeout=900)
    if up.returncode == 3:
        pytest.skip(up.stderr.strip())
    try:
        assert up.returncode == 0, f"SLURM did not start:\n{up.stdout}\n{up.stderr}"
        yield state
    finally:
        subprocess.run([str(SCRIPT), "down", str(state)], capture_output=True, timeout=120)


def test_tiny_workflow_runs_as_slurm_jobs(cluster, tmp_path, repo_config):
    cfg = tiny_config(repo_config)
    narrow_study(cfg, "paper", ["fig1b"])
    work = copy_workflow(tmp_path / "wf", cfg)
    env = dict(os.environ, SLURM_CONF=str(cluster / "slurm.conf"))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "figures/fig1b.pdf", "results/claims/paper.csv",
         "--profile", "workflow/profiles/slurm", "--jobs", "4",
         # this test cluster has no accounting database: poll with squeue, and no account
         "--slurm-no-account", "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1",
         # a group job must fit this node (the profile allows up to 8 CPUs per group job)
         "--resources", f"cpus_per_task={os.cpu_count()}", "mem_mb=8000"],
        cwd=work, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    job_ids = set(re.findall(r"SLURM (?:run )?ID[: ]+'?(\d+)", out, re.I)) | set(re.findall(r"jobid[: ]+'?(\d+)", out, re.I))
    slurm_logs = list((work / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert slurm_logs, "no SLURM job logs were kept"
    assert {p.stem for p in slurm_logs} <= job_ids or job_ids, out[-3000:]
    # every step ran inside a SLURM job: our step logs name it
    step_logs = [p for p in (work / "logs").rglob("*.log")]
    assert step_logs and all("running in SLURM job" in p.read_text() for p in step_logs), \
        [p for p in step_logs if "running in SLURM job" not in p.read_text()]
    # the synthetic steps were grouped: fewer SLURM jobs than steps
    n_steps = len(step_logs)
    assert len(slurm_logs) < n_steps
    assert (work / "figures" / "fig1b.pdf").exists() and (work / "results" / "claims" / "paper.csv").exists()
    print(f"SLURM: {n_steps} steps in {len(slurm_logs)} SLURM jobs")
