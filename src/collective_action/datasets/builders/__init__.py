"""Dataset builders (image and text data from external sources), one module each.

A builder derives from :class:`collective_action.datasets.builders.base.Builder` and
declares as literal class attributes its ``name`` (the config's ``builder``), the
``sources`` it reads (keys of the config's ``sources``; ``extra_sources`` adds some
for a source kind, e.g. the Waterbirds stand-in is made from CIFAR-10;
``source_parameter`` names a dataset key that picks the one source read),
``parameters`` (JSON-schema properties of its dataset keys), ``required`` keys,
``family`` and ``description``. ``build`` returns the arrays and metadata of one h5
file: uint8 images in NCHW (or token ids), labels, groups where they exist, the
train/val/test splits, and a human-readable ``source_label`` that tables and figures
carry, so a stand-in is always named as one.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...registry import Registry

BUILDERS = Registry(__name__, base="Builder", kind="dataset builder")


def needed_sources(spec: Mapping[str, Any], all_sources: Mapping[str, Any]) -> dict[str, Any]:
    """The config of every source a dataset is built from."""
    meta = BUILDERS.meta(spec["builder"])
    names = list(meta.get("sources", []))
    if meta.get("source_parameter"):  # the builder reads only the source its dataset key names
        names = [spec[meta["source_parameter"]]]
    for name in list(names):
        names += meta.get("extra_sources", {}).get(name, {}).get(all_sources[name]["kind"], [])
    return {n: dict(all_sources[n]) for n in names}
