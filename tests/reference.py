"""A plain, one-model-at-a-time ERM loop (nn.Sequential + DataLoader + Adam).

It is the yardstick for the vectorised engine: tests check that the engine gives
the same models, and ``benchmarks/bench_engine.py`` measures the speed-up. Its
sampler draws each epoch's order with ``torch.randperm`` from the run's own
generator, exactly like the engine, so the two see the same minibatches.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from collective_action.models.banks import init_mlp_params


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


class PermutationSampler(Sampler[int]):
    def __init__(self, n: int, generator: torch.Generator):
        self.n, self.generator = n, generator

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.n, generator=self.generator).tolist())

    def __len__(self) -> int:
        return self.n


def train_erm_one(x: torch.Tensor, y: torch.Tensor, sizes: Sequence[int], generator: torch.Generator, epochs: int,
                  batch_size: int, lr: float, weight_decay: float = 0.0, dtype=torch.float32) -> torch.nn.Sequential:
    """Train one MLP with Adam on the average cross-entropy; the generator draws init, then the batch orders."""
    model = reference_mlp(sizes, generator, dtype)
    loader = DataLoader(TensorDataset(x.to(dtype), y), batch_size=batch_size,
                        sampler=PermutationSampler(len(y), generator))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model
