"""Where a job's time goes: named phases, summed and logged as one line per job.

``benchmarks/bench_workflow.py`` reads these lines from the jobs' logs. No effect on
results; a phase costs two clock reads.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time

PHASES: dict[str, float] = {}


@contextlib.contextmanager
def phase(name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        PHASES[name] = PHASES.get(name, 0.0) + time.perf_counter() - start


def log_timings(extra: dict[str, float] | None = None) -> None:
    """One line 'timing {...}' in the job's log: seconds per phase."""
    record = {**(extra or {}), **PHASES}
    logging.getLogger("collective_action.timing").info("timing %s", json.dumps({k: round(v, 4) for k, v in
                                                                               record.items()}))
    PHASES.clear()  # the next job in this process (a driver running several) starts from zero
