"""CVaR-DRO (Levy et al. 2020; appendix A, Definition 5), the batch estimator.

In every minibatch of m per-sample losses, the top fraction ``a`` carries all the
weight: the floor(a m) largest losses get weight 1/(a m) each, the next one gets
the remainder 1 - floor(a m)/(a m), and the rest 0; the weights sum to one and
carry no gradient. This is the best response of the CVaR uncertainty set of size
a without regularisation (the reference implementation's ``reg = 0`` case). Ties
between equal losses are broken by sort order; the objective's value does not
depend on how.
"""
from __future__ import annotations

import math

import torch

from ..engine import FitContext, FitResult, per_sample_ce


def rank_weights(m: int, fraction: float, dtype=torch.float32, device="cpu") -> torch.Tensor:
    """Weight of the r-th largest of m losses, r = 0..m-1."""
    if not 0 < fraction <= 1:
        raise ValueError(f"CVaR fraction must lie in (0, 1], got {fraction}")
    cutoff = math.floor(fraction * m)
    w = torch.zeros(m, dtype=torch.float64)
    w[:cutoff] = 1.0 / (fraction * m)
    if cutoff < m:
        w[cutoff] = 1.0 - cutoff / (fraction * m)
    return w.to(dtype=dtype, device=device)


def cvar_weights(losses: torch.Tensor, fraction: float) -> torch.Tensor:
    """Per-sample CVaR weights of each row of losses [M, m] (no gradient)."""
    with torch.no_grad():
        order = torch.argsort(losses, dim=1, descending=True)
        w = rank_weights(losses.shape[1], fraction, losses.dtype, losses.device).expand_as(losses)
        return torch.zeros_like(losses).scatter_(1, order, w)


def fit(ctx: FitContext) -> FitResult:
    fraction = float(ctx.hp["fraction"])
    bank, gens = ctx.new_models("model")
    opt = ctx.optimizer(bank)
    bank.train()
    for _ in range(ctx.epochs):
        for idx in ctx.minibatches(gens):
            x, y = ctx.batch(idx, gens)
            loss = per_sample_ce(bank(x), y)
            objective = (cvar_weights(loss.detach(), fraction) * loss).sum(dim=1).sum()
            opt.zero_grad()
            objective.backward()
            opt.step()
        ctx.evaluator.record(bank)
    return FitResult(bank, {})
