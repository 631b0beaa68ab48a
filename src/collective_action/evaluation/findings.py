"""The findings: one document a reader can trust, written by the workflow from what it built (results/findings.md).

It opens with a table at a glance (every claim of every built study: its source, what it says, its verdict and how
that holds up to the runs that did not learn, its main effect with interval and n, in how many of an atlas's
variants it holds, its figure), then has one section per study (its figures, its claims, and, beside each claim that
disagrees with its paper, the explanation its claims module writes from the tables), then one per atlas. A study or
an atlas that was not built is one line with the command that builds it. Nothing here is typed by hand: every number
comes from the claims tables and the atlases' summaries.

A verdict whose deciding bound lies within ``findings.tolerance`` of its threshold is marked as on the edge: kernels
differ across CPUs in their last digits, training amplifies that, and such a verdict may flip on another machine.
:func:`check` compares a build's verdicts and effects with a committed snapshot (``docs/findings/<group>.json``).
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

GLANCE = "| claim | source | what it says | verdict | main effect [95% interval], n | atlas | figure |"


def _read(path: str | os.PathLike):
    from .. import store

    return store.read_table(path)


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def on_edge(row: Mapping[str, Any], tolerance: float) -> bool:
    """Whether a decided verdict's deciding bound lies within ``tolerance`` of its threshold."""
    margin = row.get("margin")
    return row.get("verdict") in ("reproduced", "not reproduced") and margin is not None and \
        isinstance(margin, float | int) and math.isfinite(margin) and margin < tolerance


def verdict_text(row: Mapping[str, Any], tolerance: float) -> str:
    """'reproduced (robust to the 4 runs that did not learn)', 'not reproduced, on the edge (margin 0.003)', ..."""
    verdict = str(row["verdict"])
    if verdict == "not reproduced" and bool(row.get("contradicted")):
        verdict += " (contradicted)"
    sensitivity = row.get("sensitivity") if isinstance(row.get("sensitivity"), str) else ""
    if sensitivity.startswith(("reproduced;", "not reproduced;")):
        n = sensitivity.split("unchanged when the ", 1)[-1].split(" of the ", 1)[0]
        verdict += f"; unchanged without or with the worst case of the {n} runs that did not learn"
    elif sensitivity.startswith("inconclusive:"):
        n = sensitivity.split("depends on the ", 1)[-1].split(" of the ", 1)[0]
        verdict += f": depends on {n} runs that did not learn"
    if on_edge(row, tolerance):
        verdict += f"; on the edge (margin {float(row['margin']):.3f} < {tolerance:g})"
    return verdict


def effect_text(row: Mapping[str, Any]) -> str:
    if not isinstance(row.get("effect"), str) or not row["effect"]:
        return ""
    mean, low, high, n = (row.get(k) for k in ("effect_mean", "effect_low", "effect_high", "n"))
    if mean is None or not math.isfinite(float(mean)):
        return _short(row["effect"], 60)
    bounds = f"[{float(low):+.3f}, {float(high):+.3f}]" if math.isfinite(float(low)) and math.isfinite(float(high)) \
        else "(no interval)"
    count = f", n = {int(n)}" if n is not None and math.isfinite(float(n)) else ""
    return f"{_short(row['effect'], 70)}: {float(mean):+.3f} {bounds}{count}"


def atlas_text(atlases: Mapping[str, Any], key: str) -> str:
    """'synthetic: 9 of 22 (not shown 10, inconclusive 3)' over the atlases that re-check claim ``key``."""
    from ..claims.atlas import counts

    out = []
    for name, rows in atlases.items():
        if rows is None or key not in set(rows["key"]):
            continue
        c = counts(rows, key)
        rest = ", ".join(f"{k} {c[k]}" for k in ("not shown", "contradicted", "inconclusive", "cannot be decided",
                                                 "not run") if c[k])
        out.append(f"{name}: {c['reproduced']} of {c['n']}" + (f" ({rest})" if rest else ""))
    return "; ".join(out)


def _figure_link(figure: str, pngs: Mapping[str, str]) -> str:
    return f"[{figure}]({pngs[figure]})" if figure in pngs else figure


def render(spec: Mapping[str, Any], claims: Mapping[str, Any], atlases: Mapping[str, Any],
           pngs: Mapping[str, str], built: Mapping[str, str]) -> str:
    """The findings document. ``claims``: study -> its claims table (None: not built); ``atlases``: atlas -> its
    summary (None: not built); ``pngs``: figure -> the link to its PNG; ``built``: study or atlas -> a line saying
    when and from what code it was built."""
    tol = spec["tolerance"]
    lines = [f"# {spec.get('title', 'Findings')}", "",
             "Generated by the workflow from the claims tables and the atlases' summaries it built; every number below "
             "comes from them. How a verdict is decided, and what its interval covers: docs/verdicts.md. A verdict "
             f"'on the edge' has its deciding bound within {tol:g} of its threshold and may flip on another machine.", ""]
    if spec.get("stamp"):
        lines += ["| stamp | |", "|---|---|"] + [f"| {k} | {_cell(v)} |" for k, v in spec["stamp"].items()] + [""]
    lines += ["## At a glance", "", GLANCE, "|---|---|---|---|---|---|---|"]
    for study in spec["studies"]:
        table = claims.get(study["name"])
        if table is None:
            continue
        for _, row in table.iterrows():
            lines.append(f"| {row['claim']} | {_cell(study['source'])} | {_cell(_short(row['statement']))} | "
                         f"{_cell(verdict_text(row, tol))} | {_cell(effect_text(row))} | "
                         f"{_cell(atlas_text(atlases, row['key']))} | {_figure_link(row['figure'], pngs)} |")
    not_built = [s for s in spec["studies"] if claims.get(s["name"]) is None]
    if not_built:
        lines += ["", "Not built here: " + ", ".join(s["name"] for s in not_built) + " (their sections say how)."]
    for study in spec["studies"]:
        lines += ["", f"## {study['title']} ({study['name']})", ""]
        table = claims.get(study["name"])
        if table is None:
            lines.append(f"Not built. `{study['command']}`")
            continue
        lines += [f"Source: {study['source']}. {built.get(study['name'], '')}".rstrip(), ""]
        lines += [f"![{f}]({pngs[f]})" for f in study.get("figures", []) if f in pngs]
        for _, row in table.iterrows():
            lines += ["", f"### {row['claim']} ({row['figure']}): {verdict_text(row, tol)}", "", f"*{row['statement']}*",
                      "", str(row["measured"])]
            if isinstance(row.get("sensitivity"), str) and row["sensitivity"]:
                lines += ["", f"Runs that did not learn: {row['sensitivity']}."]
            if isinstance(row.get("explanation"), str) and row["explanation"]:
                lines += ["", f"**Why it disagrees with the paper.** {row['explanation']}"]
            held = atlas_text(atlases, row["key"])
            if held:
                lines += ["", f"Robustness atlas (reproduced in k of the n variants that change what it reads): {held}."]
    for atlas in spec.get("atlases", []):
        lines += ["", f"## {atlas['title']} (atlas '{atlas['name']}')", ""]
        rows = atlases.get(atlas["name"])
        if rows is None:
            lines.append(f"Not built. `{atlas['command']}`")
            continue
        lines += [built.get(atlas["name"], ""), ""] + _atlas_table(rows)
        lines += [f"![{f}]({pngs[f]})" for f in (f"atlas_{atlas['name']}", f"atlas_{atlas['name']}_curve") if f in pngs]
    return "\n".join(lines).rstrip() + "\n"


def _atlas_table(rows) -> list[str]:
    from ..claims.atlas import counts

    seeds = int(rows["seeds"].iloc[0])
    out = [f"{rows['variant'].nunique()} variants, {seeds} seeds per cell. Per claim, over the variants that change "
           "what it reads:", "", "| claim | baseline | reproduced | not shown | contradicted | inconclusive | "
           "cannot be decided | not run |", "|---|---|---|---|---|---|---|---|"]
    for key in dict.fromkeys(rows["key"]):
        c = counts(rows, key)
        base = rows[(rows["key"] == key) & (rows["variant"] == "baseline")]["verdict"].iloc[0]
        out.append(f"| {key} | {base} | {c['reproduced']} of {c['n']} | {c['not shown']} | {c['contradicted']} | "
                   f"{c['inconclusive']} | {c['cannot be decided']} | {c['not run']} |")
    return out + [""]


def built_line(path: str | os.PathLike) -> str:
    """When and from what code an artifact was built, from its provenance sidecar."""
    from .. import store

    prov = store.read_sidecar(path)
    commit = prov.get("git_commit") or "no git commit"
    return f"Built from code {prov.get('code_version', '?')[:12]} (commit {str(commit)[:12]})."


def build(*, spec: Mapping[str, Any], output: str) -> None:
    """results/findings.md from whatever of the studies and atlases is built (their paths in ``spec``): the default
    studies are the job's inputs; the others are read where they exist (their checksums are its params, so it
    reruns when one is rebuilt, and never builds one itself)."""
    from .. import store

    claims = {s["name"]: _read(s["claims"]) if Path(s["claims"]).exists() else None for s in spec["studies"]}
    atlases = {a["name"]: _read(a["summary"]) if Path(a["summary"]).exists() else None for a in spec.get("atlases", [])}
    here = Path(output).parent
    pngs = {f: os.path.relpath(p, here) for f, p in spec["pngs"].items() if Path(p).exists()}
    built = {s["name"]: built_line(s["claims"]) for s in spec["studies"] if claims[s["name"]] is not None}
    built |= {a["name"]: built_line(a["summary"]) for a in spec.get("atlases", []) if atlases[a["name"]] is not None}
    store.write_text_atomic(output, render(spec, claims, atlases, pngs, built))
    inputs = {s["name"]: s["claims"] for s in spec["studies"] if claims[s["name"]] is not None}
    inputs |= {f"atlas_{a['name']}": a["summary"] for a in spec.get("atlases", []) if atlases[a["name"]] is not None}
    store.write_sidecar(output, store.provenance(step="findings", config=dict(spec), inputs=inputs))


# ----------------------------------------------------------------------------- snapshots and their check
def snapshot_record(claims: Mapping[str, Any], tolerance: float) -> dict[str, dict]:
    """Per claim key: its verdict, main effect and margin, and whether it is on the edge (what a snapshot keeps)."""
    out = {}
    for table in claims.values():
        if table is None:
            continue
        for _, row in table.iterrows():
            out[row["key"]] = {k: (None if isinstance(row[k], float) and not math.isfinite(row[k]) else row[k])
                               for k in ("verdict", "effect_mean", "effect_low", "effect_high", "margin")}
            out[row["key"]]["on_edge"] = on_edge(row, tolerance)
    return json.loads(json.dumps(out, default=float))


def check(snapshot: Mapping[str, Any], current: Mapping[str, Mapping[str, Any]], tolerance: float) -> list[str]:
    """The differences between a build's claims (``current``: key -> record) and a snapshot's that fail the check:
    a verdict that changed (unless on the edge in either), an effect that moved by more than ``tolerance``, a claim
    that appeared or vanished. Empty when the build agrees with the snapshot."""
    problems = []
    before = snapshot["claims"]
    for key in sorted(set(before) | set(current)):
        if key not in current or key not in before:
            problems.append(f"{key}: {'gone from the build' if key not in current else 'not in the snapshot'}")
            continue
        a, b = before[key], current[key]
        if a["verdict"] != b["verdict"] and not (a.get("on_edge") or b.get("on_edge")):
            problems.append(f"{key}: verdict {a['verdict']!r} in the snapshot, {b['verdict']!r} now")
        for field in ("effect_mean", "effect_low", "effect_high"):
            x, y = a.get(field), b.get(field)
            if (x is None) != (y is None) or (x is not None and abs(float(x) - float(y)) > tolerance):
                problems.append(f"{key}: {field} {x} in the snapshot, {y} now (tolerance {tolerance:g})")
    return problems


def current_record(paths: Sequence[str | os.PathLike], tolerance: float) -> dict[str, dict]:
    return snapshot_record({str(p): _read(p) for p in paths}, tolerance)
