"""A robustness atlas's steps: each variant's claims from that variant's tables, and the summary over the variants
(results/atlas/<atlas>/summary.csv and .md)."""
from __future__ import annotations

from ..planning import paths
from .base import PKG
from .claims import Claims


class AtlasClaims(Claims):
    """An atlas's claims under one variant, from that variant's tables."""

    name = "atlas_claims"
    artifacts = {"atlas_variant": "results/atlas/{atlas}/claims/{variant}.csv"}

    def inputs(self, wc):
        return self.plan.atlas(wc.atlas).by_id[wc.variant].tables()

    def spec(self, wc):
        return self.plan.atlas(wc.atlas).claims_spec(wc.variant)

    @staticmethod
    def run(job) -> None:
        from ..claims import core

        core.build_variant(table_paths=dict(job.input.items()), spec=job.params.spec, output_csv=job.output[0])


class AtlasSummary(Claims):
    """One row per claim and variant, and per claim how many variants reproduce it, from every variant's claims."""

    name = "atlas"
    entry = "claims.atlas"
    artifacts = {"atlas_csv": "results/atlas/{atlas}/summary.csv", "atlas_md": "results/atlas/{atlas}/summary.md"}

    def inputs(self, wc):
        return {vp.variant.id: paths.path("atlas_variant", atlas=wc.atlas, variant=vp.variant.id)
                for vp in self.plan.atlas(wc.atlas).variants}

    def spec(self, wc):
        return self.plan.atlas(wc.atlas).summary_spec()

    def code_roots(self, wc=None):
        return [f"{PKG}.{self.entry}", f"{PKG}.claims.core"]

    @staticmethod
    def run(job) -> None:
        from ..claims import atlas

        atlas.build(claim_paths=dict(job.input.items()), spec=job.params.spec, output_csv=job.output.csv,
                    output_md=job.output.md)
