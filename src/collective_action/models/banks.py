"""Model banks: M independent models evaluated in one batched call (the model kinds build them: :mod:`models`).

A bank holds the parameters of M models stacked along a leading axis, so one
forward pass computes all M models on their own minibatches ([M, B, ...] ->
[M, B, C]) with batched matmuls. Because Adam is elementwise and the training loss
is a sum of per-model losses, one optimiser over the stacked parameters updates
each model exactly as its own optimiser would; tests check this against a plain
per-model ``nn.Sequential`` loop.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

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

    @torch.no_grad()
    def forward_cached(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits, and the layer inputs that :meth:`backward_cached` needs, without autograd."""
        h = x if x.dim() == 3 else x.expand(self.n_models, *x.shape)
        inputs, last = [], len(self._layers) - 1
        for i, (w, b) in enumerate(self._layers):
            inputs.append(h)
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = h.relu_()
        return h, inputs

    @torch.no_grad()
    def output_grads(self, inputs: list[torch.Tensor], grad_logits: torch.Tensor) -> list[torch.Tensor]:
        """The loss gradient at every layer's (pre-activation) output, first layer first, for a loss whose
        gradient with respect to the logits is ``grad_logits`` [M, B, C]: the chain rule autograd applies to
        :meth:`forward` (its kernels), written out, because building and walking the graph costs as much as
        the small matmuls themselves. ``inputs``: the layer inputs of :meth:`forward_cached`."""
        grads = [grad_logits]
        for i in range(len(self._layers) - 1, 0, -1):  # the ReLU's input was positive exactly where its output is
            grads.insert(0, torch.ops.aten.threshold_backward(
                torch.bmm(grads[0], self._layers[i][0].transpose(1, 2)), inputs[i], 0))
        return grads

    @torch.no_grad()
    def backward_cached(self, inputs: list[torch.Tensor], grad_logits: torch.Tensor) -> None:
        """Accumulate into .grad the parameters' gradients of a loss whose gradient with respect to the
        logits is ``grad_logits`` [M, B, C] (see :meth:`output_grads`)."""
        for (w, b), a, g in zip(self._layers, inputs, self.output_grads(inputs, grad_logits), strict=True):
            for param, grad in zip((w, b), (torch.bmm(a.transpose(1, 2), g), g.sum(dim=1, keepdim=True)), strict=True):
                param.grad = grad if param.grad is None else param.grad.add_(grad)

    @torch.no_grad()
    def input_grad_cached(self, inputs: list[torch.Tensor], grad_logits: torch.Tensor) -> torch.Tensor:
        """The gradient with respect to the bank's input (an attack on the inputs needs only this)."""
        return torch.bmm(self.output_grads(inputs, grad_logits)[0], self._layers[0][0].transpose(1, 2))

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


def _has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class ModuleBank(nn.Module):
    """M copies of an nn.Module, each initialised from its own run's generator.

    With ``vectorize`` (and no batch norm) the copies' parameters are stacked and one
    ``torch.func.vmap`` call computes all of them, like MLPBank; otherwise (ResNet-50's
    batch norm, or one run) they run one after another inside the same step.
    """

    def __init__(self, make_module, generators, input_ndim: int, device, vectorize: bool = True,
                 channels_last: bool = False, amp: bool = False):
        super().__init__()
        modules = []
        for g in generators:
            seed = int(torch.randint(0, 2**62, (1,), generator=g))
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                modules.append(make_module())
        self.n_models = len(modules)
        self.input_ndim = input_ndim  # dims of one sample, e.g. 3 for C, H, W
        self.amp = amp  # bfloat16 autocast on CUDA and on CPU alike, so a CPU run exercises the GPU's code path
        self.device_type = torch.device(device).type
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.vmapped = vectorize and self.n_models > 1 and not _has_batchnorm(modules[0])
        if self.vmapped:
            params, buffers = torch.func.stack_module_state(modules)
            self._names = list(params)
            self.stacked = nn.ParameterList([nn.Parameter(params[k].to(device)) for k in self._names])
            self._buffers_stacked = {k: v.to(device) for k, v in buffers.items()}
            self.base = [modules[0].to("meta")]  # a list: not registered as a submodule
        else:
            self.models = nn.ModuleList(m.to(device=device, memory_format=self.memory_format) for m in modules)

    def forward(self, x: torch.Tensor, **per_run: torch.Tensor | None) -> torch.Tensor:
        """x: [M, B, *sample] (each run its own batch) or [B, *sample] (shared) -> logits [M, B, C] (float32).
        ``per_run``: keyword inputs [M, ...] of each run's module (a text model's ``embedding_offset``);
        those that are None are left out."""
        shared = x.dim() == self.input_ndim + 1
        kwargs = {k: v for k, v in per_run.items() if v is not None}
        with torch.autocast(device_type=self.device_type, dtype=torch.bfloat16, enabled=self.amp):
            if self.vmapped:
                params = dict(zip(self._names, self.stacked))

                def one(p, b, xi, kw):
                    return torch.func.functional_call(self.base[0], (p, b), (xi,), kw)

                out = torch.func.vmap(one, in_dims=(0, 0, None if shared else 0, 0))(
                    params, self._buffers_stacked, x, kwargs)
            else:
                out = torch.stack([m((x if shared else x[i]).contiguous(memory_format=self.memory_format),
                                     **{k: v[i] for k, v in kwargs.items()}) for i, m in enumerate(self.models)])
        return out.float()
