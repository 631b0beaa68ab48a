"""What every model kind declares and does."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ModelKind:
    """A family of architectures (``models.<m>: {kind: <name>, ...}``).

    Literal class attributes (read by the registry without importing the module): ``name``, ``description``,
    ``parameters`` (the JSON schema of the keys it takes, each with its description and default), ``required``
    (the keys it needs), ``takes`` (the data it takes: ``synthetic``, ``image``, ``text``), ``from_data`` (keys of the
    prepared data's meta its spec gets: a text model's ``vocab_size``) and ``divides`` (pairs [a, b]: a must divide
    b, as a transformer's heads its width).

    A kind fitted in closed form, not by gradient steps, builds a bank with ``fit_closed_form(train)`` (the
    training loop calls it once instead of the optimiser; see ``plug_in_bayes.py``)."""

    name = ""
    description = ""
    parameters: dict[str, Any] = {}
    required: list[str] = []
    takes: list[str] = []
    from_data: list[str] = []
    divides: list[list[str]] = []

    @classmethod
    def make_bank(cls, spec: Mapping[str, Any], input_shape, n_classes: int, generators, dtype, device,
                  channels_last: bool = False, amp: bool = False):
        """The bank of models of one cell: one model per generator, all of the same architecture."""
        raise NotImplementedError

    @classmethod
    def option(cls, spec: Mapping[str, Any], key: str):
        """A key of the spec, or its default."""
        return spec.get(key, cls.parameters.get(key, {}).get("default"))
