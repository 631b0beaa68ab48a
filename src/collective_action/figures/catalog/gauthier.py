"""Gauthier, Bach and Jordan 2025's figure on our runs (the study 'gauthier'): success and the collective's own lower
bound (Theorem 3.3) against n/N, planting Poor and unplanting Excellent, beside their saved outputs."""
from __future__ import annotations

from dataclasses import dataclass

from ..panels import FigureSpec, Panel, key_table, paths, primary_rule

SAVED = "studies/data/gauthier_saved.csv"  # their saved outputs (repository and commit in its header)
KEY_SAVED = "saved_gauthier"


@dataclass(frozen=True)
class Staircase(Panel):
    """The bound as a staircase over n/N (its mean over seeds, steps held from each n/N to the next; shaded: its
    range over seeds) and the success (points: mean and Student-t interval over seeds), of the panel's ERM runs;
    ``saved``: series of their saved outputs drawn beside them, each ({column: value} selecting rows of the CSV,
    label, colour, 'step' or 'points')."""

    value: str = "success_all"
    saved: tuple = ()

    def inputs(self, plan):
        return {key_table(self.panel): paths.path("table", panel=self.panel), KEY_SAVED: SAVED}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        import pandas as pd

        from ...evaluation.stats import summarise

        ax, width = axes[0], style.get("line_width", 1.2)
        t = primary_rule(canvas.table(inputs[key_table(self.panel)]))
        t = t[(t["learner"] == "erm") & (t["alpha"] > 0)]
        b = t.groupby("alpha")["bound"].agg(["mean", "min", "max"]).sort_index()
        ax.fill_between(b.index, b["min"], b["max"], step="post", color="tab:blue", alpha=style.get("band_alpha", 0.2),
                        linewidth=0)
        ax.step(b.index, b["mean"], where="post", color="tab:blue", linewidth=width,
                label="lower bound (Thm 3.3, its members' data)")
        s = summarise(t, ["alpha"], self.value, confidence).sort_values("alpha")
        ax.errorbar(s["alpha"], s["mean"], yerr=[s["mean"] - s["low"].fillna(s["mean"]),
                                                 s["high"].fillna(s["mean"]) - s["mean"]],
                    fmt="o", color="tab:red", markersize=style.get("marker_size", 4), label="success (plug-in Bayes)")
        saved = pd.read_csv(inputs[KEY_SAVED], comment="#")
        for where, label, color, kind in self.saved:
            rows = saved
            for column, value in where.items():
                rows = rows[rows[column] == value]
            rows = rows[rows["alpha"] <= t["alpha"].max() * 1.05].sort_values("alpha")  # our grid's range
            if kind == "step":
                ax.step(rows["alpha"], rows["value"], where="post", color=color, linestyle="--", linewidth=width * 0.8,
                        label=label)
            else:
                ax.plot(rows["alpha"], rows["value"], linestyle="", marker="s", markerfacecolor="none", color=color,
                        markersize=style.get("marker_size", 4) * 1.8, zorder=3, label=label)
        ax.axhline(0, color="0.6", linewidth=0.5)
        ax.set(xlabel="n/N (the collective's share of the training set)", ylabel="success, lower bound",
               ylim=(-0.1, 1.05), title=self.title)
        ax.legend(frameon=False, fontsize=style.get("font_size", 8) * 0.75, loc="lower right")


FIGURES = {
    "gauthier": FigureSpec(
        (Staircase("gauthier_planting", title="(a) planting Poor", saved=(
            ({"experiment": "signal-planting-N", "quantity": "bound", "N": 1000000}, "their bound (saved, their draw)",
             "0.3", "step"),
            ({"experiment": "signal-planting", "quantity": "success", "target": "Poor"},
             "their success (saved, their draw)", "0.3", "points"))),
         Staircase("gauthier_unplanting", title="(b) unplanting Excellent (naive: plant Good)", saved=(
             ({"experiment": "signal-unplanting", "quantity": "bound", "strategy": "naive unplanting",
               "target": "Good"}, "their naive bound, Good (saved)", "0.3", "step"),
             ({"experiment": "signal-unplanting", "quantity": "bound", "n_e": 2000},
              "their adaptive bound, n_e = 2000 (saved)", "tab:green", "step"),
             ({"experiment": "signal-unplanting", "quantity": "success"},
              "their adaptive success, n_e = 2000 (saved)", "tab:green", "points")))),
        "Gauthier, Bach and Jordan 2025 (ICML) on our draw of their synthetic car data (N = n_train, N_test = n_test, "
        "delta and epsilon as the study sets them; theirs: 1,000,000, 100,000, 0.05 and 0): the lower bound on success "
        "each run's members compute from their own data (Theorem 3.3; blue: mean over seeds as a staircase held to "
        "the next n/N, shaded: its range over seeds) and the success on the plug-in Bayes platform (red: mean and "
        "Student-t interval over seeds), against the collective's share n/N. (a) planting Poor on the 5 signal values "
        "(the countries of an SUV whose other 17 features g fixes); (b) unplanting Excellent by the naive strategy, "
        "planting Good. Grey and green: their saved outputs (their unseeded draw; repository GauthierE/"
        "statistical-collusion at 722bfe4): in (a) their Poor bound at N = 10^6 from their Fig 2 experiment (their "
        "Fig 1's saved Poor bound is a copy of Average's) and their Poor success; in (b) their naive bound for Good, "
        "and their adaptive strategy's bound and success (n_e = 2000, which we do not build). Claims G1-G3."),
}
