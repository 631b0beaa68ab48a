"""GPU resources and the device check: image training holds one GPU (so `--resources gpu=1` runs one
image training at a time, and the SLURM profile asks for --gpus=1 per image training), and `device: cuda`
without a CUDA device stops the workflow when it starts, before any job runs."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch
import yaml

import image_fixtures as fx
from collective_action.training import devices


# ----------------------------------------------------------------------------- the package's check
def test_cuda_without_a_cuda_device_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(devices.DeviceError, match=r"config key 'device' is 'cuda' but no CUDA device is available; "
                                                  r".*or set device: auto .* or device: cpu"):
        devices.check_device("cuda")
    with pytest.raises(devices.DeviceError):
        devices.check_workflow_device("cuda", local_exec=True)
    devices.check_workflow_device("cuda", local_exec=False)  # jobs run elsewhere (SLURM): each checks on its node
    for device in ("cpu", "auto"):  # auto falls back to the CPU; cpu needs nothing
        devices.check_device(device)


def test_cuda_with_a_cuda_device_passes(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    devices.check_device("cuda")


def test_a_torch_without_cuda_support_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(devices.DeviceError, match="built without CUDA support"):
        devices.check_device("cuda")


def test_image_training_holds_a_gpu_unless_the_device_is_the_cpu():
    assert devices.training_gpus("cpu") == 0
    assert devices.training_gpus("cuda") == devices.training_gpus("auto") == 1


# ----------------------------------------------------------------------------- the workflow
def _snakemake(workdir, *args, env=None):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture
def image_workflow(workflow_dir):
    """The tiny workflow with a tiny CIFAR-10 staged as an .npz."""
    npz = fx.write_npz(workflow_dir / "cifar.npz", fx.cifar_arrays(n_per_batch=20))
    (workflow_dir / "sources.yaml").write_text(yaml.safe_dump({"sources": {"cifar10": {"kind": "npz",
                                                                                         "path": str(npz)}}}))
    return workflow_dir


def _resources(dry_run: str) -> dict[str, list[dict[str, str]]]:
    """Rule -> the resources of each job, from a dry run's listing."""
    out: dict[str, list[dict[str, str]]] = {}
    for block in re.split(r"\n(?=rule \w+:)", dry_run):
        rule = re.match(r"rule (\w+):", block)
        listed = re.search(r"^\s+resources: (.*)$", block, re.M)
        if rule and listed:
            out.setdefault(rule.group(1), []).append(dict(kv.split("=", 1) for kv in listed.group(1).split(", ")))
    return out


@pytest.mark.parametrize("device, gpus", [("cuda", "1"), ("auto", "1"), ("cpu", "0")])
def test_image_training_declares_its_gpu(image_workflow, device, gpus):
    proc = _snakemake(image_workflow, "-n", "--cores", "8", "results/tables/fig1c.csv", "results/tables/fig1b.csv",
                      "--resources", "gpu=1", "--configfile", "sources.yaml", "--config", f"device={device}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    resources = _resources(proc.stdout)
    assert resources["train_external"] and all(r["gpu"] == gpus for r in resources["train_external"])
    assert resources["train"] and not any("gpu" in r for r in resources["train"])  # synthetic training shares


def test_the_slurm_profile_asks_for_one_gpu_per_image_training(image_workflow):
    from conftest import REPO

    proc = _snakemake(image_workflow, "-n", "--profile", str(REPO / "workflow/profiles/slurm"),
                      "results/tables/fig1c.csv", "results/tables/fig1b.csv", "--configfile", "sources.yaml",
                      "--config", "device=auto")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    resources = _resources(proc.stdout)
    for job in resources["train_external"]:  # the profile's request, not capped by its group limits
        assert (job["gpu"], job["cpus_per_task"], job["mem_mb"]) == ("1", "8", "64000")
    assert {"poison_external", "train_external"} <= set(resources)  # image cells are not grouped with synthetic ones
    slurm = pytest.importorskip("snakemake_executor_plugin_slurm.utils")

    class Job:
        resources = type("R", (dict,), {"__getattr__": dict.__getitem__})(gpu=1)

    assert slurm.set_gres_string(Job()).strip() == "--gpus=1"


def test_cuda_without_a_cuda_device_stops_the_workflow_before_any_job(image_workflow):
    proc = _snakemake(image_workflow, "--cores", "2", "results/tables/fig1b.csv", "--config", "device=cuda",
                      env={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode != 0
    assert "DeviceError" in proc.stderr and "config key 'device' is 'cuda' but no CUDA device is available" in proc.stderr
    assert not (image_workflow / "results").exists() and not (image_workflow / "logs").exists()
    assert _snakemake(image_workflow, "-n", "--cores", "2", "results/tables/fig1b.csv", "--config",
                      "device=cuda", env={"CUDA_VISIBLE_DEVICES": ""}).returncode == 0  # a dry run runs nothing
