"""Committed findings: ``python -m collective_action snapshot <group>`` builds a group of studies and atlases
(``findings.snapshots.<group>``) and writes ``docs/findings/<group>.md`` (the findings of just those, their figures as
PNG beside it), and ``<group>.json`` (each claim's verdict, effect and margin, for the check), stamped with the
commit, a hash of the config, the machine, the date, the command that made it and its wall time."""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import findings


def _git(root: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def stamp(root: Path, config: dict, command: str, seconds: float, cores: int, load: str = "") -> dict[str, str]:
    from ..store import canonical_json

    commit = _git(root, "rev-parse", "HEAD") or "not a git checkout"
    if _git(root, "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {"commit": commit, "config sha256": hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16],
            "machine": f"{os.cpu_count()} cores, {_cpu_model()}, {platform.system()} {platform.machine()}",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command, "wall time": f"{seconds:.0f} s on {cores} cores (what was not built already)"
                                             + (f"; machine load (1-minute average) {load}" if load else "")}


def jobs_in(dry_run_output: str) -> int:
    """The number of jobs a Snakemake dry run lists (its 'total' row; none when nothing is to be done)."""
    for line in dry_run_output.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "total" and fields[1].isdigit():
            return int(fields[1])
    return 0


def _count_jobs(root: Path, command: list[str]) -> tuple[int, int]:
    """(jobs this build will run, jobs of the group's whole DAG): what the stamp's wall time covers."""
    counts = []
    for extra in ([], ["--forceall"]):
        proc = subprocess.run([*command, "--dry-run", "--quiet", "rules", *extra], cwd=root, capture_output=True,
                              text=True)
        counts.append(jobs_in(proc.stdout + proc.stderr))
    return counts[0], counts[1]


def builds_before(previous: dict | None, ran: int) -> str:
    """The earlier builds a snapshot that ran nothing carries forward from the one it replaces, so its stamp still
    says what the group cost to build ('' when this command ran jobs: its own wall time says it)."""
    if ran or not previous:
        return ""
    earlier = previous.get("builds before", "")
    if previous.get("jobs", "").startswith("0 run"):
        return earlier
    own = (f"{previous.get('wall time', '?')}; jobs: {previous.get('jobs', 'not counted')} "
           f"(commit {previous.get('commit', '?')[:7]}, {previous.get('date', '?')})")
    return " | ".join(x for x in (own, earlier) if x)


def make(plan, config: dict, group: str, root: Path, overlays, cores: int, out: Path) -> int:
    from ..configuration.errors import ConfigError
    from ..steps.findings import Findings

    groups = config["findings"].get("snapshots") or {}
    if group not in groups:
        raise ConfigError(f"config key 'findings.snapshots': no group '{group}' (defined: {', '.join(groups)})")
    chosen = groups[group]
    studies, atlases = list(chosen.get("studies", [])), list(chosen.get("atlases", []))
    targets = [t for s in studies for t in plan.study_targets(s)] + [t for a in atlases for t in plan.atlas_targets(a)]
    extra = [arg for o in overlays for arg in ("--configfile", str(o))]
    snakemake = [sys.executable, "-m", "snakemake", "--cores", str(cores), *targets, *extra]
    to_run, in_dag = _count_jobs(root, snakemake)
    start, load_before = time.perf_counter(), _load()
    proc = subprocess.run(snakemake, cwd=root)
    seconds = time.perf_counter() - start
    if proc.returncode:
        print(f"snakemake failed (exit {proc.returncode}); no snapshot written")
        return proc.returncode
    spec = Findings(plan).spec()
    spec["studies"] = [s for s in spec["studies"] if s["name"] in studies]
    spec["atlases"] = [a for a in spec["atlases"] if a["name"] in atlases]
    command = "python -m collective_action snapshot " + shlex.join([group, *extra])
    spec["title"] = f"Findings: {group}"
    spec["stamp"] = stamp(root, config, command, seconds, cores, load=f"{load_before} at the start, {_load()} at the end")
    spec["stamp"]["jobs"] = f"{to_run} run by this command, of the {in_dag} the group's targets need"
    out = root / out
    previous = out / f"{group}.json"
    earlier = builds_before(json.loads(previous.read_text())["stamp"] if previous.exists() else None, to_run)
    if earlier:
        spec["stamp"]["builds before"] = earlier
    pictures = out / group
    if pictures.exists():
        shutil.rmtree(pictures)
    pictures.mkdir(parents=True)
    figures = {f for s in spec["studies"] for f in s["figures"]} | {f"atlas_{a}{x}" for a in atlases
                                                                  for x in ("", "_curve")}
    pngs = {}
    for figure in sorted(figures):
        source = root / spec["pngs"][figure]
        if source.exists():
            shutil.copy(source, pictures / f"{figure}.png")
            pngs[figure] = f"{group}/{figure}.png"
    claims = {s["name"]: findings._read(root / s["claims"]) for s in spec["studies"]}
    summaries = {a["name"]: findings._read(root / a["summary"]) for a in spec["atlases"]}
    built = {s["name"]: findings.built_line(root / s["claims"]) for s in spec["studies"]}
    built |= {a["name"]: findings.built_line(root / a["summary"]) for a in spec["atlases"]}
    (out / f"{group}.md").write_text(findings.render(spec, claims, summaries, pngs, built))
    record: dict[str, Any] = {"group": group, "studies": studies, "atlases": atlases, "stamp": spec["stamp"],
                              "tolerance": spec["tolerance"],
                              "claims": findings.snapshot_record(claims, spec["tolerance"])}
    (out / f"{group}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out / group}.md, {out / group}.json and {len(pngs)} figure(s) in {pictures}")
    return 0
