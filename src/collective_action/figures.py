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


def plot_success_curves(ax, table, algorithms: Sequence[str], x: str, style, value: str = "success", confidence=0.95,
                        algo_style=ALGO_STYLE) -> None:
    summary = summarise(table, ["algorithm", x], value, confidence)
    for algo in algorithms:
        s = summary[summary["algorithm"] == algo].sort_values(x)
        if s.empty:
            continue
        st = algo_style[algo]
        ax.plot(s[x], s["mean"], marker=st["marker"], color=st["color"], label=st["label"])
        ax.fill_between(s[x], s["low"], s["high"], color=st["color"], alpha=style.get("band_alpha", 0.2), linewidth=0)


def draw_data_2d(*, data_path: str, dataset_spec: Mapping[str, Any], style: Mapping[str, Any], output: str,
                 prov_config: Mapping[str, Any], title: str = "") -> None:
    from .datasets.synthetic import make_generator
    from .signals import make_signal

    plt = _pyplot(style)
    data = datasets.load(data_path)
    x, y = data["train/x"], data["train/y"]
    n = min(int(style.get("n_points", 1000)), len(y))
    gen, signal = make_generator(dataset_spec), make_signal(dataset_spec["signal"])
    fig, ax = plt.subplots(figsize=(style.get("width", 3.0), style.get("height", 3.0)))
    x1_lo, x1_hi, x2_lo, x2_hi = signal.codomain_box(gen.bounds)
    ax.add_patch(plt.Rectangle((x1_lo, x2_lo), x1_hi - x1_lo, x2_hi - x2_lo, color="0.8", zorder=0, label="signal codomain"))
    for label in np.unique(y):
        sel = (y[:n] == label)
        ax.scatter(x[:n][sel, 0], x[:n][sel, 1], s=style.get("point_size", 3), color=LABEL_COLORS[int(label) % 2],
                   label=f"y = {label}", linewidths=0)
    ax.set(xlim=gen.bounds[:2], ylim=gen.bounds[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    save(fig, output, store.provenance(step="figure", config=dict(prov_config), inputs={"data": data_path}))
    plt.close(fig)


def draw_success_vs_alpha(*, table_path: str, style: Mapping[str, Any], output: str, prov_config: Mapping[str, Any],
                          confidence: float, title: str = "", bound: bool = True) -> None:
    plt = _pyplot(style)
    table = store.read_table(table_path)
    table = table[table["stopping"] == table["stopping"].iloc[0]]
    algorithms = [a for a in ALGO_STYLE if a in set(table["algorithm"])]
    fig, ax = plt.subplots(figsize=(style.get("width", 3.4), style.get("height", 2.6)))
    plot_success_curves(ax, table, algorithms, "alpha", style, confidence=confidence)
    if bound and table["theorem1_bound"].notna().any():
        grid = np.linspace(table["alpha"].min(), table["alpha"].max(), 200)
        from .theory import theorem1_bound

        xi, delta = float(table["xi"].iloc[0]), float(table["delta"].iloc[0])
        b = theorem1_bound(grid, delta, xi)
        keep = b > 0
        ax.plot(grid[keep], b[keep], "k--", linewidth=style.get("line_width", 1.2) * 0.8, label="Thm 1 bound")
    ax.set(xlabel=r"$\alpha$", ylabel="success", ylim=(-0.03, 1.03), title=title)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    save(fig, output, store.provenance(step="figure", config=dict(prov_config), inputs={"table": table_path}))
    plt.close(fig)


def draw_alpha_eff(*, table_path: str, style: Mapping[str, Any], output: str, prov_config: Mapping[str, Any],
                   confidence: float) -> None:
    plt = _pyplot(style)
    table = store.read_table(table_path)
    table = table[(table["stopping"] == table["stopping"].iloc[0]) & (table["algorithm"] == "jtt")]
    fig, ax = plt.subplots(figsize=(style.get("width", 3.0), style.get("height", 2.6)))
    summary = summarise(table, ["alpha"], "alpha_eff", confidence)
    st = ALGO_STYLE["jtt"]
    ax.plot(summary["alpha"], summary["mean"], marker=st["marker"], color=st["color"], label=r"JTT $\alpha_{eff}$ (Prop 3.2)")
    ax.fill_between(summary["alpha"], summary["low"], summary["high"], color=st["color"],
                    alpha=style.get("band_alpha", 0.2), linewidth=0)
    lim = float(max(table["alpha"].max(), summary["high"].max()) * 1.05)
    ax.plot([0, lim], [0, lim], color="0.4", linestyle=":", label=r"$\alpha_{eff} = \alpha$")
    ax.set(xlabel=r"$\alpha$", ylabel=r"$\alpha_{eff}$", xlim=(0, lim), ylim=(0, lim))
    ax.legend(frameon=False)
    save(fig, output, store.provenance(step="figure", config=dict(prov_config), inputs={"table": table_path}))
    plt.close(fig)


def draw(*, figure: str, inputs: Mapping[str, str], params: Mapping[str, Any], output: str) -> None:
    """Draw one figure of the catalogue from its inputs (see catalog.FIGURES)."""
    style, confidence = params["style"], params["confidence"]
    if figure == "fig1a":
        draw_data_2d(data_path=inputs["data_fig1b"], dataset_spec=params["datasets"]["fig1b"], style=style,
                     output=output, prov_config=params)
    elif figure == "fig1b":
        draw_success_vs_alpha(table_path=inputs["table_fig1b"], style=style, output=output, prov_config=params,
                              confidence=confidence)
    elif figure == "alpha_eff":
        draw_alpha_eff(table_path=inputs["table_fig1b"], style=style, output=output, prov_config=params,
                       confidence=confidence)
    else:
        raise ValueError(f"no drawing function for figure '{figure}'")
