"""The training device as the workflow sees it: the GPUs a training job holds, and the check that
``device: cuda`` has a CUDA device to run on.

The Snakefile uses this module, so it imports torch only inside :func:`check_device`, and only
for ``device: cuda`` (the Snakefile must stay fast: ``snakemake -n`` answers in about a second).

- :func:`training_gpus`: the ``gpu`` resource of an image training job (rule ``train_external``).
  One per job unless ``device`` is ``cpu``, so ``snakemake --cores 8 --resources gpu=1`` runs
  one image training at a time on the machine's GPU while other jobs use the remaining cores,
  and the SLURM executor asks for one GPU per image training (``--gpus=1``). ``auto`` counts
  as a GPU job: it takes CUDA wherever CUDA is present; on a machine without one the resource
  constrains nothing unless ``--resources gpu=N`` is given. Synthetic training (rule ``train``:
  small MLPs, seconds per job) declares no GPU and may share one.
- :func:`check_device`: ``device: cuda`` without a CUDA device is one :class:`DeviceError`
  when the workflow starts (Snakemake's ``onstart``, before any job runs; not in a dry run),
  instead of one failed job per training. Where jobs run elsewhere (SLURM: the login node
  that submits often has no GPU) the check is left to each job on its node
  (:func:`collective_action.training.engine.resolve_device`).
"""
from __future__ import annotations


class DeviceError(RuntimeError):
    """The configured device is not available on this machine."""


def training_gpus(device: str) -> int:
    """GPUs one image training job holds: 0 for ``device: cpu``, else 1."""
    return 0 if device == "cpu" else 1


def check_device(device: str) -> None:
    """Fail, saying why and what to do, when ``device`` is ``cuda`` and torch sees no CUDA device."""
    if device != "cuda":
        return
    import os

    import torch

    if torch.cuda.is_available():
        return
    if torch.version.cuda is None:
        why = f"this torch ({torch.__version__}) is built without CUDA support: install a CUDA build of torch"
    else:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        why = (f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no CUDA device"
               + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else "")
               + ": run on a GPU node")
    raise DeviceError(f"config key 'device' is 'cuda' but no CUDA device is available; {why}, or set device: auto "
                      f"(CUDA where available, else CPU) or device: cpu")


def check_workflow_device(device: str, local_exec: bool) -> None:
    """The workflow's start-up check (Snakefile ``onstart``): jobs that run on this machine need
    the configured device here; jobs submitted elsewhere (``local_exec`` False) check on their node."""
    if local_exec:
        check_device(device)
