"""The robustness atlas's steps: each variant's claims from that variant's tables, and the summary over variants
(results/robustness.csv and robustness.md)."""
from __future__ import annotations

from ..planning import paths
from .base import PKG
from .claims import Claims


class RobustnessClaims(Claims):
    """The atlas's claims under one variant, from that variant's tables."""

    name = "robustness_claims"
    artifacts = {"variant_claims": "results/robustness/claims/{variant}.csv"}

    def inputs(self, wc):
        return self.plan.atlas.by_id[wc.variant].tables()

    def spec(self, wc):
        return self.plan.atlas.claims_spec(wc.variant)

    @staticmethod
    def run(job) -> None:
        from ..claims import core

        core.build_variant(table_paths=dict(job.input.items()), spec=job.params.spec, output_csv=job.output[0])


class Robustness(Claims):
    """results/robustness.csv (one row per claim and variant) and robustness.md, from every variant's claims."""

    name = "robustness"
    entry = "claims.atlas"
    artifacts = {"robustness_csv": "results/robustness.csv", "robustness_md": "results/robustness.md"}

    def inputs(self, wc=None):
        return {vp.variant.id: paths.path("variant_claims", variant=vp.variant.id) for vp in self.plan.atlas.variants}

    def spec(self, wc=None):
        return self.plan.atlas.summary_spec()

    def code_roots(self, wc=None):
        return [f"{PKG}.{self.entry}", f"{PKG}.claims.core"]

    @staticmethod
    def run(job) -> None:
        from ..claims import atlas

        atlas.build(claim_paths=dict(job.input.items()), spec=job.params.spec, output_csv=job.output.csv,
                    output_md=job.output.md)
