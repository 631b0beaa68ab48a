"""Figures: what the runs produced, drawn from the panel tables.

A figure (:mod:`.catalog`, one module per figure family) is a row of panels; a panel
(:mod:`.panels`, one class per kind) says what it reads (``inputs``), what of the config
its drawing depends on (``params``), how many axes it takes and how to draw itself.
Lines are means over seeds and bands Student-t confidence intervals (appendix C); colours
and markers come from each learner's ``style`` (the paper's: ERM blue circles, JTT orange
squares, LfF green triangles), overridden per algorithm in the config; an algorithm with
no style anywhere still appears, in grey. The same tables give the same PDF bytes.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import store

PNG_DPI = 110  # the findings' PNGs: legible in a Markdown viewer, a few hundred KB at most


def _pyplot(style: Mapping[str, Any]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = style.get("font_size", 8)
    plt.rcParams.update({
        "font.size": size, "axes.titlesize": size, "legend.fontsize": size * 0.9,
        "lines.linewidth": style.get("line_width", 1.2), "lines.markersize": style.get("marker_size", 4),
        "pdf.fonttype": 42, "svg.hashsalt": "collective-action",
    })
    return plt


class Canvas:
    """The figure's axes, handed out to panels in order; tables read once and shared."""

    def __init__(self, plt, n_axes: int, ncols: int, style: Mapping[str, Any]):
        nrows = -(-n_axes // ncols)
        self.fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                                      figsize=(style.get("width", 3.4) * ncols, style.get("height", 2.6) * nrows))
        self.axes = list(axes.ravel())
        for ax in self.axes[n_axes:]:
            ax.set_visible(False)
        self._next = 0
        self._tables: dict[str, Any] = {}

    def take(self, n: int = 1) -> list:
        out = self.axes[self._next:self._next + n]
        self._next += n
        return out

    def table(self, path: str):
        if path not in self._tables:
            self._tables[path] = store.read_table(path)
        return self._tables[path]


def draw(*, figure: str, inputs: Mapping[str, str], params: Mapping[str, Any], output: str) -> None:
    """Draw one figure of the catalogue from its inputs into a PDF with a provenance sidecar."""
    from .catalog import spec_of

    atlas = params.get("atlas")
    spec = spec_of(figure, {atlas["name"]: atlas["curves"]} if atlas else {})
    style = params["style"]
    plt = _pyplot(style)
    counts = [panel.n_axes(p) for panel, p in zip(spec.panels, params["panels"])]
    n_axes = sum(counts)
    ncols = min(n_axes, spec.max_columns) if spec.max_columns else n_axes
    canvas = Canvas(plt, n_axes, ncols, style)
    for panel, p, n in zip(spec.panels, params["panels"], counts):
        panel.draw(canvas.take(n), canvas, inputs, p, style=style, confidence=params["confidence"])
    if len(spec.panels) == 1 and spec.panels[0].legend_outside:
        canvas.axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    if spec.bottom is None:
        canvas.fig.tight_layout()
    else:  # panels draw beneath their axes (specification curves), which a tight layout would squeeze
        canvas.fig.subplots_adjust(bottom=spec.bottom, wspace=0.6, left=0.08, right=0.98)
    with store.atomic_path(output) as tmp:
        canvas.fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "ModDate": None})
    png = str(Path(output).with_suffix(".png"))  # beside it, for Markdown viewers (the findings show it)
    with store.atomic_path(png) as tmp:
        canvas.fig.savefig(tmp, format="png", dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    store.write_sidecar(output, store.provenance(step="figure", config=dict(params), inputs=dict(inputs)))
    plt.close(canvas.fig)
