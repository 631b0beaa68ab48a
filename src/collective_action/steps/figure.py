"""Figure: one figure (PDF and its provenance sidecar) from tables and data."""
from __future__ import annotations

from .base import PKG, Step


class Figure(Step):
    name = "figure"
    entry = "figures"
    artifacts = {"figure": "figures/{figure}.pdf", "figure_png": "figures/{figure}.png"}

    def _atlas(self, figure: str) -> dict | None:
        """{name, curves} of the atlas whose figure this is, if it is one."""
        for name, curves in self.plan.atlas_curves().items():
            if figure in (f"atlas_{name}", f"atlas_{name}_curve"):
                return {"name": name, "curves": curves}
        return None

    def _spec(self, figure: str):
        from ..configuration.errors import ConfigError
        from ..figures.catalog import FIGURES, spec_of

        atlas = self._atlas(figure)
        spec = spec_of(figure, {atlas["name"]: atlas["curves"]} if atlas else {})
        if spec is None:
            known = sorted(FIGURES) + [f"atlas_{a}{s}" for a in self.plan.atlas_names() for s in ("", "_curve")]
            raise ConfigError(f"unknown figure '{figure}' (known: {', '.join(known)})")
        return spec

    def inputs(self, wc):
        return {k: v for panel in self._spec(wc.figure).panels for k, v in panel.inputs(self.plan).items()}

    def spec(self, wc):
        """Style, plus what each panel reads beyond tables (whose own provenance covers the rest):
        restyling one figure or changing a panel's grid reruns exactly the figures that show it."""
        from ..configuration.merge import deep_merge

        figures = self.plan.config["figures"]
        atlas = self._atlas(wc.figure)
        return {"figure": wc.figure, "style": deep_merge(figures["style"], figures.get(wc.figure)),
                "confidence": self.plan.config["claims"]["confidence"],
                "panels": [panel.params(self.plan) for panel in self._spec(wc.figure).panels],
                **({"atlas": atlas} if atlas else {})}

    def code_roots(self, wc):
        from ..figures.catalog import module_of

        self._spec(wc.figure)
        return [*super().code_roots(wc), f"{PKG}.figures.panels", module_of(wc.figure)]

    @staticmethod
    def run(job) -> None:
        from .. import figures

        figures.draw(figure=job.wildcards.figure, inputs=dict(job.input.items()), params=job.params.spec,
                     output=job.output[0])
