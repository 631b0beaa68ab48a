"""A model kind from outside the package (tests/test_extensions.py copies it into a copy of the package's
models/): a linear layer on the features and their squares, which separates a quadrant as an MLP does. A new
model kind is this module and a `models:` entry of the config."""
from __future__ import annotations

import torch
from torch import nn

from .banks import ModuleBank
from .base import ModelKind


class QuadraticNet(nn.Module):
    def __init__(self, dim: int, n_classes: int, squares: bool):
        super().__init__()
        self.squares = squares
        self.linear = nn.Linear(dim * (2 if squares else 1), n_classes)

    def forward(self, x):
        return self.linear(torch.cat([x, x * x], dim=-1) if self.squares else x)


class Quadratic(ModelKind):
    name = "quadratic"
    description = "a linear layer on the features and their squares (an extension's test)"
    takes = ["synthetic"]
    parameters = {"squares": {"type": "boolean", "default": True, "description": "Add the squared features."}}

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        def make():
            return QuadraticNet(input_shape[0], n_classes, bool(cls.option(spec, "squares"))).to(dtype)
        return ModuleBank(make, generators, len(input_shape), device)
