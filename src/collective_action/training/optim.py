"""Adam, as torch.optim.Adam computes it (default betas and eps, foreach path).

Our own copy because constructing a torch.optim optimiser imports TorchDynamo,
which costs about 2 s per training job on a CPU; over hundreds of short jobs that
is most of the runtime. Tests check it against torch.optim.Adam step for step.

Where every parameter is a plain contiguous tensor of one dtype and device (the MLP
banks), the parameters become views into one flat buffer and each update is a handful
of operations on that buffer instead of one per parameter per operation: Adam is
elementwise, so the numbers are the same bit for bit (tested), at about half the cost
for the small models of the synthetic figures.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch


def _flattenable(params: list[torch.Tensor]) -> bool:
    first = params[0]
    return all(p.is_contiguous() and p.dtype == first.dtype and p.device == first.device for p in params)


class Adam:
    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.beta1, self.beta2, self.eps, self.weight_decay = lr, betas[0], betas[1], eps, weight_decay
        self.flat = None
        if self.params and _flattenable(self.params):
            self.flat = torch.cat([p.detach().reshape(-1) for p in self.params])
            offset = 0
            for p in self.params:  # the parameter objects stay; their storage moves into the buffer
                p.data = self.flat[offset:offset + p.numel()].view_as(p)
                offset += p.numel()
        state = [self.flat] if self.flat is not None else self.params
        self.exp_avg = [torch.zeros_like(p) for p in state]
        self.exp_avg_sq = [torch.zeros_like(p) for p in state]
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):
            raise RuntimeError("Adam.step() called before every parameter had a gradient")
        params = self.params
        if self.flat is not None:
            grads, params = [torch.cat([g.reshape(-1) for g in grads])], [self.flat]
        self.steps += 1
        if self.weight_decay:
            grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        torch._foreach_lerp_(self.exp_avg, grads, 1 - self.beta1)
        torch._foreach_mul_(self.exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - self.beta2)
        bias1 = 1 - self.beta1 ** self.steps
        bias2_sqrt = math.sqrt(1 - self.beta2 ** self.steps)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, self.exp_avg, denom, -self.lr / bias1)
