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

from .base import Learner


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


class CVaRDRO(Learner):
    name = "cvar_dro"
    description = "CVaR-DRO, the batch estimator: the top fraction a of each minibatch's losses carries all the weight."
    style = {"label": "CVaR-DRO", "color": "tab:green", "marker": "^"}
    hyperparameters = {
        "fraction": {
            "type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.1,
            "description": "a, the size of the CVaR uncertainty set: in each minibatch the top fraction a of the "
                           "per-sample losses carries all the weight (1/(a m) each, the fractional remainder on the "
                           "next one). (our choice, the paper does not say) 0.1, a value Levy et al. use."},
    }

    def prepare(self):
        self.share_total, self.n_steps = 0.0, 0

    def coefficients(self, batch, loss):
        weights = cvar_weights(loss, float(self.hp["fraction"]))
        self._track_collective_share(weights, batch)
        return weights

    def _track_collective_share(self, weights, batch) -> None:
        member = self.ctx.train.member.gather(1, batch.idx).to(weights.dtype)
        share = (weights * member).sum(dim=1) / weights.sum(dim=1)
        self.share_total = self.share_total + share
        self.n_steps += 1

    def diagnostics(self):
        """The collective's effective size: its share of the weight (Definition 1) in each minibatch,
        averaged over all training steps."""
        return {"alpha_eff_weights": (self.share_total / self.n_steps).cpu().numpy()}
