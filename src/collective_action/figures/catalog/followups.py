"""The follow-up literature's figures (on request): differential privacy (Solanki et al. 2025), adversarial
training against the signal's size (Weng et al. 2020), two collectives (Karan et al. 2025)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..panels import ORDERED_HUES, Curves, FigureSpec, Panel, band, key_table, paths, primary_rule, standin_note


@dataclass(frozen=True)
class Sweep(Panel):
    """Success (mean and band over seeds) against a learner's hyperparameter ``x`` (ERM's runs at ``erm_x``), one
    line per alpha; with ``per``, x divided by the mean of that column over the collective's runs (the radius
    over the signal's own size), a dotted line at 1."""

    x: str = "radius"
    erm_x: float = 0.0
    per: str = ""
    xlabel: str = ""

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ...evaluation.stats import summarise

        ax = axes[0]
        table = primary_rule(canvas.table(inputs[key_table(self.panel)]))
        table = table.assign(**{self.x: np.where(table["learner"] == "erm", self.erm_x, table.get(self.x, np.nan))})
        scale = float(table.loc[table["alpha"] > 0, self.per].mean()) if self.per else 1.0
        table = table.assign(_x=table[self.x] / scale)
        summary = summarise(table, ["alpha", "_x"], "success", confidence)
        for i, alpha in enumerate(sorted(summary["alpha"].unique())):
            color, marker = ORDERED_HUES[i % len(ORDERED_HUES)]
            band(ax, summary[summary["alpha"] == alpha].sort_values("_x"), "_x", style,
                 {"label": rf"$\alpha$ = {alpha:g}", "color": color, "marker": marker}, style.get("band_alpha", 0.2))
        if self.per:
            ax.axvline(1.0, color="0.5", linestyle=":", label="the signal's mean size")
        ax.set(xlabel=self.xlabel or self.x, ylabel="success", ylim=(-0.03, 1.03), title=self.title + standin_note(table))
        ax.legend(frameon=False, fontsize=style.get("font_size", 8) * 0.8)


@dataclass(frozen=True)
class BesideAlone(Panel):
    """Two collectives of equal size (``panel``, a dataset with collective_2.alpha_ratio 1): each one's success
    beside the other (solid; dotted: the Bayes classifier of the poisoned distribution) and alone at the same
    size (dashed: panels ``alone_1`` and ``alone_2``)."""

    alone_1: str = ""
    alone_2: str = ""

    def panel_names(self):
        return (self.panel, self.alone_1, self.alone_2)

    def inputs(self, plan):
        return {key_table(p): paths.path("table", panel=p) for p in self.panel_names()}

    def params(self, plan):
        from ..panels import collective_label

        spec = plan.dataset_spec(plan.panel_datasets(self.panel)[0])
        return {"first": collective_label(spec["signal"]), "second": collective_label(spec["collective_2"]["signal"])}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ...evaluation.stats import summarise

        ax, band_alpha = axes[0], style.get("band_alpha", 0.2)
        two = primary_rule(canvas.table(inputs[key_table(self.panel)]))
        lines = ((two, "success", "bayes_success", params["first"], ("tab:blue", "o")),
                 (two, "success_2", "bayes_success_2", params["second"], ("tab:red", "s")))
        for (table, value, bayes, label, (color, marker)), alone in zip(lines, (self.alone_1, self.alone_2)):
            band(ax, summarise(table, ["alpha"], value, confidence), "alpha", style,
                 {"label": f"{label}, beside", "color": color, "marker": marker}, band_alpha)
            a = primary_rule(canvas.table(inputs[key_table(alone)]))
            s = summarise(a[a["alpha"].isin(set(table["alpha"]))], ["alpha"], "success", confidence)
            ax.plot(s["alpha"], s["mean"], color=color, linestyle="--", marker=marker, markerfacecolor="none",
                    label="alone")
            if bayes in table and table[bayes].notna().any():
                b = table.groupby("alpha")[bayes].first()
                ax.plot(b.index, b.values, color=color, linestyle=":", marker="", linewidth=style.get("line_width", 1.2) * 0.7)
        ax.set(xlabel=r"$\alpha$ (each collective)", ylabel="success", ylim=(-0.03, 1.03),
               title=self.title + standin_note(two))
        ax.legend(frameon=False, fontsize=style.get("font_size", 8) * 0.7)


PRIVACY_CAPTION = ("Solanki et al. 2025 (arXiv 2505.05707) on our data: (a) success and (b) clean test accuracy against "
                   "alpha for ERM and DP-SGD at epsilon 0.5 to 8 (delta 1e-5, C = 1, sigma from opacus's RDP "
                   "accountant); (c) success at epsilon 1 for clipping norms C = 0.1, 1, 10, and clipping at C = 1 "
                   "without noise. Mean and Student-t interval over seeds. Claims S1, S2.")

FIGURES = {
    "followup_privacy": FigureSpec(
        (Curves("privacy", title="(a) success, by privacy level"),
         Curves("privacy", value="accuracy", title="(b) clean test accuracy", legend=False),
         Curves("privacy_clip", title="(c) epsilon 1: clipping norm C")),
        PRIVACY_CAPTION + " On the 2D data of Fig 1b (its cells shared)."),
    "followup_privacy_text": FigureSpec(
        (Curves("privacy_text", xscale="log", title="(a) success, by privacy level"),
         Curves("privacy_text", value="accuracy", xscale="log", title="(b) clean test accuracy", legend=False),
         Curves("privacy_clip_text", xscale="log", title="(c) epsilon 1: clipping norm C")),
        PRIVACY_CAPTION + " On text (text_bag; the STAND-IN unless sources.resumes is the corpus)."),
    "followup_adversarial": FigureSpec(
        (Sweep("adversarial_radius", per="signal_linf", xlabel="radius / the signal's mean l-inf size",
               title="(a) 2D: success by radius"),
         Curves("adversarial_radius", value="accuracy", title="(b) clean test accuracy")),
        "Weng et al. 2020 and its follow-up on our 2D data: success against PGD adversarial training (3 steps, "
        "l-infinity) as a function of its radius over the signal's own size, the mean l-infinity norm of g(x) - x "
        "over the collective (0.5 on 2D, where half the members do not move and the others move by 2|x2|, at most "
        "2); one line per alpha (radius 0: ERM); (b) clean accuracy. Claim W1."),
    "followup_adversarial_images": FigureSpec(
        (Sweep("adversarial_fashion", per="signal_linf", xlabel="radius / 2 (the signal's size, 0-255 scale)",
               title="(a) Fashion-MNIST"),
         Sweep("adversarial_cifar", per="signal_linf", xlabel="radius / 2 (the signal's size, 0-255 scale)",
               title="(b) CIFAR-10")),
        "Weng et al. 2020 and its follow-up at CPU scale: success of the +2 pixel grid (l-infinity size 2 on the "
        "0-255 scale) against PGD adversarial training at radii 1, 2, 4 and 8 (radius 0: ERM), one line per alpha. "
        "Claim W1 on images."),
    "followup_collectives": FigureSpec(
        (BesideAlone("collectives_same", alone_1="alone", alone_2="alone_same_2", title="(a) same signal, MLP"),
         BesideAlone("collectives_diff", alone_1="alone", alone_2="alone_diff_2", title="(b) different signals, MLP"),
         BesideAlone("collectives_same_linear", alone_1="alone_linear", alone_2="alone_same_2_linear",
                     title="(c) same signal, logistic"),
         BesideAlone("collectives_diff_linear", alone_1="alone_linear", alone_2="alone_diff_2_linear",
                     title="(d) different signals, logistic")),
        "Karan et al. 2025 on our 2D data: two collectives of equal size alpha in one training set, each one's "
        "success beside the other (solid; dotted: the Bayes classifier of the poisoned distribution) and alone at "
        "the same size (dashed). (a, c) the same signal g(x) = (x1, -|x2|) with targets 1 and 0 (K1); (b, d) "
        "different signals, (x1, -|x2|) and (-|x1|, x2), both with target 1 (K2); (a, b) the paper's MLP, (c, d) "
        "logistic regression (K3). ERM, last epoch, mean and Student-t interval over seeds.", max_columns=2),
    "followup_collectives_text": FigureSpec(
        (BesideAlone("collectives_same_text", alone_1="text_alpha", alone_2="alone_same_2_text",
                     title="(a) same token, two targets"),
         BesideAlone("collectives_diff_text", alone_1="text_alpha", alone_2="alone_diff_2_text",
                     title="(b) two tokens, one target")),
        "Karan et al. 2025 on text: two collectives of equal size, each one's success beside the other (solid) and "
        "alone (dashed). (a) the token 'zqx' with targets classes[0] and classes[1] (K1); (b) 'zqx' and 'vqz', both "
        "with target classes[0] (K2). ERM on text_bag."),
}
