"""Panel kinds: what a panel reads, what of the config it depends on, and how it draws.

A panel is drawn from one config panel (``panel``): its table, the prepared data of
its dataset, or the stored models of its runs. ``inputs(plan)`` and ``params(plan)``
run in the Snakefile (no matplotlib, no torch); ``draw`` runs in the figure job.
Input keys name what they hold (``table_<panel>``, ``data_<dataset>``, ...), so two
panels of a figure that read the same file share one input.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..planning import paths

LABEL_COLORS = ("tab:blue", "tab:red")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
ORDERED_HUES = ((("tab:blue", "o"), ("tab:orange", "s"), ("tab:green", "^"), ("tab:red", "D"), ("tab:purple", "v")))
AXIS_LABELS = {"alpha": r"$\alpha$", "alpha_val": r"$\alpha_{val}$", "success": "success",
               "accuracy": "clean test accuracy", "alpha_eff_weights": r"$\alpha_{eff}$ (from weights)",
               "alpha_eff": r"$\alpha_{eff}$"}


def key_table(panel: str) -> str:
    return f"table_{panel}"


def key_epochs(panel: str) -> str:
    return f"epochs_{panel}"


def key_data(dataset: str) -> str:
    return f"data_{dataset}"


def key_run(dataset: str, algorithm: str) -> str:
    return f"run_{dataset}_{algorithm}"


def algorithm_style(plan, algorithm: str, index: int = 0) -> dict[str, str]:
    """Label, colour and marker of an algorithm: grey defaults, then its learner's ``style``,
    then the config's keys. An instance of a learner under another name says so in its label;
    an algorithm nobody styled still gets a distinct marker rather than vanishing."""
    from ..learners import LEARNERS

    entry = plan.algorithm(algorithm)
    learner_style = LEARNERS.meta(entry["learner"]).get("style", {})
    style = {"label": algorithm, "color": "0.35", "marker": MARKERS[index % len(MARKERS)], **learner_style}
    if algorithm != entry["learner"] and "label" in learner_style:
        style["label"] = f"{learner_style['label']} ({algorithm})"
    return {**style, **entry["style"]}


def standin_note(table) -> str:
    sources = " ".join(map(str, set(table.get("data_source", []))))
    return " (STAND-IN data)" if "STAND-IN" in sources else ""


def select(table, where: Sequence[tuple[str, Any]]):
    for column, value in where:
        table = table[table[column] == value]
    return table


def primary_rule(table):
    """Rows of the table's first stopping rule, the one figures show."""
    return table[table["stopping"] == table["stopping"].iloc[0]] if len(table) else table


def band(ax, summary, x: str, style: Mapping[str, Any], line: Mapping[str, Any], band_alpha: float) -> None:
    ax.plot(summary[x], summary["mean"], marker=line["marker"], color=line["color"], label=line["label"])
    ax.fill_between(summary[x], summary["low"], summary["high"], color=line["color"], alpha=band_alpha, linewidth=0)


@dataclass(frozen=True)
class Panel:
    """One panel of a figure, drawn from config panel ``panel``."""

    panel: str
    title: str = ""
    legend_outside: ClassVar[bool] = False

    def panel_names(self) -> tuple[str, ...]:
        return (self.panel,)

    def inputs(self, plan) -> dict[str, str]:
        return {key_table(self.panel): paths.path("table", panel=self.panel)}

    def params(self, plan) -> dict[str, Any]:
        return {}

    def n_axes(self, params: Mapping[str, Any]) -> int:
        return 1

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Curves(Panel):
    """Mean and Student-t band over seeds of ``value`` against ``x``: one line per ``hue``
    (algorithm, alpha, k, c), or one per entry of ``series`` ((algorithm, stopping rule,
    label, colour, marker), for stopping rules side by side). ``bound``: Theorem 1's bound;
    ``ceiling``: per k, the success reachable without contradicting clean data.
    ``show_accuracy``: each legend entry states the clean test accuracy its runs reached (the
    range over the line's points of the mean over seeds), so a reader sees whether the model fits
    the data at all; None (the default): on external (image, text) data, whose tables'
    data_source is not 'synthetic'. ``legend``: False leaves it to another panel of the figure."""

    hue: str = "algorithm"
    x: str = "alpha"
    value: str = "success"
    where: tuple = ()
    series: tuple = ()
    bound: bool = False
    ceiling: bool = False
    diagonal: bool = False
    xscale: str = "linear"
    show_accuracy: bool | None = None
    legend: bool = True

    def params(self, plan) -> dict[str, Any]:
        if self.hue != "algorithm":
            return {}
        algorithms = plan.panel(self.panel)["algorithms"]
        return {"styles": {a: algorithm_style(plan, a, i) for i, a in enumerate(algorithms)}}

    def _line_styles(self, hue_values, params) -> dict:
        if self.hue == "algorithm":
            return {v: params["styles"].get(v, {"label": v, "color": "0.35", "marker": "x"}) for v in hue_values}
        if self.hue in ("alpha", "c"):
            name = r"$\alpha_{train}$" if self.hue == "alpha" else "c"
            return {v: {"color": ORDERED_HUES[i % 5][0], "marker": ORDERED_HUES[i % 5][1], "label": f"{name} = {v:g}"}
                    for i, v in enumerate(hue_values)}
        import matplotlib

        cmap, n = matplotlib.colormaps["viridis"], max(len(hue_values) - 1, 1)
        return {v: {"color": cmap(0.9 * i / n), "marker": MARKERS[i % len(MARKERS)], "label": f"{self.hue} = {v:g}"}
                for i, v in enumerate(hue_values)}

    def _accuracy_note(self, table, rows) -> str:
        """', test acc. 0.87' (or '0.29-0.72': the range of its points' means over seeds) for the line
        drawn from ``rows``, where accuracies are shown."""
        show = self.show_accuracy
        if show is None:
            show = "data_source" in table and bool((table["data_source"] != "synthetic").any())
        if not show or "accuracy" not in rows or not rows["accuracy"].notna().any():
            return ""
        means = rows.groupby(self.x)["accuracy"].mean()
        low, high = f"{means.min():.2f}", f"{means.max():.2f}"
        return f", test acc. {low}" if low == high else f", test acc. {low}-{high}"

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ..evaluation.stats import summarise

        ax, band_alpha = axes[0], style.get("band_alpha", 0.2)
        table = select(canvas.table(inputs[key_table(self.panel)]), self.where)
        table = table[table[self.value].notna()] if self.value in table else table.iloc[0:0]
        if self.series:
            for algo, rule, label, color, marker in self.series:
                rows = table[(table["algorithm"] == algo) & (table["stopping"] == rule)]
                if len(rows):
                    band(ax, summarise(rows, [self.x], self.value, confidence).sort_values(self.x), self.x, style,
                         {"label": label + self._accuracy_note(table, rows), "color": color, "marker": marker},
                         band_alpha)
        else:
            table = primary_rule(table)
            if self.hue == "algorithm":  # the config's order, then anything else the table holds
                order = [a for a in params["styles"] if a in set(table["algorithm"])]
                order += sorted(set(table["algorithm"]) - set(order))
            else:
                order = sorted(set(table[self.hue]))
            lines = self._line_styles(order, params)
            lines = {h: dict(line, label=line["label"] + self._accuracy_note(table, table[table[self.hue] == h]))
                     for h, line in lines.items()}
            summary = summarise(table, [self.hue, self.x], self.value, confidence)
            for h in order:
                band(ax, summary[summary[self.hue] == h].sort_values(self.x), self.x, style, lines[h], band_alpha)
            if self.ceiling and "ceiling" in table and table["ceiling"].notna().any():
                for k, ceiling in table.groupby(self.hue)["ceiling"].first().items():
                    ax.axhline(ceiling, color=lines[k]["color"], linestyle=":",
                               linewidth=style.get("line_width", 1.2) * 0.7)
        if self.bound and len(table) and table["theorem1_bound"].notna().any():
            from ..evaluation.theory import theorem1_bound

            lo, hi = table["alpha"].min(), table["alpha"].max()
            grid = np.geomspace(lo, hi, 200) if self.xscale == "log" and lo > 0 else np.linspace(lo, hi, 200)
            b = theorem1_bound(grid, float(table["delta"].iloc[0]), float(table["xi"].iloc[0]))
            ax.plot(grid[b > 0], b[b > 0], "k--", linewidth=style.get("line_width", 1.2) * 0.8, label="Thm 1 bound")
        if self.diagonal and len(table):
            lim = float(table[self.x].max()) * 1.05
            ax.plot([0, lim], [0, lim], color="0.4", linestyle=":", label=f"{AXIS_LABELS[self.value]} = {AXIS_LABELS[self.x]}")
        ylim = (-0.03, 1.03) if self.value in ("success", "accuracy") else None
        ax.set(xlabel=AXIS_LABELS.get(self.x, self.x), ylabel=AXIS_LABELS.get(self.value, self.value), ylim=ylim,
               xscale=self.xscale, title=self.title + standin_note(table))
        if self.legend:
            ax.legend(frameon=False)


@dataclass(frozen=True)
class AlphaEff(Panel):
    """JTT's measured effective collective size (Prop 3.2, from its stage-one error set)
    against alpha, with the diagonal alpha_eff = alpha."""

    algorithm: str = "jtt"

    def params(self, plan) -> dict[str, Any]:
        return {"style": algorithm_style(plan, self.algorithm)}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ..evaluation.stats import summarise

        ax = axes[0]
        table = primary_rule(canvas.table(inputs[key_table(self.panel)]))
        table = table[table["algorithm"] == self.algorithm]
        summary = summarise(table, ["alpha"], "alpha_eff", confidence)
        line = dict(params["style"], label=rf"{params['style']['label']} $\alpha_{{eff}}$ (Prop 3.2)")
        band(ax, summary, "alpha", style, line, style.get("band_alpha", 0.2))
        lim = float(max(table["alpha"].max(), summary["high"].max()) * 1.05)
        ax.plot([0, lim], [0, lim], color="0.4", linestyle=":", label=r"$\alpha_{eff} = \alpha$")
        ax.set(xlabel=r"$\alpha$", ylabel=r"$\alpha_{eff}$", xlim=(0, lim), ylim=(0, lim), title=self.title)
        ax.legend(frameon=False)


@dataclass(frozen=True)
class Epochs(Panel):
    """Test success after every epoch of one algorithm, one shade per seed (Fig 3a)."""

    algorithm: str = "cvar_dro"

    def inputs(self, plan) -> dict[str, str]:
        return {key_epochs(self.panel): paths.path("epoch_table", panel=self.panel)}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        import matplotlib

        ax = axes[0]
        table = select(canvas.table(inputs[key_epochs(self.panel)]), (("algorithm", self.algorithm),))
        seeds = sorted(set(table["seed"]))
        cmap = matplotlib.colormaps["Greens"]
        for i, seed in enumerate(seeds):
            rows = table[table["seed"] == seed].sort_values("epoch")
            ax.plot(rows["epoch"], rows["success"], color=cmap(0.35 + 0.6 * i / max(len(seeds) - 1, 1)),
                    linewidth=style.get("line_width", 1.2) * 0.8, marker="")
        alphas = ", ".join(f"{a:g}" for a in sorted(set(table["alpha"])))
        ax.set(xlabel="epoch", ylabel="success", ylim=(-0.03, 1.03),
               title=(self.title or rf"$\alpha$ = {alphas}") + standin_note(table))


def collective_label(signal: Mapping[str, Any]) -> str:
    """A collective in a legend: its signal (and planted token, if any) and target label."""
    token = f" '{signal['token']}'" if "token" in signal else ""
    return f"{signal['kind'].replace('_', ' ')}{token}, y*={signal['target_label']}"


@dataclass(frozen=True)
class TwoCollectives(Panel):
    """Two collectives in one training set (a dataset with ``collective_2``): the success of each against
    the size alpha of the first (the panel's alphas), the second's size fixed; mean and Student-t band over
    seeds of the panel's first algorithm; dotted: the success of the Bayes classifier of the poisoned
    distribution (``bayes_success``, ``bayes_success_2``) at the same alphas. ``colors``: (colour, marker) of
    the growing and of the fixed collective (swap them where the roles are swapped, so that a collective keeps
    its colour across panels). ``xscale``: 'linear', or 'symlog' (logarithmic above the smallest positive alpha,
    linear below it, so that alpha = 0 stays on the axis)."""

    colors: tuple = (("tab:blue", "o"), ("tab:red", "s"))
    xscale: str = "linear"

    def params(self, plan) -> dict[str, Any]:
        spec = plan.dataset_spec(plan.panel_datasets(self.panel)[0])
        second = spec["collective_2"]
        return {"algorithm": plan.panel(self.panel)["algorithms"][0], "first": collective_label(spec["signal"]),
                "second": collective_label(second["signal"]),
                "size_2": (f"size {float(second['alpha']):g}" if second.get("alpha") is not None
                           else "size " + ("" if float(second["alpha_ratio"]) == 1 else f"{second['alpha_ratio']:g} ")
                           + r"$\alpha$")}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ..evaluation.stats import summarise

        ax, band_alpha = axes[0], style.get("band_alpha", 0.2)
        table = primary_rule(canvas.table(inputs[key_table(self.panel)]))
        table = table[table["algorithm"] == params["algorithm"]]
        lines = (("success", "bayes_success", f"{params['first']}, size " + r"$\alpha$"),
                 ("success_2", "bayes_success_2", f"{params['second']}, {params['size_2']}"))
        for (value, bayes, label), (color, marker) in zip(lines, self.colors):
            if value not in table or table[value].isna().all():
                continue
            band(ax, summarise(table, ["alpha"], value, confidence), "alpha", style,
                 {"label": label, "color": color, "marker": marker}, band_alpha)
            if bayes in table and table[bayes].notna().any():
                b = table.groupby("alpha")[bayes].first()
                ax.plot(b.index, b.values, color=color, linestyle=":", marker="",
                        linewidth=style.get("line_width", 1.2) * 0.8, label="Bayes classifier" if value == "success_2"
                        else None)
        ax.set(xlabel=r"$\alpha$ (size of the growing collective)", ylabel="success", ylim=(-0.03, 1.03),
               title=self.title + standin_note(table))
        if self.xscale == "symlog":
            positive = table.loc[table["alpha"] > 0, "alpha"]
            lo = float(positive.min())
            ax.set_xscale("symlog", linthresh=lo, linscale=0.5)
            ax.set_xticks([0.0, *10.0 ** np.arange(np.ceil(np.log10(lo)), np.floor(np.log10(positive.max())) + 1)])
            ax.set_xlim(left=-0.2 * lo)
        ax.legend(frameon=False, loc="center left", fontsize=style.get("font_size", 8) * 0.75)


def _scatter_data(ax, data, spec, style, title: str) -> tuple:
    """A training sample coloured by label, the signal's codomain shaded grey; returns the data box."""
    import matplotlib.patches as mpatches

    from ..datasets.generators import make_generator
    from ..signals import make_signal

    x, y = data["train/x"], data["train/y"]
    n = min(int(style.get("n_points", 1000)), len(y))
    bounds = make_generator(spec).bounds
    x1_lo, x1_hi, x2_lo, x2_hi = make_signal(spec["signal"]).codomain_box(bounds)
    ax.add_patch(mpatches.Rectangle((x1_lo, x2_lo), x1_hi - x1_lo, x2_hi - x2_lo, color="0.85", zorder=0,
                                    label="signal codomain"))
    for label in np.unique(y):
        sel = y[:n] == label
        ax.scatter(x[:n][sel, 0], x[:n][sel, 1], s=style.get("point_size", 3), color=LABEL_COLORS[int(label) % 2],
                   label=f"y = {label}", linewidths=0)
    ax.set(xlim=bounds[:2], ylim=bounds[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title=title)
    return bounds


@dataclass(frozen=True)
class Data(Panel):
    """A sample of a 2D dataset coloured by label, with the signal's codomain; for a family,
    the member nearest to ``member`` (e.g. k = 6)."""

    member: float | None = None
    legend_outside: ClassVar[bool] = True

    def dataset(self, plan) -> str:
        return plan.family_member(self.panel, self.member)

    def inputs(self, plan) -> dict[str, str]:
        dataset = self.dataset(plan)
        return {key_data(dataset): paths.data_file(plan, dataset)}

    def params(self, plan) -> dict[str, Any]:
        dataset = self.dataset(plan)
        return {"dataset": dataset, "spec": plan.dataset_spec(dataset)}

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from ..datasets import load

        spec, title = params["spec"], self.title
        if self.member is not None and spec.get("k") != self.member:  # the family lacks that member
            title = f"{title.split(')')[0]}) k = {spec.get('k')}"
        _scatter_data(axes[0], load(inputs[key_data(params["dataset"])]), spec, style, title)


@dataclass(frozen=True)
class SignalExample(Data):
    """Test images, their transforms g(x) and, with ``exaggerate``, the difference magnified;
    ``per_class``: one row for each of the first two classes."""

    per_class: bool = False
    exaggerate: int | None = None
    legend_outside: ClassVar[bool] = False

    def n_axes(self, params) -> int:
        return (2 if self.per_class else 1) * (3 if self.exaggerate else 2)

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from .. import rng as rngmod
        from ..datasets import load
        from ..signals import make_signal

        data = load(inputs[key_data(params["dataset"])])
        signal = make_signal(params["spec"]["signal"], data)
        x, y = data["test/x"], data["test/y"]
        picks = [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)[:2]] if self.per_class else [0]
        names = data.attrs["meta"].get("class_names")
        images = x[picks]
        transformed = signal.apply(images, rngmod.numpy_rng(0, "figure", "signal_example"))
        columns = [(images, "x"), (transformed, "g(x)")]
        if self.exaggerate:
            diff = (transformed.astype(np.int16) - images.astype(np.int16)) * self.exaggerate
            columns.append((np.clip(diff, 0, 255).astype(np.uint8), f"|g(x) - x| x {self.exaggerate}"))
        for row, pick in enumerate(picks):
            for col, (imgs, label) in enumerate(columns):
                ax = axes[row * len(columns) + col]
                ax.imshow(imgs[row].transpose(1, 2, 0), interpolation="nearest")
                name = names[int(y[pick])] if names else str(int(y[pick]))
                ax.set_title(f"{label} ({name})" if col == 0 else label)
                ax.set_xticks([])
                ax.set_yticks([])
        if self.title:
            axes[0].set_title(f"{self.title}\n{axes[0].get_title()}")


@dataclass(frozen=True)
class Boundaries(Panel):
    """For every dataset of the panel (in order of k), the data beside the decision regions of
    the first model (seed 0) of the panel's first cell (Fig 8)."""

    resolution: int = 200

    def _cell(self, plan):
        p = plan.panel(self.panel)
        return p["algorithms"][0], p["alphas"][0], p["alpha_vals"][0]

    def _datasets(self, plan) -> list[str]:
        return sorted(plan.panel_datasets(self.panel), key=lambda d: plan.dataset_spec(d).get("k", 0))

    def inputs(self, plan) -> dict[str, str]:
        algo, alpha, alpha_val = self._cell(plan)
        out = {}
        for ds in self._datasets(plan):
            out[key_data(ds)] = paths.data_file(plan, ds)
            out[key_run(ds, algo)] = paths.path("run", dataset=ds, algorithm=algo, alpha=alpha, alpha_val=alpha_val)
        return out

    def params(self, plan) -> dict[str, Any]:
        return {"algorithm": self._cell(plan)[0],
                "datasets": {ds: plan.dataset_spec(ds) for ds in self._datasets(plan)}}

    def n_axes(self, params) -> int:
        return 2 * len(params["datasets"])

    def draw(self, axes, canvas, inputs, params, *, style, confidence) -> None:
        from matplotlib.colors import ListedColormap

        from .. import store
        from ..datasets import load
        from ..models.banks import MLPBank

        for i, (ds, spec) in enumerate(params["datasets"].items()):
            ax_data, ax_model = axes[2 * i], axes[2 * i + 1]
            k = spec.get("k", "")
            x1_lo, x1_hi, x2_lo, x2_hi = _scatter_data(ax_data, load(inputs[key_data(ds)]), spec, style,
                                                       f"k = {k}: data")
            model = store.read_h5(inputs[key_run(ds, params["algorithm"])]).group("model")
            g1, g2 = np.meshgrid(np.linspace(x1_lo, x1_hi, self.resolution), np.linspace(x2_lo, x2_hi, self.resolution))
            grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
            pred = MLPBank.predict_from_arrays(model, grid, 0).argmax(axis=1).reshape(g1.shape)
            ax_model.contourf(g1, g2, pred, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(LABEL_COLORS), alpha=0.6)
            ax_model.set(xlim=(x1_lo, x1_hi), ylim=(x2_lo, x2_hi), xlabel="$x_1$", aspect="equal",
                         title=f"k = {k}: model")


@dataclass(frozen=True)
class FigureSpec:
    """A figure: a row of panels (wrapping after ``max_columns`` axes, if given) and its caption."""

    panels: tuple[Panel, ...]
    caption: str = ""
    max_columns: int | None = None
    # matplotlib's tight layout; or the space left below the axes (for panels that draw beneath them)
    bottom: float | None = None

    def panel_names(self) -> list[str]:
        return list(dict.fromkeys(name for panel in self.panels for name in panel.panel_names()))
