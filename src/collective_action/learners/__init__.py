"""Learning algorithms ("learners"), one module each, found by the registry.

A learner is a class deriving from :class:`collective_action.learners.base.Learner`
in its own file here, with literal class attributes that the workflow reads without
importing torch: ``name``, ``hyperparameters`` (JSON-schema properties, each with a
``default`` and a ``description``; they become the config schema of the learner),
``style`` (label, color, marker in figures) and ``description``. ``config.yaml``'s
``algorithms`` names instances of learners (``dp_sgd_eps1: {learner: dp_sgd, ...}``);
an entry named after a learner is an instance of it.
"""
from __future__ import annotations

from ..registry import Registry

LEARNERS = Registry(__name__, base="Learner", kind="learner")


def defaults(learner: str) -> dict:
    """The learner's hyperparameter defaults, from its schema."""
    return {key: prop["default"] for key, prop in LEARNERS.meta(learner).get("hyperparameters", {}).items()
            if "default" in prop}
