"""The CPU-scale image model: convolution blocks without batch norm, so the runs of a cell vectorise with vmap."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .banks import ModuleBank
from .base import ModelKind


class SmallCNN(nn.Module):
    """The CPU-scale image model; no batch norm, so the runs of a cell vectorise with vmap.

    stem 'patch2': a 2x2 stride-2 convolution (non-overlapping patches, as in ConvNeXt's
    patchify stem), then 3x3 stride-2 convolutions; 'conv3': 3x3 stride-1 convolutions,
    each followed by a 2x2 max pool. head 'pool': global average pooling, then a linear
    layer; 'flatten': a linear layer on the flattened last feature map (``input_hw`` gives
    its size), which keeps where in the image a feature is.
    """

    def __init__(self, in_channels: int, channels: Sequence[int], n_classes: int, stem: str = "patch2",
                 head: str = "pool", input_hw: Sequence[int] | None = None):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for i, c in enumerate(channels):
            if stem == "patch2":
                layers += [nn.Conv2d(c_in, c, 2, stride=2) if i == 0 else nn.Conv2d(c_in, c, 3, stride=2, padding=1),
                           nn.ReLU()]
            elif stem == "conv3":
                layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            else:
                raise ValueError(f"unknown cnn stem '{stem}' (patch2, conv3)")
            c_in = c
        self.features = nn.Sequential(*layers)
        if head not in ("pool", "flatten"):
            raise ValueError(f"unknown cnn head '{head}' (pool, flatten)")
        self.flatten = head == "flatten"
        if self.flatten:
            with torch.no_grad():
                c_in = self.features(torch.zeros(1, in_channels, *input_hw)).numel()
        self.head = nn.Linear(c_in, n_classes)

    def forward(self, x):
        h = self.features(x)
        return self.head(h.flatten(-3) if self.flatten else h.mean(dim=(-2, -1)))


class CNN(ModelKind):
    name = "cnn"
    description = ("the CPU-scale image model (convolution-ReLU blocks, then a linear head; no batch norm, so the "
                   "runs of a cell vectorise)")
    takes = ["image"]
    required = ["channels"]
    parameters = {
        "channels": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1,
                     "description": "Output channels of the convolution blocks."},
        "stem": {"type": "string", "enum": ["patch2", "conv3"], "default": "patch2",
                 "description": "'patch2' (default): a 2x2 stride-2 convolution, then 3x3 stride-2 convolutions (our "
                                "choice: fast enough on a CPU that 5 seeds of every image figure fit in minutes); "
                                "'conv3': 3x3 stride-1 convolutions each followed by a 2x2 max pool (4x slower; in our "
                                "offline trials neither learned the +2 pixel signal much better)."},
        "head": {"type": "string", "enum": ["pool", "flatten"], "default": "pool",
                 "description": "'pool' (default): global average pooling, then a linear layer. 'flatten': a linear "
                                "layer on the flattened last feature map, which keeps where in the image a feature is "
                                "(our choice for CIFAR-10 and Fashion-MNIST at CPU scale, at the same cost: in 20 "
                                "epochs, one seed, 41% clean test accuracy on the offline CIFAR-10 subset where "
                                "pooling gives 31%, and 85% on 10,000 Fashion-MNIST images where pooling gives 65%)."},
    }

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        def make():
            return SmallCNN(input_shape[0], spec["channels"], n_classes, cls.option(spec, "stem"),
                            cls.option(spec, "head"), input_shape[1:])
        return ModuleBank(make, generators, len(input_shape), device, vectorize=spec.get("vectorize", True),
                          channels_last=channels_last, amp=amp)
