"""The steps of the workflow: one module per step, each a :class:`base.Step` with its rule's name, the artifacts
it writes, its jobs' inputs and params, and what it runs. The registry finds them by reading their source (the
Snakefile does not import torch); :class:`jobs.Jobs`, the runner's dispatch, the warm worker and the paths of the
artifacts all read it, so a new step is one module here and one rule."""
from __future__ import annotations

from ..registry import Registry

STEPS = Registry(__name__, "Step", "step")
