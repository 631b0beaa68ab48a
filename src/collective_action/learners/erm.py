"""Empirical risk minimisation: Adam on the average cross-entropy (appendix C)."""
from __future__ import annotations

from .base import Learner


class ERM(Learner):
    name = "erm"
    description = "Empirical risk minimisation: the average cross-entropy. No hyperparameters of its own."
    style = {"label": "ERM", "color": "tab:blue", "marker": "o"}
