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

from ..evaluation import theory
from ..training.engine import per_sample_ce
from .base import Learner


def generalized_ce(logits: torch.Tensor, y: torch.Tensor, q: float) -> torch.Tensor:
    """(1 - p_y^q) / q per sample: logits [M, B, C], y [M, B] -> [M, B]."""
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    return (1.0 - torch.exp(q * log_p)) / q


def classwise_max(values: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per run and class, the largest value among training points of that class: [M, C]."""
    out = torch.full((values.shape[0], n_classes), float("-inf"), dtype=values.dtype, device=values.device)
    return out.scatter_reduce(1, labels, values, reduce="amax", include_self=True)


class LfF(Learner):
    name = "lff"
    description = "Learning from Failure: a biased model (generalized cross-entropy) reweights a debiased one."
    style = {"label": "LfF", "color": "tab:green", "marker": "^"}
    hyperparameters = {
        "q": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.7,
              "description": "Exponent of the biased model's generalized cross-entropy; 0.7 in Nam et al. 2020."},
        "ema": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.7,
                "description": "Decay of the per-sample loss moving averages; 0.7 in the reference implementation."},
    }

    def auxiliary_models(self):
        ctx = self.ctx
        self.biased, _ = ctx.new_models("biased")
        shape = ctx.train.y.shape
        self.ema_b = torch.zeros(shape, dtype=ctx.dtype, device=ctx.device)
        self.ema_d = torch.zeros_like(self.ema_b)
        self.seen = torch.zeros(shape, dtype=torch.bool, device=ctx.device)
        return [self.biased]

    def _update(self, ema, idx, loss, first):
        decay = float(self.hp["ema"])
        new = torch.where(first, loss, decay * ema.gather(1, idx) + (1 - decay) * loss)
        ema.scatter_(1, idx, new)
        return new

    def _normalised(self, ema, avg, y):
        tiny = torch.finfo(self.ctx.dtype).tiny
        return avg / classwise_max(ema, self.ctx.train.y, self.ctx.n_classes).gather(1, y).clamp_min(tiny)

    def objective(self, batch):
        ctx, idx, y = self.ctx, batch.idx, batch.y
        logit_b, logit_d = ctx.forward(self.biased, batch.x), ctx.forward(self.model, batch.x)
        ce_d = per_sample_ce(logit_d, y)
        first = ~self.seen.gather(1, idx)
        avg_b = self._update(self.ema_b, idx, per_sample_ce(logit_b, y).detach(), first)
        avg_d = self._update(self.ema_d, idx, ce_d.detach(), first)
        self.seen.scatter_(1, idx, True)
        norm_b, norm_d = self._normalised(self.ema_b, avg_b, y), self._normalised(self.ema_d, avg_d, y)
        weight = norm_b / (norm_b + norm_d + 1e-8)
        return generalized_ce(logit_b, y, float(self.hp["q"])).mean(dim=1).sum() + (ce_d * weight).mean(dim=1).sum()

    def diagnostics(self):
        """The weights LfF would give every training point after its last step (Definition 1's alpha_eff)."""
        labels = self.ctx.train.y
        norm_b, norm_d = (self._normalised(ema, ema, labels) for ema in (self.ema_b, self.ema_d))
        final_w = norm_b / (norm_b + norm_d + 1e-8)
        return {"alpha_eff_weights": theory.effective_size(final_w.cpu().numpy(), self.ctx.train.member.cpu().numpy())}
