"""Figures: what the runs produced, drawn from the panel tables.

Lines are means over seeds and bands Student-t confidence intervals (appendix C).
Marker and colour conventions follow the paper: ERM blue circles, JTT orange
squares, LfF green triangles. Every PDF gets a provenance sidecar and is written
without a creation date, so the same tables give the same bytes.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from . import datasets, store
from .catalog import FIGURES, key_data, key_epochs, key_run, key_table
from .stats import summarise

ALGO_STYLE = {
    "erm": dict(color="tab:blue", marker="o", label="ERM"),
    "jtt": dict(color="tab:orange", marker="s", label="JTT"),
    "lff": dict(color="tab:green", marker="^", label="LfF"),
}
LABEL_COLORS = ("tab:blue", "tab:red")


def _pyplot(style: Mapping[str, Any]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": style.get("font_size", 8),
        "axes.titlesize": style.get("font_size", 8),
        "legend.fontsize": style.get("font_size", 8) * 0.9,
        "lines.linewidth": style.get("line_width", 1.2),
        "lines.markersize": style.get("marker_size", 4),
        "pdf.fonttype": 42,
        "svg.hashsalt": "collective-action",
    })
    return plt


def save(fig, output: str, prov: Mapping[str, Any]) -> None:
    with store.atomic_path(output) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None})
    store.write_sidecar(output, prov)


HUE_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _hue_styles(hue: str, values: Sequence) -> dict:
    """Colour, marker and label of each line: the paper's conventions for algorithms and
    for training alphas (Fig 4: blue circles, then orange squares), a viridis ramp for
    other ordered values (k, c)."""
    if hue == "algorithm":
        return {v: ALGO_STYLE.get(v, dict(color="0.3", marker="x", label=str(v))) for v in values}
    if hue in ("alpha", "c"):
        paper = [("tab:blue", "o"), ("tab:orange", "s"), ("tab:green", "^"), ("tab:red", "D"), ("tab:purple", "v")]
        name = r"$\alpha_{train}$" if hue == "alpha" else "c"
        return {v: dict(color=paper[i % 5][0], marker=paper[i % 5][1], label=f"{name} = {v:g}")
                for i, v in enumerate(sorted(values))}
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    n = max(len(values) - 1, 1)
    return {v: dict(color=cmap(0.9 * i / n), marker=HUE_MARKERS[i % len(HUE_MARKERS)], label=f"{hue} = {v:g}")
            for i, v in enumerate(sorted(values))}


def primary_rule(table):
    """Rows of the table's first stopping rule, the one figures show."""
    return table[table["stopping"] == table["stopping"].iloc[0]]


def plot_curves(ax, table, hue: str, style, confidence: float, x: str = "alpha", value: str = "success") -> None:
    """Mean and Student-t band over seeds of ``value`` against ``x``, one line per ``hue``."""
    summary = summarise(table, [hue, x], value, confidence)
    order = [a for a in ALGO_STYLE if a in set(summary[hue])] if hue == "algorithm" else sorted(set(summary[hue]))
    styles = _hue_styles(hue, order)
    for h in order:
        s = summary[summary[hue] == h].sort_values(x)
        st = styles[h]
        ax.plot(s[x], s["mean"], marker=st["marker"], color=st["color"], label=st["label"])
        ax.fill_between(s[x], s["low"], s["high"], color=st["color"], alpha=style.get("band_alpha", 0.2), linewidth=0)



# ----------------------------------------------------------------------------- panels
def panel_data(ax, *, data_path: str, dataset_spec: Mapping[str, Any], style, title: str = "") -> None:
    """A sample of the training split coloured by label, the signal's codomain shaded grey."""
    import matplotlib.patches as mpatches

    from .datasets.synthetic import make_generator
    from .signals import make_signal

    data = datasets.load(data_path)
    x, y = data["train/x"], data["train/y"]
    n = min(int(style.get("n_points", 1000)), len(y))
    gen, signal = make_generator(dataset_spec), make_signal(dataset_spec["signal"])
    x1_lo, x1_hi, x2_lo, x2_hi = signal.codomain_box(gen.bounds)
    ax.add_patch(mpatches.Rectangle((x1_lo, x2_lo), x1_hi - x1_lo, x2_hi - x2_lo, color="0.85", zorder=0,
                                    label="signal codomain"))
    for label in np.unique(y):
        sel = y[:n] == label
        ax.scatter(x[:n][sel, 0], x[:n][sel, 1], s=style.get("point_size", 3), color=LABEL_COLORS[int(label) % 2],
                   label=f"y = {label}", linewidths=0)
    ax.set(xlim=gen.bounds[:2], ylim=gen.bounds[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title=title)


def select(table, where) -> "pd.DataFrame":
    for column, value in where:
        table = table[table[column] == value]
    return table


def plot_series(ax, table, series, x: str, style, confidence: float, value: str = "success") -> None:
    """One line per (algorithm, stopping rule) pair, with the given label, colour and marker."""
    for algo, rule, label, color, marker in series:
        rows = table[(table["algorithm"] == algo) & (table["stopping"] == rule)]
        if rows.empty:
            continue
        s = summarise(rows, [x], value, confidence).sort_values(x)
        ax.plot(s[x], s["mean"], marker=marker, color=color, label=label)
        ax.fill_between(s[x], s["low"], s["high"], color=color, alpha=style.get("band_alpha", 0.2), linewidth=0)


def panel_curves(ax, *, table, hue: str, style, confidence: float, title: str = "", bound: bool = False,
                 x: str = "alpha", series=()) -> None:
    if series:
        plot_series(ax, table, series, x, style, confidence)
    else:
        plot_curves(ax, primary_rule(table), hue, style, confidence, x=x)
        table = primary_rule(table)
    if bound and table["theorem1_bound"].notna().any():
        from .theory import theorem1_bound

        grid = np.linspace(table["alpha"].min(), table["alpha"].max(), 200)
        b = theorem1_bound(grid, float(table["delta"].iloc[0]), float(table["xi"].iloc[0]))
        ax.plot(grid[b > 0], b[b > 0], "k--", linewidth=style.get("line_width", 1.2) * 0.8, label="Thm 1 bound")
    if hue == "k" and "ceiling" in table and table["ceiling"].notna().any():
        styles = _hue_styles("k", sorted(set(table["k"])))
        for k, ceiling in table.groupby("k")["ceiling"].first().items():
            ax.axhline(ceiling, color=styles[k]["color"], linestyle=":", linewidth=style.get("line_width", 1.2) * 0.7)
    ax.set(xlabel={"alpha": r"$\alpha$", "alpha_val": r"$\alpha_{val}$"}.get(x, x), ylabel="success",
           ylim=(-0.03, 1.03), title=title)
    ax.legend(frameon=False)


def panel_epochs(ax, *, table, style, title: str = "") -> None:
    """Test success after every epoch, one shade per seed (Fig 3a)."""
    import matplotlib

    seeds = sorted(set(table["seed"]))
    cmap = matplotlib.colormaps["Greens"]
    for i, seed in enumerate(seeds):
        rows = table[table["seed"] == seed].sort_values("epoch")
        ax.plot(rows["epoch"], rows["success"], color=cmap(0.35 + 0.6 * i / max(len(seeds) - 1, 1)),
                linewidth=style.get("line_width", 1.2) * 0.8, marker="")
    alpha = ", ".join(f"{a:g}" for a in sorted(set(table["alpha"])))
    ax.set(xlabel="epoch", ylabel="success", ylim=(-0.03, 1.03), title=title or rf"$\alpha$ = {alpha}")


def panel_alpha_eff(ax, *, table, style, confidence: float, title: str = "") -> None:
    table = table[table["algorithm"] == "jtt"]
    summary = summarise(table, ["alpha"], "alpha_eff", confidence)
    st = ALGO_STYLE["jtt"]
    ax.plot(summary["alpha"], summary["mean"], marker=st["marker"], color=st["color"], label=r"JTT $\alpha_{eff}$ (Prop 3.2)")
    ax.fill_between(summary["alpha"], summary["low"], summary["high"], color=st["color"],
                    alpha=style.get("band_alpha", 0.2), linewidth=0)
    lim = float(max(table["alpha"].max(), summary["high"].max()) * 1.05)
    ax.plot([0, lim], [0, lim], color="0.4", linestyle=":", label=r"$\alpha_{eff} = \alpha$")
    ax.set(xlabel=r"$\alpha$", ylabel=r"$\alpha_{eff}$", xlim=(0, lim), ylim=(0, lim), title=title)
    ax.legend(frameon=False)


def panel_boundary(ax_data, ax_model, *, data_path: str, run_path: str, dataset_spec, style, resolution: int = 200) -> None:
    """The data, and beside it the decision regions of the run's first model (seed 0)."""
    from .datasets.synthetic import make_generator
    from .models import MLPBank

    panel_data(ax_data, data_path=data_path, dataset_spec=dataset_spec, style=style,
               title=f"k = {dataset_spec.get('k', '')}: data")
    run = store.read_h5(run_path)
    x1_lo, x1_hi, x2_lo, x2_hi = make_generator(dataset_spec).bounds
    g1, g2 = np.meshgrid(np.linspace(x1_lo, x1_hi, resolution), np.linspace(x2_lo, x2_hi, resolution))
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1)
    pred = MLPBank.predict_from_arrays(run.group("model"), grid, 0).argmax(axis=1).reshape(g1.shape)
    from matplotlib.colors import ListedColormap

    ax_model.contourf(g1, g2, pred, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(LABEL_COLORS), alpha=0.6)
    ax_model.set(xlim=(x1_lo, x1_hi), ylim=(x2_lo, x2_hi), xlabel="$x_1$", aspect="equal",
                 title=f"k = {dataset_spec.get('k', '')}: model")


def panel_signal_example(axes, *, data_path: str, dataset_spec, title: str, per_class: bool, exaggerate: int | None,
                         style) -> None:
    """Test images, their transforms g(x) and, with ``exaggerate``, the difference times that factor."""
    from . import rng as rngmod
    from .signals import make_signal

    data = datasets.load(data_path)
    signal = make_signal(dataset_spec["signal"], data)
    x, y = data["test/x"], data["test/y"]
    picks = [int(np.flatnonzero(y == c)[0]) for c in np.unique(y)[:2]] if per_class else [0]
    names = data.attrs["meta"].get("class_names")
    images = x[picks]
    transformed = signal.apply(images, rngmod.numpy_rng(0, "figure", "signal_example"))
    columns = [(images, "x"), (transformed, "g(x)")]
    if exaggerate:
        diff = (transformed.astype(np.int16) - images.astype(np.int16)) * exaggerate
        columns.append((np.clip(diff, 0, 255).astype(np.uint8), f"|g(x) - x| x {exaggerate}"))
    for row, pick in enumerate(picks):
        for col, (imgs, label) in enumerate(columns):
            ax = axes[row * len(columns) + col]
            ax.imshow(imgs[row].transpose(1, 2, 0), interpolation="nearest")
            name = names[int(y[pick])] if names else str(int(y[pick]))
            ax.set_title(f"{label} ({name})" if col == 0 else label)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0].set_title(f"{title}\n{axes[0].get_title()}" if title else axes[0].get_title())


def _n_panel_axes(ps) -> int:
    if ps.kind == "signal_example":
        return (2 if ps.options.get("per_class") else 1) * (3 if ps.options.get("exaggerate") else 2)
    return 1


def _standin_note(table) -> str:
    sources = " ".join(map(str, set(table.get("data_source", []))))
    return " (STAND-IN data)" if "STAND-IN" in sources else ""


# ----------------------------------------------------------------------------- figures
def draw(*, figure: str, inputs: Mapping[str, str], params: Mapping[str, Any], output: str) -> None:
    """Draw one figure of the catalogue (catalog.FIGURES) from its inputs into a PDF with provenance."""
    spec = FIGURES[figure]
    style, confidence = params["style"], params["confidence"]
    plt = _pyplot(style)
    # the datasets of each boundary panel: those whose run the figure reads, in order of k
    boundary_sets = {p: sorted((d for d in params["datasets"] if key_run(d, spec_p["algorithms"][0]) in inputs),
                               key=lambda d: params["datasets"][d].get("k", 0))
                     for p, spec_p in params["panels"].items()}
    n_axes = sum(2 * len(boundary_sets[ps.panel]) if ps.kind == "boundaries" else _n_panel_axes(ps) for ps in spec.panels)
    # a figure of boundary pairs alone wraps after two pairs; others are one row
    ncols = 4 if len(spec.panels) == 1 and spec.panels[0].kind == "boundaries" and n_axes > 4 else n_axes
    nrows = -(-n_axes // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(style.get("width", 3.4) * ncols, style.get("height", 2.6) * nrows),
                             squeeze=False)
    axes = list(axes.ravel())
    for ax in axes[n_axes:]:
        ax.set_visible(False)
    tables: dict[str, Any] = {}

    def table_of(key: str):
        if key not in tables:
            tables[key] = store.read_table(inputs[key])
        return tables[key]

    for ps in spec.panels:
        if ps.kind == "data":
            ds = params["members"][f"{ps.panel}:{ps.k}"]
            spec_ds = params["datasets"][ds]
            title = ps.title if ps.k is None or spec_ds.get("k") == ps.k else f"{ps.title.split(')')[0]}) k = {spec_ds.get('k')}"
            panel_data(axes.pop(0), data_path=inputs[key_data(ds)], dataset_spec=spec_ds, style=style, title=title)
            if len(spec.panels) == 1:
                fig.axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        elif ps.kind == "signal_example":
            ds = params["members"][f"{ps.panel}:{ps.k}"]
            n = _n_panel_axes(ps)
            panel_signal_example([axes.pop(0) for _ in range(n)], data_path=inputs[key_data(ds)],
                                 dataset_spec=params["datasets"][ds], title=ps.title,
                                 per_class=ps.options.get("per_class", False), exaggerate=ps.options.get("exaggerate"),
                                 style=style)
        elif ps.kind == "curves":
            table = select(table_of(key_table(ps.panel)), ps.where)
            panel_curves(axes.pop(0), table=table, hue=ps.hue, style=style, confidence=confidence,
                         title=ps.title + _standin_note(table), bound=ps.options.get("bound", False), x=ps.x,
                         series=ps.series)
        elif ps.kind == "alpha_eff":
            panel_alpha_eff(axes.pop(0), table=primary_rule(table_of(key_table(ps.panel))), style=style,
                            confidence=confidence)
        elif ps.kind == "epochs":
            table = select(table_of(key_epochs(ps.panel)), ps.where)
            panel_epochs(axes.pop(0), table=table, style=style, title=ps.title + _standin_note(table))
        elif ps.kind == "boundaries":
            algo = params["panels"][ps.panel]["algorithms"][0]
            for ds in boundary_sets[ps.panel]:
                panel_boundary(axes.pop(0), axes.pop(0), data_path=inputs[key_data(ds)], run_path=inputs[key_run(ds, algo)],
                               dataset_spec=params["datasets"][ds], style=style)
    fig.tight_layout()
    save(fig, output, store.provenance(step="figure", config=dict(params), inputs=dict(inputs)))
    plt.close(fig)
