"""Command line: ``python -m collective_action audit|findings|snapshot ...``.

Run from the workflow's directory (where config.yaml is), or name it with ``--directory``:

- ``audit [TARGET ...]``: verify every artifact behind the targets (without targets: whatever of the default
  target is built);
- ``findings --check docs/findings/default.json``: compare the built claims with a committed snapshot (verdicts
  equal unless on the edge, effects within the snapshot's tolerance); exit 1 on a difference;
- ``snapshot <group>``: build a snapshot group's studies and atlases (``findings.snapshots``) and write
  ``docs/findings/<group>.md``, its PNGs and ``<group>.json``, stamped with the commit, the config's hash, the
  machine, the date, the command and what it cost.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .configuration.schema import REPO_SCHEMA


def _config(root: Path, overlays) -> dict:
    """The config as the Snakefile composes it: config.yaml, its study files, then the overlays."""
    from .configuration.studies import compose

    cwd = Path.cwd()
    try:  # study files are named relative to the workflow's directory, as Snakemake reads them
        os.chdir(root)
        return compose("config.yaml", [Path(cwd, o) for o in overlays])
    finally:
        os.chdir(cwd)


def _plan(root: Path, overlays):
    from .planning.atlas import Atlas
    from .planning.plan import Plan

    config = _config(root, overlays)
    return Plan(config, str(root / REPO_SCHEMA), atlas=Atlas), config


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configfile", nargs="*", default=[], help="config files merged over config.yaml and its "
                                                               "studies, as given to snakemake")
    p.add_argument("--directory", default=".", help="the workflow's directory")


def audit(args) -> int:
    from .steps import audit as audit_step

    root = Path(args.directory)
    plan, config = _plan(root, args.configfile)
    # named targets must exist; the default target is audited as far as it is built
    targets = args.targets or plan.default_targets()
    return audit_step.run(targets, config, str(root / REPO_SCHEMA), str(root), skip_unbuilt=not args.targets)


def findings_check(args) -> int:
    from .evaluation import findings

    root = Path(args.directory)
    snapshot_file = Path(args.check)
    if not snapshot_file.exists():
        print(f"no snapshot at {snapshot_file}: write one with python -m collective_action snapshot <group> "
              f"(groups: findings.snapshots in config.yaml) and commit it")
        return 2
    snapshot = json.loads(snapshot_file.read_text())
    paths = [root / "results" / "claims" / f"{s}.csv" for s in snapshot["studies"]]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"not built: {', '.join(missing)} (build the studies first: {snapshot['stamp']['command']})")
        return 1
    tolerance = float(snapshot["tolerance"])
    problems = findings.check(snapshot, findings.current_record(paths, tolerance), tolerance)
    edge = sorted(k for k, r in snapshot["claims"].items() if r.get("on_edge"))
    print(f"{len(snapshot['claims'])} claims against {args.check} (tolerance {tolerance:g}; on the edge, where a "
          f"changed verdict is allowed: {', '.join(edge) or 'none'})")
    for problem in problems:
        print(f"  DIFFERS  {problem}")
    print("the build agrees with the snapshot" if not problems else
          f"{len(problems)} difference(s): regenerate the snapshot (python -m collective_action snapshot "
          f"{snapshot['group']}) if the change is meant")
    return 1 if problems else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m collective_action", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("audit", help="verify every artifact behind the targets (checksums, config, code, inputs)")
    a.add_argument("targets", nargs="*", help="figures, tables or other artifacts (default: the default target)")
    _common(a)
    f = sub.add_parser("findings", help="check the built claims against a committed snapshot")
    f.add_argument("--check", required=True, help="a snapshot's JSON, e.g. docs/findings/default.json")
    _common(f)
    s = sub.add_parser("snapshot", help="build a snapshot group and write docs/findings/<group>.md, .json, PNGs")
    s.add_argument("group", help="a group of findings.snapshots (default, images, text, followups, atlas)")
    s.add_argument("--cores", type=int, default=2)
    s.add_argument("--out", default="docs/findings", help="where the snapshot goes")
    _common(s)
    args = ap.parse_args(argv)
    if args.command == "audit":
        return audit(args)
    if args.command == "findings":
        return findings_check(args)
    from .evaluation import snapshot

    plan, config = _plan(Path(args.directory), args.configfile)
    return snapshot.make(plan, config, args.group, Path(args.directory), args.configfile, args.cores, Path(args.out))


if __name__ == "__main__":
    sys.exit(main())
