"""The entry of every rule's script (``workflow/scripts/step.py``): the Snakemake job as plain data, run in the warm
worker (:mod:`worker`, a process that has imported torch already) or, where there is none, right here; either way
:func:`runner.run_job` runs it."""
from __future__ import annotations

import os
import sys
import time
from typing import Any

from .runner import run_job


def _plain(value):
    return str(value) if isinstance(value, str) else value


def current_umask() -> int:
    """This process's umask, read without changing it where the kernel reports it (Linux: the
    ``Umask:`` line of /proc/self/status, thread-safe), else set and restored."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def job_of(sm) -> dict[str, Any]:
    """The job of a Snakemake script object, as plain picklable data. It carries the calling process's
    working directory, environment and umask: the warm worker's child takes them on, so its outputs get
    the permissions this call would give them (not those of the call that started the worker)."""
    def named(nl):
        return {"values": [_plain(v) for v in nl], "names": {k: _plain(v) for k, v in nl.items()}}

    return {"rule": sm.rule, "threads": sm.threads, "config": dict(sm.config), "cwd": os.getcwd(),
            "env": dict(os.environ), "umask": current_umask(),
            **{part: named(getattr(sm, part)) for part in ("input", "output", "params", "log", "wildcards")}}


def _process_age() -> float | None:
    """Seconds since this process started (Python's start and Snakemake's script preamble), from the
    kernel's own clock (/proc: process start and uptime, both since boot). psutil's create_time mixes
    that clock with the wall clock and was a second off on these machines."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):  # not Linux: not measured
        return None


def run_step(sm, started: float | None = None) -> None:
    """Run the job of a Snakemake script object: in the warm worker where possible."""
    job = job_of(sm)
    now = time.time()
    age = _process_age()
    job["timing"] = {"process_start": None if age is None else age - (now - (started or now)),
                     "client_imports": now - (started or now),
                     "submitted": now}
    warm = sm.config.get("execution", {}).get("warm_worker", True) and not os.environ.get("SLURM_JOB_ID")
    if warm:
        from . import worker

        status = worker.submit(job)
        if status is not None:
            sys.exit(status)
    run_job(job)


