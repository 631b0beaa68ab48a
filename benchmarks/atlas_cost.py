"""What the robustness atlas cost, from a built working directory: per axis (and for the baseline and the joint
draws), the train jobs it adds to what came before it, and their train core-seconds from the jobs' own logs.

Each run artifact is charged to the first variant that needs it, in the atlas's order (the baseline, the axes one
value at a time, the joint draws), so the rows add up to the whole atlas; a run the default target already built
is charged to 'default run' (nothing to train when the atlas runs at the config's seeds).

    python benchmarks/atlas_cost.py DIR [--configfile EXTRA.yaml ...]
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path


def train_seconds(workdir: Path, run: str) -> float | None:
    """The train step's seconds in the job's log (its 'timing' line), None if not built here."""
    rel = Path(run).relative_to("results/runs").with_suffix(".log")
    log = workdir / "logs" / "train" / rel
    if not log.exists():
        return None
    m = re.search(r"timing (\{.*\})", log.read_text())
    return float(json.loads(m.group(1)).get("step", 0.0)) if m else None


def main() -> None:
    from collective_action.configuration.studies import compose
    from collective_action.planning.atlas import Atlas
    from collective_action.planning.paths import DERIVED
    from collective_action.planning.plan import Plan

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--configfile", nargs="*", default=[])
    parser.add_argument("--atlas", default="synthetic", help="which atlas (atlases.<name>)")
    args = parser.parse_args()
    config = compose(args.workdir / "config.yaml", args.configfile)
    plan = Plan(config, schema_path=str(args.workdir / "workflow/schemas/config.schema.yaml"), atlas=Atlas)
    atlas = plan.atlas(args.atlas)
    seen: set[str] = set()
    rows: dict[str, dict] = defaultdict(lambda: {"variants": 0, "jobs": 0, "seconds": 0.0, "missing": 0})
    for vp in atlas.variants:
        group = {"baseline": "baseline", "axis": vp.variant.axis, "joint": "joint draws"}[vp.variant.kind]
        rows[group]["variants"] += 1
        for run in sorted(atlas.runs(vp.variant.id) - seen):
            seen.add(run)
            dataset, algorithm = run.split("/")[2:4]
            owner = group if DERIVED in dataset + algorithm else "default run"  # derived entries: the atlas's own
            seconds = train_seconds(args.workdir, run)
            rows[owner]["jobs"] += 1
            rows[owner]["seconds"] += seconds or 0.0
            rows[owner]["missing"] += seconds is None
    print(f"{'charged to':<40} {'variants':>8} {'train jobs':>10} {'train core-s':>12}")
    for name, r in rows.items():
        extra = f"  ({r['missing']} without a log here)" if r["missing"] else ""
        print(f"{name:<40} {r['variants']:>8} {r['jobs']:>10} {r['seconds']:>12.1f}{extra}")
    total = sum(r["seconds"] for r in rows.values())
    print(f"{'all':<40} {len(atlas.variants):>8} {sum(r['jobs'] for r in rows.values()):>10} {total:>12.1f}")


if __name__ == "__main__":
    main()
