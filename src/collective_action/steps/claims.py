"""Claims: a study's claims, computed from its panels' tables only (results/claims/<study>.csv and .md)."""
from __future__ import annotations

from .base import Step


class Claims(Step):
    name = "claims"
    entry = "claims"
    artifacts = {"claims_csv": "results/claims/{study}.csv", "claims_md": "results/claims/{study}.md"}

    def inputs(self, wc):
        """Each of the study's panels' tables and per-epoch tables ('<panel>_epochs'), and those it reads."""
        return self.plan.study_tables(wc.study)

    def spec(self, wc):
        """The claims settings and the study (which claims are its own is the claims registry's to say: the job
        reads it, so that the Snakefile does not import the claims)."""
        study = self.plan.study(wc.study)
        return {"study": wc.study, "title": study["title"], "panels": list(study["panels"]),
                "reads": list(study.get("reads", [])), "settings": dict(self.plan.config["claims"])}

    def code_roots(self, wc=None):
        from ..claims import MODULES

        return [*super().code_roots(wc), *MODULES]

    @staticmethod
    def run(job) -> None:
        from ..claims import core

        core.build(table_paths=dict(job.input.items()), spec=job.params.spec, output_csv=job.output.csv,
                   output_md=job.output.md)
