"""Audit: walk every artifact behind a figure (or everything) and verify it.

For each artifact, from the targets down through the inputs recorded in each
provenance record:

- ``checksum``: the file against the checksum recorded when it was written (the
  payload checksum inside an h5 file, the sha256 in a CSV/PDF's sidecar);
- ``config``: the config slice it recorded against the slice the current config
  gives for it (a difference means the artifact is stale);
- ``code``: the hashes of the package modules its step runs, recorded in its params,
  against the current source (a difference names the module), and the package version;
- ``inputs``: each recorded input still exists and still has the recorded sha256.

Every problem is a finding that names the artifact; the audit prints a table and
returns a non-zero status when there is any finding.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, store
from ..planning.atlas import Atlas
from ..planning.paths import FIGURES_DIR, RESULTS
from ..planning.plan import Plan
from .base import Step
from .jobs import Jobs


@dataclass
class Entry:
    path: str
    step: str = "?"
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" or the finding

    @property
    def findings(self) -> list[str]:
        return [f"{check}: {text}" for check, text in self.checks.items() if text != "ok"]


def expected_params(jobs: Jobs, path: str) -> tuple[str, dict[str, Any]]:
    """(step, the params the current config and code give the job that writes ``path``)."""
    step, params = jobs.params_of(path)
    return step, json.loads(store.canonical_json(params))


def _diff(recorded: Any, expected: Any, prefix: str = "") -> list[str]:
    if isinstance(recorded, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(recorded) | set(expected)):
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in recorded:
                out.append(f"{where} not recorded")
            elif key not in expected:
                out.append(f"{where} no longer in config")
            else:
                out += _diff(recorded[key], expected[key], where)
        return out
    return [] if recorded == expected else [f"{prefix}: recorded {recorded!r}, config now {expected!r}"]


def _load(path: str) -> tuple[dict | None, str]:
    """(provenance or None, checksum finding or 'ok')."""
    p = Path(path)
    if p.suffix == ".h5":
        try:
            return store.read_h5(p).provenance, "ok"
        except store.ArtifactError as exc:
            try:  # still walk its inputs if the provenance itself is readable
                return store.read_h5(p, verify=False).provenance, str(exc)
            except store.ArtifactError:
                return None, str(exc)
    try:
        record = store.read_sidecar(p)
    except store.ArtifactError as exc:
        return None, str(exc)
    actual = store.sha256_file(p)
    if record.get("sha256") != actual:
        return record, f"sha256 {actual[:12]}... differs from the recorded {str(record.get('sha256'))[:12]}... (modified)"
    return record, "ok"


def audit(targets: Iterable[str], jobs: Jobs, root: str | os.PathLike = ".",
          skip_unbuilt: bool = False) -> tuple[list[Entry], list[str]]:
    """Audit the targets and everything behind them; paths are relative to ``root``.

    Returns (entries, targets skipped). With ``skip_unbuilt`` a target that was never
    built is skipped rather than a finding (auditing "whatever of the default target
    exists"); a missing artifact that something built was read from is always a finding.
    """
    root = Path(root)
    entries: dict[str, Entry] = {}
    targets = [os.path.normpath(t) for t in targets]
    skipped = [t for t in targets if skip_unbuilt and not (root / t).exists()]
    pending = [t for t in targets if t not in skipped]
    while pending:
        path = pending.pop(0)
        if path in entries:
            continue
        entry = entries[path] = Entry(path)
        if not (root / path).exists():
            entry.checks["exists"] = "missing (not built, or deleted)"
            continue
        prov, checksum = _load(str(root / path))
        entry.checks["checksum"] = checksum
        if prov is None:
            continue
        entry.step = prov.get("step", "?")
        recorded = dict(prov.get("config") or {})
        recorded_code = recorded.pop("code", None)
        try:
            _, expected = expected_params(jobs, path)
            expected_code = expected.pop("code", None)
            diffs = _diff(recorded, expected)
            entry.checks["config"] = "ok" if not diffs else "stale: " + "; ".join(diffs[:3]) + (
                f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else "")
            recorded_code, expected_code = recorded_code or {}, expected_code or {}
            code = [f"{module} changed" for module in sorted(set(recorded_code) | set(expected_code))
                    if recorded_code.get(module) != expected_code.get(module)]
        except Exception as exc:  # the dataset or panel left the config, say
            entry.checks["config"] = f"stale: {type(exc).__name__}: {exc}"
            code = []
        if prov.get("package_version") != __version__:
            code.append(f"package {prov.get('package_version')} (now {__version__})")
        entry.checks["code"] = "ok" if not code else "built by other code: " + ", ".join(code)
        problems = []
        for record in (rec for _, rec in sorted(prov.get("inputs", {}).items())):
            ipath = os.path.normpath(record["path"])
            full = root / ipath
            if ipath.startswith((RESULTS + "/", FIGURES_DIR + "/")):
                pending.append(ipath)  # walked even when missing: its own entry says so
            if not full.exists():
                problems.append(f"{ipath} missing")
            elif store.sha256_file(full) != record["sha256"]:
                problems.append(f"{ipath} changed since it was read")
        entry.checks["inputs"] = "ok" if not problems else "; ".join(problems)
    return list(entries.values()), skipped


def format_table(entries: list[Entry], skipped: Iterable[str] = ()) -> str:
    checks = ["exists", "checksum", "config", "code", "inputs"]
    lines = [f"{'artifact':<58} {'step':<11} " + " ".join(f"{c:<8}" for c in checks)]
    for e in entries:
        marks = [("-" if c not in e.checks else ("ok" if e.checks[c] == "ok" else "FAIL")) for c in checks]
        if "exists" not in e.checks:
            marks[0] = "ok"
        lines.append(f"{e.path:<58} {e.step:<11} " + " ".join(f"{m:<8}" for m in marks))
    findings = [(e.path, f) for e in entries for f in e.findings]
    lines.append("")
    lines.append(f"{len(entries)} artifacts audited, {len(findings)} finding(s)")
    lines += [f"  {path}: {finding}" for path, finding in findings]
    skipped = list(skipped)
    if skipped:
        lines.append(f"{len(skipped)} target(s) not built yet, not audited: " + ", ".join(skipped))
    return "\n".join(lines)


def run(targets: Iterable[str], config: Mapping[str, Any], schema_path: str, root: str = ".",
        skip_unbuilt: bool = False) -> int:
    """Audit, print the table, and return the exit status (0 clean, 1 findings)."""
    entries, skipped = audit(targets, Jobs(Plan(config, schema_path=schema_path, atlas=Atlas)), root, skip_unbuilt)
    print(format_table(entries, skipped))
    return 1 if any(e.findings for e in entries) else 0


class Audit(Step):
    """Verify every artifact behind the targets, as far as they are built (checksums, config, code, inputs)."""

    name = "audit"
    entry = "steps.audit"

    @staticmethod
    def run(job) -> None:
        status = run(job.params.targets, job.config, job.params.schema, skip_unbuilt=True)
        if status:
            raise RuntimeError("the audit found problems (listed above)")
