"""Figure: one figure (PDF and its provenance sidecar) from tables and data."""
from __future__ import annotations

from .base import PKG, Step


class Figure(Step):
    name = "figure"
    entry = "figures"
    artifacts = {"figure": "figures/{figure}.pdf"}

    def _spec(self, figure: str):
        from ..configuration.errors import ConfigError
        from ..figures.catalog import FIGURES

        if figure not in FIGURES:
            raise ConfigError(f"unknown figure '{figure}' (known: {', '.join(sorted(FIGURES))})")
        return FIGURES[figure]

    def inputs(self, wc):
        return {k: v for panel in self._spec(wc.figure).panels for k, v in panel.inputs(self.plan).items()}

    def spec(self, wc):
        """Style, plus what each panel reads beyond tables (whose own provenance covers the rest):
        restyling one figure or changing a panel's grid reruns exactly the figures that show it."""
        from ..configuration.merge import deep_merge

        figures = self.plan.config["figures"]
        return {"figure": wc.figure, "style": deep_merge(figures["style"], figures.get(wc.figure)),
                "confidence": self.plan.config["claims"]["confidence"],
                "panels": [panel.params(self.plan) for panel in self._spec(wc.figure).panels]}

    def code_roots(self, wc):
        from ..figures.catalog import MODULES

        self._spec(wc.figure)
        return [*super().code_roots(wc), f"{PKG}.figures.panels", MODULES[wc.figure]]

    @staticmethod
    def run(job) -> None:
        from .. import figures

        figures.draw(figure=job.wildcards.figure, inputs=dict(job.input.items()), params=job.params.spec,
                     output=job.output[0])
