"""Collective signals (strategies) g: X -> X, one module each, found by the registry.

A signal works on inputs as stored (floats for synthetic data, uint8 NCHW images,
token ids for text), before any normalisation or augmentation, so what the
collective plants is exactly what the firm receives. A signal class derives from
:class:`collective_action.signals.base.Signal` and declares, as literal class
attributes, its ``name`` (the config's ``signal.kind``), ``parameters`` (JSON-schema
properties of its config keys besides ``kind`` and ``target_label``) and
``description``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..registry import Registry

SIGNALS = Registry(__name__, base="Signal", kind="signal")


def make_signal(spec: Mapping[str, Any], data=None):
    """The signal of a dataset spec; data-dependent signals (the MNIST-CIFAR pool) read the prepared dataset."""
    cls = SIGNALS.get(spec["kind"])
    return cls.from_spec({k: v for k, v in spec.items() if k != "kind"}, data)
