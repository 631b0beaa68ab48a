"""Claims: the claims registry, computed from the panel tables only (results/claims.csv and claims.md)."""
from __future__ import annotations

from ..planning import paths
from .base import Step


class Claims(Step):
    name = "claims"
    entry = "claims"
    artifacts = {"claims_csv": "results/claims.csv", "claims_md": "results/claims.md"}

    def inputs(self, wc=None):
        """Each listed panel's table, and its per-epoch table where it has one ('<panel>_epochs'); and the
        robustness atlas's summary where the config puts it into claims.md (robustness.in_claims)."""
        out = {}
        for panel in self.plan.claim_panels():
            out[panel] = paths.path("table", panel=panel)
            if self.plan.panel(panel).get("per_epoch_alphas"):
                out[f"{panel}_epochs"] = paths.path("epoch_table", panel=panel)
        if self.plan.atlas_in_claims():
            if paths.ATLAS_INPUT in out:
                from ..configuration.errors import ConfigError

                raise ConfigError(f"config key 'panels.{paths.ATLAS_INPUT}': the name is the atlas's summary's in the "
                                  f"claims (robustness.in_claims); rename the panel")
            out[paths.ATLAS_INPUT] = paths.path("robustness_csv")
        return out

    def spec(self, wc=None):
        """The claims settings, with the panels as one list (how an overlay splits them into sets changes nothing)."""
        return {**self.plan.config["claims"], "panels": self.plan.claim_panels()}

    def code_roots(self, wc=None):
        from ..claims import MODULES

        return [*super().code_roots(wc), *MODULES]

    @staticmethod
    def run(job) -> None:
        from ..claims import core

        tables = dict(job.input.items())
        atlas = tables.pop(paths.ATLAS_INPUT, None)  # the atlas's summary, where claims.md carries it
        core.build(table_paths=tables, robustness_path=atlas, spec=job.params.spec, output_csv=job.output.csv,
                   output_md=job.output.md)
