"""Synthetic data generators, one module each, found by the registry.

A generator derives from :class:`collective_action.datasets.generators.base.Generator`
and declares as literal class attributes its ``name`` (the config's ``generator``),
``parameters`` (JSON-schema properties of its dataset keys), ``required`` keys,
``family`` (the key that a list ``<key>s`` expands into one dataset per value, if any)
and ``description``. Each draws (x, y) from its base distribution P0 and knows which
labels have positive density at a point (``label_support``), from which the theory
module derives xi, Delta and the success a collective can reach.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...registry import Registry

GENERATORS = Registry(__name__, base="Generator", kind="synthetic generator")


def make_generator(spec: Mapping[str, Any]):
    return GENERATORS.get(spec["generator"]).from_spec(spec)
