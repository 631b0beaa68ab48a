"""How far the default target's claims move when only the CPU kernels change: the measurement behind
``findings.tolerance`` (config.yaml), the distance within which the CI check lets effects move and calls a
verdict "on the edge".

Kernels differ across CPUs in the last digits (vector width, fused multiply-adds, the order of a reduction), and
training amplifies that over its epochs. On one machine the same difference is made by building the default target
twice from nothing: once with the CPU's own kernels, once with PyTorch's portable ones (``ATEN_CPU_CAPABILITY=
default``) and MKL held to SSE4.2 (``MKL_ENABLE_INSTRUCTIONS``). Same seeds, same code, same config: whatever
moves, moved because of the kernels. Each claim's effect (mean and interval bounds), its verdict and its margin
(the deciding bound's distance from its threshold) are compared; written to ``docs/findings/tolerance.md`` and
``tolerance.json``, stamped with the machine.

    python benchmarks/findings_tolerance.py [--cores 2] [--keep DIR]          # two builds from nothing
    python benchmarks/findings_tolerance.py --compare DIR_A DIR_B             # two builds already made
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
PORTABLE = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
FIELDS = ("effect_mean", "effect_low", "effect_high")


def build(target: Path, env: dict[str, str], cores: int) -> float:
    """The default target from nothing in a scratch copy of the workflow; its wall time."""
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, target / name)
    for name in ("workflow", "profiles", "studies", "docs"):
        shutil.copytree(REPO / name, target / name)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores)], cwd=target, check=True,
                   env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def claims(root: Path) -> pd.DataFrame:
    tables = [pd.read_csv(p) for p in sorted((root / "results" / "claims").glob("*.csv"))]
    return pd.concat(tables, ignore_index=True).set_index("key")


def compare(a: pd.DataFrame, b: pd.DataFrame) -> list[dict]:
    rows = []
    for key in a.index.intersection(b.index):
        row = {"key": key, "verdict_a": a.at[key, "verdict"], "verdict_b": b.at[key, "verdict"],
               "margin_a": a.at[key, "margin"], "margin_b": b.at[key, "margin"]}
        moves = [abs(float(a.at[key, f]) - float(b.at[key, f])) for f in FIELDS
                 if pd.notna(a.at[key, f]) and pd.notna(b.at[key, f])]
        row["largest_move"] = max(moves) if moves else None
        rows.append(row)
    return rows


def report(rows: list[dict], stamp: dict[str, str]) -> str:
    moved = [r["largest_move"] for r in rows if r["largest_move"] is not None]
    changed = [r for r in rows if r["verdict_a"] != r["verdict_b"]]
    lines = ["# How far the claims move when only the CPU kernels change", "",
             "Written by `benchmarks/findings_tolerance.py`: the default target built twice from nothing on one "
             "machine, with the CPU's own kernels (a) and with portable ones (b: "
             + ", ".join(f"`{k}={v}`" for k, v in PORTABLE.items()) + "). `findings.tolerance` in config.yaml is "
             "chosen above the largest move measured here.", "",
             "| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in stamp.items()] + ["",
             f"{len(rows)} claims compared; the largest move of an effect's mean or bound: "
             f"{max(moved):.4f}; median {sorted(moved)[len(moved) // 2]:.4f}; verdicts changed: {len(changed)}.", "",
             "| claim | verdict (a) | verdict (b) | margin (a) | margin (b) | largest move |", "|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -(r["largest_move"] or 0)):
        move = "" if r["largest_move"] is None else f"{r['largest_move']:.4f}"
        lines.append(f"| {r['key']} | {r['verdict_a']} | {r['verdict_b']} | {r['margin_a']:.4f} | "
                     f"{r['margin_b']:.4f} | {move} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="build in this directory (two subfolders) and keep it")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("DIR_A", "DIR_B"))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "findings")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from collective_action.evaluation.snapshot import stamp as make_stamp

    if args.compare:
        a, b = args.compare
        command, seconds = f"benchmarks/findings_tolerance.py --compare {a} {b}", 0.0
    else:
        base = args.keep or Path(tempfile.mkdtemp(prefix="tolerance-"))
        a, b = base / "native", base / "portable"
        a.mkdir(parents=True), b.mkdir(parents=True)
        seconds = build(a, {}, args.cores) + build(b, PORTABLE, args.cores)
        command = f"benchmarks/findings_tolerance.py --cores {args.cores}"
    rows = compare(claims(a), claims(b))
    stamp = make_stamp(REPO, {"compare": [str(a), str(b)]}, command, seconds, args.cores)
    stamp.pop("config sha256")
    if args.compare:  # the two builds were made before this command: their wall time is not this one's
        stamp["wall time"] = "not measured here (--compare reads two builds made beforehand)"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tolerance.md").write_text(report(rows, stamp))
    (args.out / "tolerance.json").write_text(json.dumps({"stamp": stamp, "portable": PORTABLE, "claims": rows},
                                                        indent=1, default=float) + "\n")
    print((args.out / "tolerance.md").read_text())


if __name__ == "__main__":
    main()
