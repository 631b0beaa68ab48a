"""Learning from Failure (Nam et al. 2020; appendix A, Algorithm 2).

A biased model f_B is trained with the generalized cross-entropy
GCE = (1 - p_y^q) / q, and a debiased model f_D with per-sample weights
W = CE_B / (CE_B + CE_D), both updated at every step on the same minibatch. As in
the reference implementation, CE_B and CE_D are per-sample exponential moving
averages of the losses (decay ``ema``; a sample's first loss initialises its
average), each divided by the largest average among training points of the same
(observed) class before W is formed. The debiased model is the output.
"""
from __future__ import annotations

import torch

from .. import theory
from ..engine import FitContext, FitResult, per_sample_ce


def generalized_ce(logits: torch.Tensor, y: torch.Tensor, q: float) -> torch.Tensor:
    """(1 - p_y^q) / q per sample: logits [M, B, C], y [M, B] -> [M, B]."""
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    return (1.0 - torch.exp(q * log_p)) / q


def classwise_max(values: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per run and class, the largest value among training points of that class: [M, C]."""
    out = torch.full((values.shape[0], n_classes), float("-inf"), dtype=values.dtype, device=values.device)
    return out.scatter_reduce(1, labels, values, reduce="amax", include_self=True)


def fit(ctx: FitContext) -> FitResult:
    q, decay = float(ctx.hp["q"]), float(ctx.hp["ema"])
    bank_b, _ = ctx.new_models("biased")
    bank_d, gens = ctx.new_models("model")
    opt = ctx.optimizer(bank_b, bank_d)
    labels = ctx.train.y
    ema_b = torch.zeros(labels.shape, dtype=ctx.dtype, device=ctx.device)
    ema_d = torch.zeros_like(ema_b)
    seen = torch.zeros(labels.shape, dtype=torch.bool, device=ctx.device)
    tiny = torch.finfo(ctx.dtype).tiny

    def update(ema, idx, loss, first):
        new = torch.where(first, loss, decay * ema.gather(1, idx) + (1 - decay) * loss)
        ema.scatter_(1, idx, new)
        return new

    bank_b.train()
    bank_d.train()
    for _ in range(ctx.epochs):
        for idx in ctx.minibatches(gens):
            x, y = ctx.batch(idx, gens)
            logit_b, logit_d = bank_b(x), bank_d(x)
            ce_d = per_sample_ce(logit_d, y)
            first = ~seen.gather(1, idx)
            avg_b = update(ema_b, idx, per_sample_ce(logit_b, y).detach(), first)
            avg_d = update(ema_d, idx, ce_d.detach(), first)
            seen.scatter_(1, idx, True)
            norm_b = avg_b / classwise_max(ema_b, labels, ctx.n_classes).gather(1, y).clamp_min(tiny)
            norm_d = avg_d / classwise_max(ema_d, labels, ctx.n_classes).gather(1, y).clamp_min(tiny)
            weight = norm_b / (norm_b + norm_d + 1e-8)
            loss = generalized_ce(logit_b, y, q).mean(dim=1).sum() + (ce_d * weight).mean(dim=1).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        ctx.evaluator.record(bank_d)

    # the weights LfF would give every training point after its last step
    max_b = classwise_max(ema_b, labels, ctx.n_classes).gather(1, labels).clamp_min(tiny)
    max_d = classwise_max(ema_d, labels, ctx.n_classes).gather(1, labels).clamp_min(tiny)
    final_w = (ema_b / max_b) / (ema_b / max_b + ema_d / max_d + 1e-8)
    diagnostics = {
        "alpha_eff_weights": theory.effective_size(final_w.cpu().numpy(), ctx.train.member.cpu().numpy()),
    }
    return FitResult(bank_d, diagnostics)
