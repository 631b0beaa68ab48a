"""A robustness atlas's figures (on request; one pair per atlas, ``atlas_<name>`` and ``atlas_<name>_curve``):
every claim's verdict under every variant, and specification curves of chosen effects, drawn from the atlas's
summary alone."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...planning import paths
from ..panels import FigureSpec, Panel

VERDICT_COLORS = {"reproduced": "#4daf4a", "not reproduced": "#e41a1c", "inconclusive": "#ff7f00",
                  "cannot be decided": "#984ea3", "measured": "#377eb8", "not run": "#bdbdbd"}
KEY = "atlas"
REFERENCES = {"C14@fig1b": "paper_crossing"}  # a claims setting holding the paper's value of a claim's effect


def variant_order(rows):
    """Variants in reading order: the baseline, then the one-at-a-time values axis by axis, then the joint draws;
    with a label and a group for each."""
    variants = rows.drop_duplicates("variant")
    out = [("baseline", "baseline", "")]
    for axis, group in variants[variants["kind"] == "axis"].groupby("axis", sort=False):
        out += [(r["variant"], str(r["value"]), axis) for _, r in group.iterrows()]
    joint = variants[variants["kind"] == "joint"]
    out += [(r["variant"], f"J{i + 1}", "joint draws") for i, (_, r) in enumerate(joint.iterrows())]
    return out


def holds_label(rows, key: str) -> str:
    from ...claims.atlas import holds

    k, _, n = holds(rows, key)
    return f"{k}/{n}"


@dataclass(frozen=True)
class AtlasPanel(Panel):
    """A panel drawn from an atlas's summary alone (no config panel of its own)."""

    panel: str = ""
    atlas: str = ""

    def panel_names(self):
        return ()

    def inputs(self, plan):
        return {KEY: paths.path("atlas_csv", atlas=self.atlas)}


@dataclass(frozen=True)
class Verdicts(AtlasPanel):
    """Claims x variants, coloured by verdict; a variant that changes nothing a claim reads is faded (its
    verdict is the baseline's); the baseline column is outlined; the one-at-a-time axes are grouped."""

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from matplotlib.patches import Patch, Rectangle

        ax = axes[0]
        rows = canvas.table(inputs[KEY])
        order = variant_order(rows)
        claims = list(dict.fromkeys(rows["key"]))
        cell = rows.set_index(["key", "variant"])
        for j, (variant, _, _) in enumerate(order):
            for i, key in enumerate(claims):
                if (key, variant) not in cell.index:
                    continue
                r = cell.loc[(key, variant)]
                faded = not bool(r["affected"])
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=VERDICT_COLORS.get(r["verdict"], "white"),
                                       alpha=0.3 if faded else 1.0, edgecolor="white", linewidth=0.5))
        ax.add_patch(Rectangle((0, 0), 1, len(claims), fill=False, edgecolor="black", linewidth=1.5))
        groups = [g for _, _, g in order]
        for j in range(1, len(order)):
            if groups[j] != groups[j - 1]:
                ax.axvline(j, color="black", linewidth=0.8)
        start = 0
        for j in range(1, len(order) + 1):  # each axis's name above its group (its last two key parts)
            if j == len(order) or groups[j] != groups[start]:
                if groups[start]:
                    ax.text(start + 0.1, -0.15, ".".join(groups[start].split(".")[-2:]), ha="left", va="bottom",
                            rotation=40, fontsize=style.get("font_size", 8) * 0.75)
                start = j
        ax.set(xlim=(0, len(order)), ylim=(len(claims), 0))
        ax.set_xticks(np.arange(len(order)) + 0.5, [label for _, label, _ in order], rotation=90,
                      fontsize=style.get("font_size", 8) * 0.75)
        ax.set_yticks(np.arange(len(claims)) + 0.5, [f"{key}  ({holds_label(rows, key)})" for key in claims])
        seeds = int(rows["seeds"].iloc[0])
        ax.set_title(f"{self.title} ({seeds} seeds per cell; faded: the variant changes nothing the claim reads; "
                     f"'k/n': reproduced in k of the n variants that change what it reads)", pad=62)
        ax.legend(handles=[Patch(color=c, label=v) for v, c in VERDICT_COLORS.items()], frameon=False,
                  loc="upper left", bbox_to_anchor=(1.01, 1))


@dataclass(frozen=True)
class SpecCurve(AtlasPanel):
    """A specification curve (Simonsohn et al. 2020; specr): one claim's main effect in every variant that
    changes what it reads, and the baseline, sorted, with intervals, coloured by verdict; beneath, which
    choice each variant makes."""

    claim: str = ""
    reference: str = ""  # a claims setting holding the paper's value, drawn dashed ('paper_crossing': Fig 1b's)

    def params(self, plan):
        return {"reference": plan.config["claims"][self.reference]} if self.reference else {}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        import json

        ax = axes[0]
        rows = canvas.table(inputs[KEY])
        r = rows[(rows["key"] == self.claim) & (rows["affected"].astype(bool) | (rows["variant"] == "baseline"))]
        r = r[np.isfinite(r["effect_mean"].astype(float))].sort_values("effect_mean").reset_index(drop=True)
        if r.empty:
            ax.text(0.5, 0.5, f"{self.claim}: not in the atlas", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return
        x = np.arange(len(r))
        colors = [VERDICT_COLORS.get(v, "black") for v in r["verdict"]]
        ax.vlines(x, r["effect_low"], r["effect_high"], colors=colors, linewidth=style.get("line_width", 1.2))
        ax.scatter(x, r["effect_mean"], c=colors, s=style.get("marker_size", 4) ** 2, zorder=3)
        base = r.index[r["variant"] == "baseline"]
        if len(base):
            ax.scatter(x[base], r.loc[base, "effect_mean"], facecolors="none", edgecolors="black",
                       s=(style.get("marker_size", 4) * 2.2) ** 2, zorder=4, label="baseline")
            ax.legend(frameon=False, loc="best")
        ax.axhline(0, color="0.6", linewidth=0.6)
        if params.get("reference") is not None:
            ax.axhline(params["reference"], color="black", linestyle="--", linewidth=0.8, label="the paper")
            ax.legend(frameon=False, loc="best")
        named = r.loc[r["variant"] == "baseline", "effect"]  # the baseline's name of the effect
        ax.set(xlim=(-0.6, len(r) - 0.4), xticks=[], ylabel=textwrap.fill(str((named if len(named) else r["effect"]).iloc[0]), 34),
               title=self.title or self.claim)
        choices = sorted({(k, json.dumps(v)) for o in r["overrides"] for k, v in json.loads(o).items()})
        height = 0.06 * max(len(choices), 1)
        below = ax.inset_axes([0, -0.08 - height, 1, height], sharex=ax)
        for i, (key, value) in enumerate(choices):
            has = [json.dumps(json.loads(o).get(key, None)) == value and key in json.loads(o) for o in r["overrides"]]
            below.scatter(x[has], np.full(int(np.sum(has)), i), color="black", s=6)
        below.set_yticks(range(len(choices)), [f"{'.'.join(k.split('.')[-2:])}={v}" for k, v in choices],
                         fontsize=style.get("font_size", 8) * 0.6)
        below.set_ylim(len(choices) - 0.5, -0.5)
        below.set_xticks([])
        below.set_xlabel("variants, sorted by the effect")


def atlas_figures(atlas: str, curves: Sequence[str]) -> dict[str, FigureSpec]:
    """The two figures of the atlas ``atlas``: its verdicts, and the specification curves of the claims ``curves``."""
    return {
        f"atlas_{atlas}": FigureSpec(
            (Verdicts(atlas=atlas, title=f"Robustness atlas '{atlas}': verdicts by variant"),),
            f"The robustness atlas '{atlas}': every claim it re-checks (rows) under every variant (columns: the "
            "atlas's baseline, outlined; each axis's values one at a time, grouped by axis; the random joint draws), "
            "coloured by verdict. A faded cell: that variant changes no run and no setting the claim reads, so its "
            f"verdict is the baseline's. From results/atlas/{atlas}/summary.csv."),
        f"atlas_{atlas}_curve": FigureSpec(
            tuple(SpecCurve(atlas=atlas, claim=c, title=c, reference=REFERENCES.get(c, "")) for c in curves),
            f"Specification curves of the robustness atlas '{atlas}': for each of {', '.join(curves)}, the claim's "
            "main effect with its 95% interval in the baseline (circled) and in every variant that changes what the "
            "claim reads, sorted; colour: the verdict; dashed: the paper's value where it gives one; beneath, the "
            f"choices each variant makes. From results/atlas/{atlas}/summary.csv.", bottom=0.5),
    }


FIGURES: dict[str, FigureSpec] = {}  # per atlas: :func:`atlas_figures` (the catalogue's spec_of finds them)
