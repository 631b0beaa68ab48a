"""The default target end to end, on a scratch copy of the workflow: where the time goes.

Copies the Snakefile, workflow/, profiles/ and config.yaml into a scratch directory, runs
``snakemake --cores N`` there from nothing, and sums the 'timing' line every job writes
to its log (collective_action/timing.py) by kind of time:

- process start: Python's start and Snakemake's script preamble, before the step's code;
- handoff: passing the job to the warm worker (0 without one);
- imports: the step's imports inside the job (with the warm worker, done once, ahead);
- load, train, evaluate, write: the train jobs' phases (evaluate = the per-epoch and
  per-slot predictions inside training);
- other steps: prepare, poison, evaluate (the step), table, figure, claims, whole.

- snakemake itself: the CPU time of Snakemake's own process (planning the DAG, scheduling,
  launching jobs), sampled from /proc while it runs.

Core-seconds per kind, the job count and the total wall time; ``--no-warm-worker``
measures the same without the warm worker. A second call on the built copy checks the
no-op dry run's time.

``--floor`` then trains every cell of the build again, alone, one after another in this one
process: the trainings' own core-seconds, which no scheduling or launching can remove (divided
by the cores, a lower bound on the wall time with these numbers), and a check that each cell
gives, bit for bit, the artifact the workflow wrote (its payload's sha256).

    python benchmarks/bench_workflow.py [--cores 2] [--no-warm-worker] [--keep DIR] [--floor]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TRAIN_PHASES = ("load", "train", "evaluate", "write")


def scratch_copy(target: Path, warm: bool) -> None:
    shutil.copy(REPO / "Snakefile", target / "Snakefile")
    shutil.copytree(REPO / "workflow", target / "workflow")
    shutil.copytree(REPO / "profiles", target / "profiles")  # the workflow profile (the scheduler)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["execution"]["warm_worker"] = warm
    (target / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def job_timings(logs: Path) -> list[tuple[str, dict]]:
    out = []
    for log in sorted(logs.rglob("*.log")):
        m = re.search(r"timing (\{.*\})", log.read_text())
        if m:
            out.append((log.relative_to(logs).parts[0].removesuffix(".log"), json.loads(m.group(1))))
    return out


def summarise(timings: list[tuple[str, dict]]) -> dict[str, float]:
    kinds: dict[str, float] = defaultdict(float)
    for rule, t in timings:
        kinds["process start"] += t.get("process_start") or 0.0
        kinds["handoff"] += t.get("handoff", 0.0)
        kinds["imports"] += t.get("client_imports", 0.0)
        step = t.get("step", 0.0)
        if rule == "train":
            train_only = t.get("train", 0.0) - t.get("evaluate", 0.0)
            parts = {"load": t.get("load", 0.0), "train": train_only, "evaluate": t.get("evaluate", 0.0),
                     "write": t.get("write", 0.0)}
            for name, value in parts.items():
                kinds[name] += value
            kinds["imports"] += max(step - sum(parts.values()), 0.0)  # the step's own imports (torch)
        else:
            kinds[f"step: {rule}"] += step
    return dict(kinds)


def run_watched(command: list[str], cwd: Path) -> tuple[subprocess.Popen, float]:
    """Run Snakemake; also return the CPU seconds of its own process (planning, scheduling, launching
    jobs), read from /proc while it runs (its children, the jobs, are counted from their logs)."""
    import psutil

    log = tempfile.TemporaryFile("w+")  # a file, not a pipe: a full pipe would stall Snakemake
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log, text=True)
    watched, cpu = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            times = watched.cpu_times()
            cpu = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.2)
    log.seek(0)
    proc.stderr = log
    return proc, cpu


def train_floor(work: Path) -> tuple[dict[str, tuple[int, float]], list[str]]:
    """Train every run artifact's cell of the build in ``work`` again, alone: core-seconds per
    (dataset family, algorithm) with the cell count, and the cells whose payload differs."""
    import os

    import h5py

    from collective_action.configuration.validation import load_config_file
    from collective_action.planning import paths
    from collective_action.planning.plan import Plan
    from collective_action.steps.jobs import Jobs
    from collective_action.training import fit as training

    here = Path.cwd()
    os.chdir(work)  # the plan's paths are relative to the workflow's directory
    try:
        config = load_config_file("config.yaml")
        jobs, threads = Jobs(Plan(config)), int(config["execution"]["train_threads"])
        totals: dict[str, list] = defaultdict(lambda: [0, 0.0])
        differ = []
        with tempfile.TemporaryDirectory() as tmp:
            runs = Path(paths.path("run", dataset="d", algorithm="a", alpha=0, alpha_val=0)).parents[2]
            for run in sorted(runs.glob("*/*/*.h5")):
                wc = argparse.Namespace(**paths.parse(str(run))[1])
                spec, inputs, again = jobs["train"].params(wc), jobs["train"].inputs(wc), Path(tmp) / "run.h5"
                start = time.perf_counter()
                training.train(data_path=inputs["data"], poisoned_path=inputs["poisoned"], spec=spec,
                               output=str(again), threads=threads, device="cpu")
                group = totals[f"{re.sub(r'_k[0-9]+$', '', wc.dataset)} {wc.algorithm}"]
                group[0] += 1
                group[1] += time.perf_counter() - start
                with h5py.File(run) as old, h5py.File(again) as new:
                    if old.attrs["payload_sha256"] != new.attrs["payload_sha256"]:
                        differ.append(str(run))
    finally:
        os.chdir(here)
    return {k: (n, t) for k, (n, t) in totals.items()}, differ


def print_floor(work: Path, cores: int) -> None:
    import logging

    logging.disable(logging.INFO)  # training's per-cell log lines
    totals, differ = train_floor(work)
    total = sum(t for _, t in totals.values())
    print(f"every cell trained again alone, one after another in one process: {total:.1f} core-s "
          f"(at least {total / cores:.0f} s on {cores} cores with these numbers)")
    for group, (n, seconds) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        print(f"  {group:<28} {n:4d} cells {seconds:8.1f}")
    cells = sum(n for n, _ in totals.values())
    print(f"  the same artifact as the workflow's (payload sha256): {cells - len(differ)} of {cells}"
          + (f"; differ: {', '.join(differ[:5])}" if differ else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--no-warm-worker", action="store_true")
    ap.add_argument("--keep", help="build in this directory (kept) instead of a temporary one")
    ap.add_argument("--floor", action="store_true", help="then train every cell again alone (see above)")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-workflow-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch_copy(work, warm=not args.no_warm_worker)
    snakemake = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--quiet"]
    start = time.perf_counter()
    proc, scheduler = run_watched(snakemake, work)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"the default target failed:\n{proc.stderr.read()[-3000:]}")
    start = time.perf_counter()
    subprocess.run(snakemake + ["-n"], cwd=work, capture_output=True, check=True)
    noop = time.perf_counter() - start

    timings = job_timings(work / "logs")
    kinds = summarise(timings)
    kinds["snakemake itself"] = scheduler
    counts = defaultdict(int)
    for rule, _ in timings:
        counts[rule] += 1
    print(f"default target, {args.cores} cores, warm worker {'off' if args.no_warm_worker else 'on'}: "
          f"{len(timings)} jobs ({', '.join(f'{r} {n}' for r, n in sorted(counts.items()))})")
    print(f"  {'kind':<22} {'core-s':>8}")
    for kind, seconds in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:<22} {seconds:8.1f}")
    print(f"  {'sum':<22} {sum(kinds.values()):8.1f}")
    print(f"  total wall time: {wall:.1f} s; no-op dry run afterwards: {noop:.2f} s")
    if args.floor:
        print_floor(work, args.cores)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
