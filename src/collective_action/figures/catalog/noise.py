"""Coordination noise (Karan, Kalle, Vincent, Sundaram 2025, "Sync or Sink"; claims N1-N3): success against alpha
for each noise level, and the collective twice as big with four times the noise against the smaller one; on 2D
(the study 'noise') and on text (the study 'noise_text'). Each noise level is a panel of its own (its dataset
plants the signal at that level); the tables' ``noise`` column says which."""
from __future__ import annotations

from dataclasses import dataclass

from ..panels import FigureSpec, Panel, band, key_table, paths, primary_rule, standin_note

N_2D = ("noise_2d_0", "noise_2d_01", "noise_2d_02", "noise_2d_04", "noise_2d_08", "noise_2d_16")
N_2D_LINEAR = ("noise_2d_linear_0", "noise_2d_linear_04", "noise_2d_linear_08", "noise_2d_linear_16")
N_TEXT = ("noise_text_0", "noise_text_01", "noise_text_02", "noise_text_04", "noise_text_08")
N_TEXT_POSITION = ("noise_text_0", "noise_text_position02", "noise_text_position08")


def _levels(canvas, inputs, panels):
    """The panels' tables in one (first stopping rule, ERM), with their noise levels."""
    import pandas as pd

    frames = [primary_rule(canvas.table(inputs[key_table(p)])) for p in panels]
    table = pd.concat(frames, ignore_index=True)
    return table[table["learner"] == "erm"]


def _alpha_ticks(ax, alphas, xscale: str) -> None:
    """On a log axis, the grid's alphas as the ticks (no minor labels crowding them)."""
    if xscale == "log":
        ax.set_xticks(list(alphas))
        ax.set_xticklabels([f"{a:g}" for a in alphas])
        ax.minorticks_off()


def _colors(noises):
    import matplotlib

    cmap, n = matplotlib.colormaps["viridis"], max(len(noises) - 1, 1)
    return {s: cmap(0.9 * i / n) for i, s in enumerate(noises)}


@dataclass(frozen=True)
class NoiseLevels(Panel):
    """``value`` (mean and Student-t band over seeds) against alpha, one line per noise level; each level is one of
    the panels ``levels`` (``panel`` is the first)."""

    levels: tuple = ()
    value: str = "success"
    xscale: str = "linear"
    legend: bool = True

    def panel_names(self):
        return tuple(self.levels) or (self.panel,)

    def inputs(self, plan):
        return {key_table(p): paths.path("table", panel=p) for p in self.panel_names()}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ...evaluation.stats import summarise

        ax = axes[0]
        table = _levels(canvas, inputs, self.panel_names())
        noises = sorted(table["noise"].unique())
        colors = _colors(noises)
        summary = summarise(table, ["noise", "alpha"], self.value, confidence)
        for i, s in enumerate(noises):
            band(ax, summary[summary["noise"] == s].sort_values("alpha"), "alpha", style,
                 {"label": f"noise {s:g}", "color": colors[s], "marker": "os^Dv*"[i % 6]}, style.get("band_alpha", 0.2))
        ax.set(xlabel=r"$\alpha$", ylabel="success" if self.value == "success" else "clean test accuracy",
               ylim=(-0.03, 1.03), xscale=self.xscale, title=self.title + standin_note(table))
        _alpha_ticks(ax, sorted(table["alpha"].unique()), self.xscale)
        if self.legend:
            ax.legend(frameon=False, fontsize=style.get("font_size", 8) * 0.75)


@dataclass(frozen=True)
class TwiceFourTimes(NoiseLevels):
    """Claim N2: for each noise level s whose four times is also a level, the success of a collective of size alpha
    at noise s (solid) and of one twice as big at four times the noise (dashed), both against the smaller one's
    alpha (only alphas whose double is on the grid)."""

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ...claims.noise import pairs
        from ...evaluation.stats import summarise

        ax = axes[0]
        table = _levels(canvas, inputs, self.panel_names())
        found = pairs(table)
        summary = summarise(table, ["noise", "alpha"], "success", confidence).set_index(["noise", "alpha"])
        colors = _colors(sorted({p[1] for p in found}))
        for i, s in enumerate(sorted({p[1] for p in found})):
            mine = [p for p in found if p[1] == s]
            for small, dashed, label in ((True, "-", f"alpha, noise {s:g}"),
                                         (False, "--", f"2 alpha, noise {mine[0][3]:g}")):
                rows = summary.loc[[(p[1], p[0]) if small else (p[3], p[2]) for p in mine]]
                x = [p[0] for p in mine]
                ax.plot(x, rows["mean"].to_numpy(), color=colors[s], linestyle=dashed, marker="os^Dv"[i % 5],
                        markerfacecolor=colors[s] if small else "none", label=label)
                ax.fill_between(x, rows["low"].to_numpy(), rows["high"].to_numpy(), color=colors[s],
                                alpha=style.get("band_alpha", 0.2) * (1.0 if small else 0.5), linewidth=0)
        ax.set(xlabel=r"$\alpha$ (the smaller collective)", ylabel="success", ylim=(-0.03, 1.03), xscale=self.xscale,
               title=self.title + standin_note(table))
        _alpha_ticks(ax, sorted({p[0] for p in found}), self.xscale)
        ax.legend(frameon=False, fontsize=style.get("font_size", 8) * 0.7)


CAPTION = ("Coordination noise (Karan et al. 2025, 'Sync or Sink', whose noise model is not known to us; ours: {model}). "
           "ERM, last epoch; mean and Student-t interval over seeds; each noise level trains on collectives of its own "
           "(the same data and seeds). ")

FIGURES = {
    "noise": FigureSpec(
        (NoiseLevels(N_2D[0], levels=N_2D, title="(a) success, MLP"),
         NoiseLevels(N_2D[0], levels=N_2D, value="accuracy", legend=False, title="(b) clean test accuracy, MLP"),
         TwiceFourTimes(N_2D[0], levels=N_2D, title="(c) twice the size, four times the noise"),
         NoiseLevels(N_2D_LINEAR[0], levels=N_2D_LINEAR, title="(d) success, logistic regression")),
        CAPTION.format(model="each member plants g(x) = (x1, -|x2|) plus its own Gaussian error of standard deviation "
                             "'noise', not clipped to the square of half-width 1") +
        "(a) success against alpha per noise level (claim N1), (b) clean test accuracy, (c) a collective of size alpha "
        "at noise s (solid) against one of size 2 alpha at noise 4 s (dashed), at the smaller one's alpha (claim N2), "
        "(d) the same noise against logistic regression (claim N3, ours).", max_columns=2),
    "noise_text": FigureSpec(
        (NoiseLevels(N_TEXT[0], levels=N_TEXT, xscale="log", title="(a) a wrong token"),
         NoiseLevels(N_TEXT_POSITION[0], levels=N_TEXT_POSITION, xscale="log", title="(b) a wrong first position"),
         TwiceFourTimes(N_TEXT[0], levels=N_TEXT, xscale="log", title="(c) wrong token: 2 alpha, 4 x noise")),
        CAPTION.format(model="each member's insertion of the token goes wrong with probability 'noise', on its own: "
                             "(a) a random word of the vocabulary in its place, (b) the token from a wrong first "
                             "position") +
        "Success against alpha (log axis) per noise level (claim N1); (c) a collective of size alpha at noise p "
        "(solid) against one of size 2 alpha at noise 4 p (dashed), wrong tokens (claim N2). text_bag model."),
}
