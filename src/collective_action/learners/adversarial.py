"""Adversarial training (Madry et al. 2018): minimise the loss at a worst-case perturbation.

At every step each training point is replaced by x + delta, where delta maximises the
cross-entropy within the l-infinity ball of radius eps, found by projected gradient
ascent (PGD): a uniform random start in the ball, then ``steps`` signed-gradient
steps of size ``step_size``, each projected back onto the ball and onto the range of
the stored inputs. Perturbations live on the scale the collective works on: [-1, 1]
for the 2D data, 0-255 for images before normalisation. The attack runs the model in
eval mode (batch norm neither uses nor updates batch statistics of adversarial
candidates); the model then trains on the perturbed points only, as Madry et al. do.
Each PGD step costs a forward and a backward pass.

Token ids have no continuous scale, so on text the attack perturbs the token embeddings instead
(Miyato et al. 2017; FreeLB, Zhu et al. 2020): an offset added to each token's embedding vector,
in the l-infinity ball of radius eps in embedding units (every coordinate of every token's
embedding moves by at most eps), with the same random start, steps and step size; padding
positions are not perturbed, and nothing is clamped (embeddings have no range). The model's
banks provide the hooks (``models/text.py``: ``forward(ids, embedding_offset)``, ``embed_dim``,
``pad_id``).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import rng
from ..training.engine import cached_ce_grad, evaluating, per_sample_ce
from .base import Learner


class Adversarial(Learner):
    name = "adversarial"
    description = ("Adversarial training (Madry et al. 2018): PGD in input space, l-infinity radius eps; on text, "
                   "in the space of token embeddings (Miyato et al. 2017).")
    style = {"label": "adversarial", "color": "tab:red", "marker": "D"}
    hyperparameters = {
        "radius": {"type": "number", "minimum": 0, "default": 0.1,
                   "description": "eps, the l-infinity radius on the stored scale: the [-1, 1] square for 2D data, "
                                  "0-255 for images before normalisation; on text, in embedding units: every "
                                  "coordinate of every (non-padding) token's embedding vector moves by at most eps "
                                  "(text_bag initialises embeddings N(0, 1/embed_dim): 0.18 per coordinate at 32)."},
        "steps": {"type": "integer", "minimum": 1, "default": 3,
                  "description": "PGD steps per training step (each a forward and a backward pass)."},
        "step_size": {"type": ["number", "null"], "exclusiveMinimum": 0, "default": None,
                      "description": "PGD step size; null: 2.5 eps / steps (Madry et al.'s rule of thumb)."},
    }

    def pgd(self) -> tuple[float, int, float]:
        """radius, steps and step size."""
        radius, steps = float(self.hp["radius"]), int(self.hp["steps"])
        return radius, steps, float(self.hp["step_size"] or 2.5 * radius / steps)

    def diagnostics(self):
        """Per run (all runs of a cell share them): the attack's radius, steps and step size."""
        radius, steps, step_size = self.pgd()
        m = self.ctx.train.n_models
        return {"radius": np.full(m, radius), "pgd_steps": np.full(m, steps, dtype=np.int64),
                "pgd_step_size": np.full(m, step_size)}

    def random_start(self, shape, device) -> torch.Tensor:
        """Each run's uniform draw [M, *shape] in [0, 1), from the run's own attack stream, so the model's
        initialisation and minibatch order are those of the ERM run of the same seed (radius 0 is ERM)."""
        if not hasattr(self, "attack_gens"):
            self.attack_gens = rng.torch_generators(self.ctx.base_seed, self.ctx.seeds, "attack")
        return torch.stack([torch.rand(shape, generator=g, dtype=self.ctx.dtype) for g in self.attack_gens]).to(device)

    def pgd_ascent(self, delta: torch.Tensor, gradient, keep: torch.Tensor | None = None) -> torch.Tensor:
        """The PGD loop of both attacks, from a random start ``delta``: ``steps`` signed steps along
        ``gradient(delta)`` (zero where ``keep`` is 0), each projected onto the l-infinity ball."""
        radius, steps, step_size = self.pgd()
        with evaluating(self.model):
            for _ in range(steps):
                sign = gradient(delta).sign()
                delta = (delta.detach() + step_size * (sign if keep is None else sign * keep)).clamp(-radius, radius)
        return delta

    def attack(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Input space: the perturbed inputs, within the stored scale's range."""
        lo, hi = self.ctx.input_range
        x = x.to(self.ctx.dtype)

        def gradient(delta):
            inside = (x + delta >= lo) & (x + delta <= hi)  # where the clamp passes the gradient on
            return torch.where(inside, self.input_gradient((x + delta).clamp(lo, hi), y), 0.0)

        delta = (2 * self.random_start(x.shape[1:], x.device) - 1) * self.pgd()[0]
        return (x + self.pgd_ascent(delta, gradient)).clamp(lo, hi).detach()

    def embedding_attack(self, ids: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The text attack: an offset [M, B, L, d] of the token embeddings of ids [M, B, L], zero at padding
        positions, in the l-infinity ball of radius eps."""
        if not hasattr(self.model, "embed_dim"):
            raise ValueError("adversarial training on inputs without a continuous scale (token ids) perturbs token "
                             "embeddings, and this model has no embedding hooks: use a text model (models/text.py)")

        def gradient(delta):
            delta = delta.requires_grad_(True)
            return torch.autograd.grad(per_sample_ce(self.model(ids, embedding_offset=delta), y).sum(), delta)[0]

        keep = (ids != self.model.pad_id).unsqueeze(-1).to(self.ctx.dtype)
        delta = (2 * self.random_start((*ids.shape[1:], self.model.embed_dim), ids.device) - 1) * self.pgd()[0] * keep
        return self.pgd_ascent(delta, gradient, keep)

    def input_gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The gradient of the summed cross-entropy with respect to inputs x on the stored scale. An MLP
        bank fed the stored scale directly (2D data) gets it in closed form, with the kernels autograd
        would run (the same numbers, a third of the time); any other model through autograd."""
        if hasattr(self.model, "input_grad_cached") and self.ctx.normalise is None:
            return self.model.input_grad_cached(*cached_ce_grad(self.model, x, y))
        x = x.detach().requires_grad_(True)
        grad, = torch.autograd.grad(per_sample_ce(self.ctx.forward(self.model, x), y).sum(), x)
        return grad

    def step(self, batch):
        """The mean cross-entropy at the perturbed points: in closed form for an MLP bank (as autograd
        computes it, bit for bit), through autograd otherwise; on text, at the perturbed embeddings."""
        if self.ctx.input_range is None:
            offset = self.embedding_attack(batch.x, batch.y)
            per_sample_ce(self.model(batch.x, embedding_offset=offset), batch.y).mean(dim=1).sum().backward()
            return
        x_adv = self.attack(batch.x, batch.y)
        if not hasattr(self.model, "backward_cached"):
            per_sample_ce(self.ctx.forward(self.model, x_adv), batch.y).mean(dim=1).sum().backward()
            return
        self.model.backward_cached(*cached_ce_grad(self.model, self.ctx.model_input(x_adv), batch.y, per_run_mean=True))
