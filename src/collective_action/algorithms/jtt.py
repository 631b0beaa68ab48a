"""Just Train Twice (Liu et al. 2021; appendix A, Algorithm 1).

Stage one trains ERM for T = ``identification_epochs`` epochs; its misclassified
training points form the error set E. Stage two trains a fresh model with the
points of E weighted by lambda = ``upweight`` and all others by 1.

Convention: weight lambda, not lambda copies. The weighted loss is exactly the
expected loss under P^(w) with w = lambda on E (Definition 1), for which Prop 3.2
gives alpha_eff in closed form; copies (the reference code appends lambda extra
copies of E, i.e. lambda + 1 in all) give the same objective in expectation but
also lengthen each epoch by (lambda - 1)|E| points, which would confound the
reweighting with extra optimisation steps. The second stage starts from the
same initialisation and minibatch order as the ERM run of the same seed, so the
two differ only by the weights.
"""
from __future__ import annotations

import torch

from .. import theory
from ..engine import FitContext, FitResult
from .common import train_average_loss


def fit(ctx: FitContext) -> FitResult:
    lam = float(ctx.hp["upweight"])
    id_bank, id_gens = ctx.new_models("identification")
    train_average_loss(ctx, id_bank, id_gens, int(ctx.hp["identification_epochs"]), record=False)
    error_set = ctx.predict_train(id_bank) != ctx.train.y  # [M, n]
    weights = torch.where(error_set, torch.tensor(lam, dtype=ctx.dtype, device=ctx.device),
                          torch.tensor(1.0, dtype=ctx.dtype, device=ctx.device))

    member = ctx.train.member.cpu().numpy()
    errors = error_set.cpu().numpy()
    diagnostics = theory.jtt_effective_size(errors, member, lam)
    diagnostics["error_set"] = errors

    bank, gens = ctx.new_models("model")
    train_average_loss(ctx, bank, gens, ctx.epochs, sample_weights=weights)
    return FitResult(bank, diagnostics)
