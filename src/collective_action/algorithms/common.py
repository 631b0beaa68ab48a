"""The minibatch loop shared by the algorithms that minimise a (weighted) average loss."""
from __future__ import annotations

import torch

from ..engine import FitContext, per_sample_ce


def weighted_mean_loss(loss: torch.Tensor, weights: torch.Tensor | None, mean_weight: torch.Tensor | None):
    """Sum over runs of each run's weighted average loss.

    With per-sample weights w the minibatch estimate is mean(w * loss) / mean_train(w):
    an unbiased estimate of the expected loss under the weighted distribution P^(w)
    (Eq. 9), so the objective is exactly the one Definition 1 and Prop 3.2 describe.
    """
    if weights is None:
        return loss.mean(dim=1).sum()
    return ((weights * loss).mean(dim=1) / mean_weight).sum()


def train_average_loss(ctx: FitContext, bank, gens, epochs: int, sample_weights=None, record: bool = True):
    """Minimise the (optionally weighted) average cross-entropy for ``epochs`` epochs."""
    opt = ctx.optimizer(bank)
    mean_weight = sample_weights.mean(dim=1) if sample_weights is not None else None
    bank.train()
    for _ in range(epochs):
        for idx in ctx.minibatches(gens):
            x, y = ctx.batch(idx, gens)
            w = sample_weights.gather(1, idx) if sample_weights is not None else None
            loss = weighted_mean_loss(per_sample_ce(bank(x), y), w, mean_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if record:
            ctx.evaluator.record(bank)
    return bank
