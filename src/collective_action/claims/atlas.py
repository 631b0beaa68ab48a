"""A robustness atlas's results (``results/atlas/<atlas>/summary.csv`` and ``summary.md``), from every variant's
claims table (the variants themselves: :mod:`collective_action.planning.atlas`), and each claim's "holds in k of n".
Kept apart from the plan's side of the atlas, so that the claims' jobs do not depend on it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..store import canonical_json

SUMMARY_COLUMNS = ["claim", "key", "figure", "variant", "kind", "axis", "value", "overrides", "seeds", "verdict",
                   "contradicted", "baseline_verdict", "affected", "effect", "effect_mean", "effect_low", "effect_high", "train_cells",
                   "train_cells_new", "measured"]


def summary_rows(claims: Mapping[str, Any], spec: Mapping[str, Any]):
    """One row per claim and variant, from each variant's claims table (``claims``: variant id -> DataFrame)."""
    import pandas as pd

    base = claims["baseline"].set_index("key")
    rows = []
    for v in spec["variants"]:
        table = claims[v["id"]]
        for _, row in table.iterrows():
            value = v["overrides"].get(v["axis"]) if v["axis"] else None
            rows.append({"claim": row["claim"], "key": row["key"], "figure": row["figure"], "variant": v["id"],
                         "kind": v["kind"], "axis": v["axis"] or "",
                         "value": canonical_json(value) if v["axis"] else "",
                         "overrides": canonical_json(v["overrides"]), "seeds": spec["seeds"],
                         "verdict": row["verdict"], "contradicted": bool(row.get("contradicted", False)),
                         "baseline_verdict": base.loc[row["key"], "verdict"],
                         "affected": bool(v["affected"].get(row["key"], True)) if v["id"] != "baseline" else True,
                         "effect": row["effect"] if isinstance(row["effect"], str) else "",
                         "effect_mean": row["effect_mean"], "effect_low": row["effect_low"],
                         "effect_high": row["effect_high"], "train_cells": v["train_cells"],
                         "train_cells_new": v["train_cells_new"], "measured": row["measured"]})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def counts(rows, key: str) -> dict[str, int]:
    """Over the variants that change what claim ``key`` reads (baseline excluded): how many reproduce it, do not
    show it (the interval includes the threshold: a matter of power as much as of robustness), contradict it
    (the interval lies on the other side), are inconclusive (runs that did not learn, or a band's edge), cannot be
    decided (too few values), or were not run; and n, their number."""
    r = rows[(rows["key"] == key) & (rows["variant"] != "baseline") & rows["affected"].astype(bool)]
    contradicted = r["contradicted"].astype(bool) if "contradicted" in r else False
    not_rep = r["verdict"] == "not reproduced"
    return {"reproduced": int((r["verdict"] == "reproduced").sum()), "not shown": int((not_rep & ~contradicted).sum()),
            "contradicted": int((not_rep & contradicted).sum()),
            "inconclusive": int((r["verdict"] == "inconclusive").sum()),
            "cannot be decided": int((r["verdict"] == "cannot be decided").sum()),
            "not run": int((r["verdict"] == "not run").sum()), "n": len(r)}


def holds(rows, key: str) -> tuple[int, int, int]:
    """(reproduced, inconclusive, n) over the variants that change what claim ``key`` reads (baseline excluded)."""
    c = counts(rows, key)
    return c["reproduced"], c["inconclusive"], c["n"]


def holds_line(rows, key: str) -> str:
    """'Robustness atlas: holds in k of n variants ...' for claims.md ('' when the atlas has no row for it)."""
    if key not in set(rows["key"]):
        return ""
    c = counts(rows, key)
    base = rows[(rows["key"] == key) & (rows["variant"] == "baseline")]["verdict"].iloc[0]
    seeds = int(rows["seeds"].iloc[0])
    rest = ", ".join(f"{label} in {c[label]}" for label in ("not shown", "contradicted", "inconclusive",
                                                            "cannot be decided", "not run") if c[label])
    return (f"**Robustness atlas** ({seeds} seeds per cell): reproduced in {c['reproduced']} of {c['n']} variants that "
            f"change what it reads{'; ' + rest if rest else ''}; at the atlas's baseline: {base} "
            f"(the atlas's summary).")


def to_markdown(rows, spec: Mapping[str, Any]) -> str:
    lines = [f"# {spec.get('title', 'Robustness atlas')}: each claim's verdict over the choices the paper leaves open", "",
             f"{len(spec['variants'])} variants (the baseline, one axis at a time, joint draws), {spec['seeds']} seeds "
             f"per cell (the default run uses {spec['config_seeds']}). 'k of n': reproduced in k of the n variants "
             f"that change a run or a setting the claim reads.", "",
             "'not shown': not reproduced with the interval including its threshold (fewer seeds make this likelier); "
             "'contradicted': not reproduced with the interval on the other side.", "",
             "| claim | baseline | holds in | not shown | contradicted | inconclusive | cannot be decided | not run |",
             "|---|---|---|---|---|---|---|---|"]
    for key in dict.fromkeys(rows["key"]):
        c = counts(rows, key)
        base = rows[(rows["key"] == key) & (rows["variant"] == "baseline")]["verdict"].iloc[0]
        lines.append(f"| {key} | {base} | {c['reproduced']} of {c['n']} | {c['not shown']} | {c['contradicted']} | "
                     f"{c['inconclusive']} | {c['cannot be decided']} | {c['not run']} |")
    lines += ["", "## By axis (one at a time)", ""]
    axis_rows = rows[rows["kind"] == "axis"]
    for axis, group in axis_rows.groupby("axis", sort=False):
        lines.append(f"### {axis}")
        lines.append("")
        for value, g in group.groupby("value", sort=False):
            cells = int(g["train_cells_new"].iloc[0])
            changed = [f"{r['key']} {r['verdict']}" for _, r in g.iterrows() if r["affected"]]
            lines.append(f"- {value} ({cells} train cells not in the baseline): " + ("; ".join(changed) or "no claim changes"))
        lines.append("")
    lines += ["## Variants", ""]
    for v in spec["variants"]:
        lines.append(f"- {v['id']} ({v['kind']}): {canonical_json(v['overrides'])}; {v['train_cells']} train cells, "
                     f"{v['train_cells_new']} of them not the baseline's")
    return "\n".join(lines) + "\n"


def build(*, claim_paths: Mapping[str, str], spec: Mapping[str, Any], output_csv: str, output_md: str) -> None:
    """results/atlas/<atlas>/summary.csv and summary.md from every variant's claims."""
    from .. import store

    claims = {variant: store.read_table(path) for variant, path in claim_paths.items()}
    rows = summary_rows(claims, spec)
    prov = store.provenance(step="atlas", config=dict(spec), inputs=dict(claim_paths))
    store.write_table(rows, output_csv, prov)
    store.write_text_atomic(output_md, to_markdown(rows, spec))
    store.write_sidecar(output_md, prov)
