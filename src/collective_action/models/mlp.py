"""Fully connected models of points: the paper's MLP, and logistic regression (the MLP without a hidden layer)."""
from __future__ import annotations

from .banks import MLPBank, mlp_sizes
from .base import ModelKind


class MLP(ModelKind):
    name = "mlp"
    description = "fully connected ReLU network (2D datasets, appendix C)"
    takes = ["synthetic"]
    required = ["hidden"]
    parameters = {
        "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1,
                   "description": "Hidden layer widths; [64, 32, 16] with a 2-way output is the paper's [64, 32, 16, 2]."},
    }

    @classmethod
    def hidden(cls, spec) -> list[int]:
        return list(spec["hidden"])

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        if len(input_shape) != 1:
            raise ValueError(f"model kind '{cls.name}' needs flat inputs, got shape {tuple(input_shape)}")
        return MLPBank(mlp_sizes(input_shape[0], cls.hidden(spec), n_classes), generators, dtype, device)


class Logistic(MLP):
    name = "logistic"
    description = ("logistic regression, a linear layer without hidden layer (2D datasets; Karan et al.'s linear "
                   "case, K3)")
    required = []
    parameters = {}

    @classmethod
    def hidden(cls, spec) -> list[int]:
        return []
