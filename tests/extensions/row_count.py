"""A step from outside the package (tests/test_extensions.py copies it into a copy of the package's steps/): the
number of rows of a panel's table, in a text file. A new step is this module and one rule."""
from __future__ import annotations

from ..planning import paths
from .base import Step


class RowCount(Step):
    name = "row_count"
    entry = "steps.row_count"
    artifacts = {"row_count": "results/tables/{panel}.rows.txt"}

    def inputs(self, wc):
        return [paths.path("table", panel=wc.panel)]

    def spec(self, wc):
        return {"panel": wc.panel}

    @staticmethod
    def run(job) -> None:
        from .. import store

        rows = len(store.read_table(job.input[0]))
        store.write_text_atomic(job.output[0], f"{job.params.spec['panel']}: {rows} rows\n")
