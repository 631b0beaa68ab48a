"""Empirical risk minimisation: Adam on the average cross-entropy (appendix C)."""
from __future__ import annotations

from ..engine import FitContext, FitResult
from .common import train_average_loss


def fit(ctx: FitContext) -> FitResult:
    bank, gens = ctx.new_models("model")
    train_average_loss(ctx, bank, gens, ctx.epochs)
    return FitResult(bank, {})
