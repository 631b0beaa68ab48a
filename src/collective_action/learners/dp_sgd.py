"""DP-SGD (Abadi et al. 2016), every run of a cell at once.

Each step draws a Poisson minibatch (every training point joins independently
with rate q = batch_size / n), clips each sample's gradient over all parameters of
its run's model to L2 norm C, sums, adds N(0, (sigma C)^2) noise to every
parameter and divides by the expected batch size q n. The engine's loop then takes
our Adam step on that gradient: DP-Adam is as private as DP-SGD, because the
optimiser only post-processes the privatised gradients (Adam is the optimiser of
every learner in the paper, so DP-SGD differs from ERM only by the privatisation).

Poisson sampling is what the RDP accountant assumes; a run's batch size varies, so
the runs' index lists are padded to a common length with weight 0 and the bank
still computes [M, B_max, ...] at once. Per-sample gradients come from
``torch.func`` (vmap over the samples of the gradient of the sum over runs: the
runs are independent, so that gives each run's own per-sample gradient); for an
MLP bank an exact shortcut computes the per-sample norms of each linear layer from
its inputs and output gradients and the clipped sum as one matmul, without ever
forming per-sample gradients ("ghost clipping"; tests check it against the
generic path), and so does the mean-pooled text bag's bank for its embedding table
and head (``models.text.BagBank.logits_and_grad_sq_norms``; the clipped sum is then
one backward pass of the clip-weighted loss). Privacy is accounted with opacus's RDP
accountant.

A run draws its mask, then its augmentation, then its noise from its own stream,
each of a size that depends only on that run, so a run's model does not depend on
the runs beside it.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ..models.banks import MLPBank, ModuleBank
from ..training.engine import Batch, cached_ce_grad
from .base import Learner


# ----------------------------------------------------------------------------- per-sample gradients
def _stacked(bank) -> bool:
    """Whether every parameter of the bank is stacked over runs along its first axis."""
    return not (isinstance(bank, ModuleBank) and not bank.vmapped)


def parameter_groups(bank) -> list[list[str]]:
    """The runs' model parameters, each as the bank parameter names that hold it: one name
    stacked over runs [M, ...], or (a ModuleBank running its models one after another) M names."""
    if _stacked(bank):
        return [[name] for name, _ in bank.named_parameters()]
    rest = [name for name, _ in bank.models[0].named_parameters()]
    return [[f"models.{m}.{r}" for m in range(bank.n_models)] for r in rest]


def functional_forward(bank):
    """(parameters by name, x [M, B, ...]) -> logits [M, B, C], the bank's forward as a pure function."""
    if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in bank.modules()):
        raise ValueError("DP-SGD needs a model without batch norm: batch norm mixes the samples of a minibatch, "
                         "so per-sample gradients (and their clipping) are undefined; use e.g. model kind 'cnn'")
    if isinstance(bank, MLPBank):
        return mlp_forward  # MLPBank's forward reads its parameters from a tuple that functional_call cannot swap
    return lambda params, x: torch.func.functional_call(bank, params, (x,))


def mlp_forward(params, x):
    """MLPBank's forward, with its parameters passed in."""
    n_layers = len(params) // 2
    for i in range(n_layers):
        x = torch.baddbmm(params[f"bias{i}"], x, params[f"weight{i}"])
        if i < n_layers - 1:
            x = x.relu()
    return x


def per_sample_grads(bank, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """Each sample's cross-entropy gradient, per run: one [M, B, *shape] per parameter group.

    x [M, B, ...] (model inputs), y [M, B]. vmap over b of the gradient of the sum over
    runs of sample b's loss, the bank seeing x[:, b] as a batch of one [M, 1, ...]."""
    forward = functional_forward(bank)
    params = {name: p.detach() for name, p in bank.named_parameters()}

    def loss(p, xb, yb):
        return F.cross_entropy(forward(p, xb.unsqueeze(1)).squeeze(1), yb, reduction="sum")

    g = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 1, 1))(params, x, y)  # name -> [B, *p.shape]
    if _stacked(bank):
        return [g[name].movedim(0, 1) for name in params]
    return [torch.stack([g[name] for name in group]) for group in parameter_groups(bank)]


# ----------------------------------------------------------------------------- clipping and noise
def clip_factors(norms: torch.Tensor, clip: float, weight: torch.Tensor | None) -> torch.Tensor:
    """min(1, C / norm) per sample (opacus's formula, with its 1e-6), times the sample's weight (0 on padding)."""
    factor = (clip / (norms + 1e-6)).clamp(max=1.0)
    return factor if weight is None else factor * weight.to(factor.dtype)


def clipped_sum(grads: list[torch.Tensor], clip: float, weight: torch.Tensor | None) -> list[torch.Tensor]:
    """Per run, the sum over its minibatch of the clipped per-sample gradients: [M, *shape] per group."""
    norms = torch.stack([g.flatten(2).pow(2).sum(-1) for g in grads]).sum(0).sqrt()  # [M, B]
    scale = clip_factors(norms, clip, weight)
    return [torch.einsum("mb,mb...->m...", scale, g) for g in grads]


def mlp_clipped_sum(bank: MLPBank, x: torch.Tensor, y: torch.Tensor, clip: float,
                    weight: torch.Tensor | None) -> list[torch.Tensor]:
    """:func:`clipped_sum` of an MLP bank without per-sample gradients, exactly.

    Sample b's gradient of a linear layer is a_b g_b^T (weight) and g_b (bias), with a_b
    the layer's input and g_b the loss gradient at its output, so its squared norm is
    (|a_b|^2 + 1) |g_b|^2, and the clipped sum is A^T diag(c) G: one batched matmul."""
    # the loss gradient at each layer's output, as autograd computes it for the summed per-sample
    # cross-entropy (the same kernels, so the same numbers)
    inputs, grad_logits = cached_ce_grad(bank, x, y)
    out_grads = bank.output_grads(inputs, grad_logits)
    sq = sum((a.pow(2).sum(-1) + 1) * g.pow(2).sum(-1) for a, g in zip(inputs, out_grads))  # [M, B]
    scale = clip_factors(sq.sqrt(), clip, weight).unsqueeze(-1)
    grads = []
    for a, g in zip(inputs, out_grads):
        gs = g * scale
        grads += [torch.bmm(a.transpose(1, 2), gs), gs.sum(1, keepdim=True)]
    return grads


def ghost_clipped_sum(bank, x: torch.Tensor, y: torch.Tensor, clip: float,
                      weight: torch.Tensor | None) -> list[torch.Tensor]:
    """:func:`clipped_sum` of a bank that gives each sample's gradient norm in closed form
    (``logits_and_grad_sq_norms``: the mean-pooled text bag), exactly: the clipped sum is the gradient
    of sum_b c_b loss_b with the clipping factors c_b held fixed, one backward pass."""
    logits, sq = bank.logits_and_grad_sq_norms(x, y)
    scale = clip_factors(sq.sqrt(), clip, weight)
    return list(torch.autograd.grad((F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none")
                                     * scale.flatten()).sum(), list(bank.parameters())))


def add_noise(grads: list[torch.Tensor], std: float, gens) -> list[torch.Tensor]:
    """grads + N(0, std^2) per entry, run m's noise drawn from gens[m] (on the CPU, so results do
    not depend on the device), all of a run's parameters in one draw."""
    if std == 0:
        return grads
    numels = [g[0].numel() for g in grads]
    noise = torch.stack([torch.randn(sum(numels), generator=g, dtype=grads[0].dtype) for g in gens])
    noise = noise.to(grads[0].device).split(numels, dim=1)
    return [g + std * z.reshape(g.shape) for g, z in zip(grads, noise)]


def set_grads(bank, grads: list[torch.Tensor]) -> None:
    named, stacked = dict(bank.named_parameters()), _stacked(bank)
    for group, g in zip(parameter_groups(bank), grads):
        for name, gm in zip(group, [g] if stacked else g):
            named[name].grad = gm


# ----------------------------------------------------------------------------- Poisson minibatches
def poisson_batch(ctx, gens, rate: float) -> Batch:
    """Each run's own Poisson sample of its training split, padded (position 0, weight 0) to the
    largest; augmentation, if any, applies to each run's real samples only, so the number of
    draws from a run's stream does not depend on the other runs."""
    mask = torch.stack([torch.rand(ctx.train.n, generator=g, dtype=torch.float64) for g in gens]) < rate
    run, position = mask.nonzero().unbind(1)  # every run's chosen positions, run by run, in increasing order
    counts = mask.sum(1)
    slot = torch.arange(len(run)) - (counts.cumsum(0) - counts)[run]  # the place of each in its run's list
    idx = torch.zeros(len(gens), max(1, int(counts.max())), dtype=torch.int64)
    idx[run, slot] = position
    weight = (torch.arange(idx.shape[1]) < counts.unsqueeze(1)).to(ctx.dtype)
    counts = counts.tolist()
    idx = idx.to(ctx.device)
    x, y = ctx.train.batch(idx)
    if ctx.augment:
        x = torch.cat([torch.cat([ctx.augment(x[m:m + 1, :k], [g]), x[m:m + 1, k:]], dim=1) if k else x[m:m + 1]
                       for m, (k, g) in enumerate(zip(counts, gens))])
    return Batch(idx, x, y, weight.to(ctx.device))


# ----------------------------------------------------------------------------- the learner
class DPSGD(Learner):
    name = "dp_sgd"
    description = ("DP-SGD: Poisson minibatches, per-sample gradient clipping to norm C, Gaussian noise "
                   "(sigma C), Adam on the result; (epsilon, delta) from opacus's RDP accountant.")
    style = {"label": "DP-SGD", "color": "tab:purple", "marker": "v"}
    exactly_one_of = [["noise_multiplier", "target_epsilon"]]  # non-null after defaults (checked in the config)
    hyperparameters = {
        "clip_norm": {
            "type": "number", "exclusiveMinimum": 0, "default": 1.0,
            "description": "C, the L2 norm every per-sample gradient (over all parameters of the model) is clipped "
                           "to; 1.0 is opacus's usual starting point."},
        "noise_multiplier": {
            "type": ["number", "null"], "minimum": 0, "default": None,
            "description": "sigma: the noise added to the sum of clipped gradients is N(0, (sigma C)^2) per "
                           "parameter. Give either this or target_epsilon (set the other to null); 0 trains "
                           "with clipping only (epsilon infinite)."},
        "target_epsilon": {
            "type": ["number", "null"], "exclusiveMinimum": 0, "default": 8.0,
            "description": "epsilon of the (epsilon, delta) budget the whole training must meet: sigma is the "
                           "smallest that opacus's RDP accountant finds meets it (to 0.01) for the sample rate "
                           "q = batch_size / n and all the run's steps. null when noise_multiplier is given. "
                           "8 is a common budget (e.g. De et al. 2022 on CIFAR-10)."},
        "delta": {
            "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 1e-5,
            "description": "delta of the (epsilon, delta) guarantee; it should be well below 1/n (the usual "
                           "choice); 1e-5 is below 1/n for every training set smaller than 100,000 points."},
    }

    def prepare(self) -> None:
        """The sample rate, steps per epoch (as many as the other learners take) and sigma."""
        from opacus.accountants import RDPAccountant

        n, batch_size = self.ctx.train.n, self.ctx.batch_size
        self.sample_rate = min(1.0, batch_size / n)
        self.steps_per_epoch = math.ceil(n / batch_size)
        self.sigma = self._noise_multiplier(self.ctx.epochs * self.steps_per_epoch)
        self.accountant = RDPAccountant()

    def _noise_multiplier(self, steps: int) -> float:
        sigma, target = self.hp.get("noise_multiplier"), self.hp.get("target_epsilon")
        if (sigma is None) == (target is None):
            raise ValueError(f"dp_sgd: give exactly one of 'noise_multiplier' and 'target_epsilon' and set the "
                             f"other to null (got noise_multiplier={sigma}, target_epsilon={target})")
        if sigma is not None:
            return float(sigma)
        from opacus.accountants.utils import get_noise_multiplier

        with warnings.catch_warnings():  # the search tries sigmas far off, whose best RDP order is at the grid's edge
            warnings.filterwarnings("ignore", message="Optimal order is the")
            return float(get_noise_multiplier(target_epsilon=float(target), target_delta=float(self.hp["delta"]),
                                              sample_rate=self.sample_rate, steps=steps, accountant="rdp"))

    def batches(self, gens):
        """One epoch of Poisson minibatches; the step's noise comes from the same streams."""
        self.gens = gens
        for _ in range(self.steps_per_epoch):
            yield poisson_batch(self.ctx, gens, self.sample_rate)

    def clipped_sum(self, batch: Batch) -> list[torch.Tensor]:
        x, clip = self.ctx.model_input(batch.x), float(self.hp["clip_norm"])
        if isinstance(self.model, MLPBank):
            return mlp_clipped_sum(self.model, x, batch.y, clip, batch.weight)
        if getattr(self.model, "mean_pool", False):  # the text bag's bank: norms in closed form
            return ghost_clipped_sum(self.model, x, batch.y, clip, batch.weight)
        return clipped_sum(per_sample_grads(self.model, x, batch.y), clip, batch.weight)

    def step(self, batch: Batch) -> None:
        noisy = add_noise(self.clipped_sum(batch), self.sigma * float(self.hp["clip_norm"]), self.gens)
        expected = self.sample_rate * self.ctx.train.n
        set_grads(self.model, [g / expected for g in noisy])
        self.accountant.step(noise_multiplier=self.sigma, sample_rate=self.sample_rate)

    def epsilon(self) -> float:
        if not self.accountant.history:
            return 0.0
        if self.sigma == 0:
            return math.inf  # no noise, no privacy (the accountant would say so too, with a warning)
        return float(self.accountant.get_epsilon(delta=float(self.hp["delta"])))

    def diagnostics(self):
        """Per run (all runs of a cell share them): epsilon spent at delta, sigma, q and steps taken."""
        m = self.ctx.train.n_models
        steps = sum(s for _, _, s in self.accountant.history)
        return {"epsilon": np.full(m, self.epsilon()), "delta": np.full(m, float(self.hp["delta"])),
                "noise_multiplier": np.full(m, self.sigma), "clip_norm": np.full(m, float(self.hp["clip_norm"])),
                "sample_rate": np.full(m, self.sample_rate),
                "steps": np.full(m, steps, dtype=np.int64)}
