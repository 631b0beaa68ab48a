"""Findings: results/findings.md, the one document a reader trusts, from what the workflow built."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..planning import paths
from .base import Step


def _study_command(plan, name: str) -> str:
    study = plan.study(name)
    external = any(plan.needs_external_data(p) for p in study["panels"])
    targets = [t for t in plan.study_targets(name) if t.startswith("figures/") or "/claims/" in t and t.endswith(".csv")]
    return ("snakemake --cores 2 " + " ".join(targets)
            + (" --configfile offline.yaml  # your data sources: studies/offline.example.yaml" if external else ""))


class Findings(Step):
    name = "findings"
    entry = "evaluation.findings"
    artifacts = {"findings": "results/findings.md"}

    def _default(self) -> list[str]:
        plan = self.plan
        return [s for s, spec in plan.studies().items()
                if spec.get("default") and not any(plan.needs_external_data(p) for p in spec["panels"])]

    def _figures(self, name: str) -> list[str]:
        return [Path(t).stem for t in self.plan.study_targets(name) if t.startswith("figures/")]

    def inputs(self, wc=None):
        """The default studies' claims and their figures' PNGs: what the default target builds anyway."""
        return {**{f"claims_{s}": paths.path("claims_csv", study=s) for s in self._default()},
                **{f"png_{f}": paths.path("figure_png", figure=f) for s in self._default() for f in self._figures(s)}}

    def spec(self, wc=None) -> dict[str, Any]:
        """Everything the document shows, and the checksums of what it reads beyond its inputs (the other studies'
        claims, the atlases' summaries, their PNGs, where they exist), so that it reruns when one of those is
        rebuilt without ever building one itself."""
        from .. import store

        plan = self.plan
        studies = [{"name": s, "title": spec["title"], "source": spec["source"], "default": bool(spec.get("default")),
                    "claims": paths.path("claims_csv", study=s), "figures": self._figures(s),
                    "command": _study_command(plan, s)} for s, spec in plan.studies().items()]
        atlases = [{"name": a, "title": plan.config["atlases"][a].get("title", a),
                    "summary": paths.path("atlas_csv", atlas=a),
                    "command": "snakemake --cores 2 " + " ".join(plan.atlas_targets(a)[:1] + plan.atlas_targets(a)[2:])}
                   for a in plan.atlas_names()]
        figures = {f for s in studies for f in s["figures"]} | {f"atlas_{a}{x}" for a in plan.atlas_names()
                                                                  for x in ("", "_curve")}
        pngs = {f: paths.path("figure_png", figure=f) for f in sorted(figures)}
        required = set(self.inputs().values())
        optional = [s["claims"] for s in studies] + [a["summary"] for a in atlases] + list(pngs.values())
        return {"title": "Findings", "tolerance": plan.config["findings"]["tolerance"], "studies": studies,
                "atlases": atlases, "pngs": pngs,
                "optional": {p: store.sha256_file(p) for p in optional if p not in required and Path(p).exists()}}

    @staticmethod
    def run(job) -> None:
        from ..evaluation import findings

        findings.build(spec=job.params.spec, output=job.output[0])
