"""Model banks: M independent models evaluated in one batched call.

A bank holds the parameters of M models stacked along a leading axis, so one
forward pass computes all M models on their own minibatches ([M, B, ...] ->
[M, B, C]) with batched matmuls. Because Adam is elementwise and the training loss
is a sum of per-model losses, one optimiser over the stacked parameters updates
each model exactly as its own optimiser would; tests check this against a plain
per-model ``nn.Sequential`` loop.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import torch
from torch import nn


def mlp_sizes(input_dim: int, hidden: Sequence[int], n_classes: int) -> list[int]:
    return [int(input_dim), *map(int, hidden), int(n_classes)]


def init_mlp_params(sizes: Sequence[int], generator: torch.Generator, dtype=torch.float32):
    """PyTorch's nn.Linear initialisation, drawn from ``generator``.

    nn.Linear uses kaiming_uniform(a=sqrt(5)) for weights and U(+-1/sqrt(fan_in))
    for biases, which both reduce to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Returns [(W [fan_in, fan_out], b [fan_out]), ...].
    """
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(fan_in)
        w = (torch.rand(fan_in, fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
        b = (torch.rand(fan_out, generator=generator, dtype=torch.float64) * 2 - 1) * bound
        params.append((w.to(dtype), b.to(dtype)))
    return params


class MLPBank(nn.Module):
    """M fully connected ReLU networks with identical architecture."""

    def __init__(self, sizes: Sequence[int], generators: Sequence[torch.Generator], dtype=torch.float32, device="cpu"):
        super().__init__()
        self.sizes = list(sizes)
        self.n_models = len(generators)
        per_model = [init_mlp_params(self.sizes, g, dtype) for g in generators]
        n_layers = len(self.sizes) - 1
        for layer in range(n_layers):
            w = torch.stack([p[layer][0] for p in per_model]).to(device)
            b = torch.stack([p[layer][1] for p in per_model]).unsqueeze(1).to(device)
            self.register_parameter(f"weight{layer}", nn.Parameter(w))
            self.register_parameter(f"bias{layer}", nn.Parameter(b))
        # plain tuples: iterating an nn.ParameterList costs more than the small matmuls themselves
        self._layers = tuple((getattr(self, f"weight{i}"), getattr(self, f"bias{i}")) for i in range(n_layers))

    @property
    def weights(self):
        return [w for w, _ in self._layers]

    @property
    def biases(self):
        return [b for _, b in self._layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [M, B, d] (each model its own batch) or [B, d] (one batch for all) -> [M, B, C]."""
        h = x if x.dim() == 3 else x.expand(self.n_models, *x.shape)
        last = len(self._layers) - 1
        for i, (w, b) in enumerate(self._layers):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = h.relu_()  # in place: the matmul output is not needed for its backward
        return h

    def state_arrays(self) -> dict[str, Any]:
        """Parameters as arrays, stacked over models, for the run artifact."""
        out = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"layer{i}/weight"] = w.detach().cpu().numpy()
            out[f"layer{i}/bias"] = b.detach().squeeze(1).cpu().numpy()
        return out

    @staticmethod
    def predict_from_arrays(arrays: Mapping[str, Any], x, model_index: int):
        """Logits of one stored model on points x [N, d] (numpy in, numpy out), e.g. for decision boundaries."""
        import numpy as np

        h = np.asarray(x, dtype=np.float64)
        n_layers = len([k for k in arrays if k.endswith("/weight")])
        for i in range(n_layers):
            h = h @ arrays[f"layer{i}/weight"][model_index] + arrays[f"layer{i}/bias"][model_index]
            if i < n_layers - 1:
                h = np.maximum(h, 0)
        return h


def reference_mlp(sizes: Sequence[int], generator: torch.Generator, dtype=torch.float32) -> nn.Sequential:
    """A plain nn.Sequential MLP with the same initial parameters as one model of a bank."""
    layers: list[nn.Module] = []
    for i, (w, b) in enumerate(init_mlp_params(sizes, generator, dtype)):
        lin = nn.Linear(w.shape[0], w.shape[1]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(w.T)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def make_bank(model_spec: Mapping[str, Any], input_shape, n_classes: int, generators, dtype, device) -> nn.Module:
    kind = model_spec["kind"]
    if kind == "mlp":
        if len(input_shape) != 1:
            raise ValueError(f"model kind 'mlp' needs flat inputs, got shape {tuple(input_shape)}")
        sizes = mlp_sizes(input_shape[0], model_spec["hidden"], n_classes)
        return MLPBank(sizes, generators, dtype, device)
    raise ValueError(f"unknown model kind '{kind}'")
