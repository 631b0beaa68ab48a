"""Model kinds: one module per architecture family, each a :class:`base.ModelKind` with its ``name`` (the config's
``models.<m>.kind``), the keys it takes (``parameters``, a JSON schema, with their defaults) and the data it takes
(``takes``: synthetic points, images or token ids), found by the registry without importing them. The schema's
``$defs/model`` and the config checks read the registry; :func:`make_bank` builds a cell's bank of models."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..registry import Registry

MODELS = Registry(__name__, "ModelKind", "model kind")


def make_bank(model_spec: Mapping[str, Any], input_shape, n_classes: int, generators, dtype, device,
              channels_last: bool = False, amp: bool = False):
    """The models of a cell, one per run generator, as its kind builds them (imports only that kind's module, which
    is all a train job hashes of the models)."""
    return MODELS.get(model_spec["kind"]).make_bank(model_spec, input_shape, n_classes, generators, dtype, device,
                                                    channels_last=channels_last, amp=amp)
