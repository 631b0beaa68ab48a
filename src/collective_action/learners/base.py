"""The learner interface: a learning algorithm as a few hooks around the engine's one loop.

``fit`` runs the optional stages before training (:meth:`Learner.prepare`, e.g. JTT's
identification model), builds the output model and any auxiliary models (LfF's biased
model), and hands :meth:`Learner.step` to :meth:`FitContext.train_loop`, which owns
minibatching, augmentation, the optimiser step and the per-epoch records. A learner
states what differs: the per-minibatch objective (:meth:`Learner.objective`), or how
gradients are formed (:meth:`Learner.step`, DP-SGD), and its diagnostics.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..training.engine import Batch, FitContext, FitResult, per_sample_ce, weighted_ce_backward


class Learner:
    """ERM's loop; subclasses override hooks. All runs of a cell train at once: tensors are
    [M, B] (runs, minibatch) and objectives are sums over runs of each run's loss."""

    hyperparameters: dict = {}
    style: dict = {}
    description = ""

    def __init__(self, ctx: FitContext, hp: Mapping[str, Any]):
        self.ctx, self.hp = ctx, dict(hp)

    # ---------------------------------------------------------------- hooks
    def prepare(self) -> None:
        """Stages before the main training (none by default)."""

    def auxiliary_models(self) -> list[torch.nn.Module]:
        """Models trained alongside the output model by the same optimiser (none by default)."""
        return []

    def per_sample_loss(self, batch: Batch) -> torch.Tensor:
        """[M, B] losses of the output model."""
        return per_sample_ce(self.ctx.forward(self.model, batch.x), batch.y)

    def coefficients(self, batch: Batch, loss: torch.Tensor) -> torch.Tensor:
        """[M, B] weight of each sample's loss in the objective, from the detached losses: 1/B
        (each run's mean loss); JTT and CVaR-DRO reweight here."""
        return weighted_mean_coefficients(loss)

    def objective(self, batch: Batch) -> torch.Tensor:
        """The scalar minimised at one step: the sum over runs of each run's weighted loss."""
        loss = self.per_sample_loss(batch)
        return (self.coefficients(batch, loss.detach()) * loss).sum()

    def step(self, batch: Batch) -> None:
        """Leave this step's gradients on the parameters (the optimiser step follows). A learner
        that only reweights the cross-entropy (ERM, JTT, CVaR-DRO) gets them in closed form
        (engine.weighted_ce_backward); one with its own objective or loss, through autograd."""
        if self._reweights_ce:
            weighted_ce_backward(self.model, self.ctx.model_input(batch.x), batch.y,
                                 lambda loss: self.coefficients(batch, loss))
        else:
            self.objective(batch).backward()

    @property
    def _reweights_ce(self) -> bool:
        cls = type(self)
        return cls.objective is Learner.objective and cls.per_sample_loss is Learner.per_sample_loss

    def batches(self, gens):
        """The minibatches of one epoch (by default each run's own shuffle)."""
        return self.ctx.shuffled_batches(gens)

    def diagnostics(self) -> dict[str, Any]:
        return {}

    # ---------------------------------------------------------------- the run
    def fit(self) -> FitResult:
        self.prepare()
        self.model, self.gens = self.ctx.new_models("model")
        banks = [*self.auxiliary_models(), self.model]
        self.ctx.train_loop(banks, self.gens, self.ctx.epochs, self.step, record=self.model, batches=self.batches)
        return FitResult(self.model, self.diagnostics())


def weighted_mean_coefficients(loss: torch.Tensor, weights: torch.Tensor | None = None,
                               mean_weight: torch.Tensor | None = None) -> torch.Tensor:
    """[M, B] coefficients c for which sum_b c loss is each run's weighted average loss.

    Without weights, 1/B: the mean. With per-sample weights w, w / (B mean_train(w)), so the minibatch
    estimate is mean(w * loss) / mean_train(w): an unbiased estimate of the expected loss under the
    weighted distribution P^(w) (Eq. 9), the objective Definition 1 and Prop 3.2 describe.
    """
    if weights is None:
        return torch.full_like(loss, 1.0 / loss.shape[1])
    return weights / (loss.shape[1] * mean_weight.unsqueeze(1))
