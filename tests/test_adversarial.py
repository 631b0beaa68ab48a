"""Adversarial training: the PGD attack and the learner."""
import numpy as np
import torch

from collective_action.engine import per_sample_ce
from collective_action.learners import LEARNERS
from test_engine import _context, _data, _overlays, fit


def _learner(hp, epochs=1):
    x, y = _data()
    ctx = _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=epochs)
    learner = LEARNERS.get("adversarial")(ctx, {"step_size": None, **hp})
    learner.model, learner.gens = ctx.new_models("model")
    return ctx, learner


def test_attack_stays_in_the_ball_and_the_range_and_raises_the_loss():
    ctx, learner = _learner({"radius": 0.2, "steps": 5})
    batch = next(iter(ctx.shuffled_batches(learner.gens)))
    x_adv = learner.attack(batch.x, batch.y)
    assert (x_adv - batch.x).abs().max() <= 0.2 + 1e-12
    assert x_adv.min() >= -1 and x_adv.max() <= 1
    clean = per_sample_ce(ctx.forward(learner.model, batch.x), batch.y).mean()
    attacked = per_sample_ce(ctx.forward(learner.model, x_adv), batch.y).mean()
    assert attacked > clean
    assert all(p.grad is None for p in learner.model.parameters())  # the attack leaves no gradients behind


def test_radius_zero_is_erm():
    x, y = _data()
    erm = fit("erm", _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=2))
    adv = fit("adversarial", _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=2,
                                      hp={"radius": 0.0, "steps": 2, "step_size": 0.1}))
    for a, b in zip(erm.bank.parameters(), adv.bank.parameters()):
        assert torch.allclose(a, b, atol=1e-12)


def test_adversarial_training_changes_the_model():
    x, y = _data()
    erm = fit("erm", _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=2))
    adv = fit("adversarial", _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=2,
                                      hp={"radius": 0.3, "steps": 2, "step_size": None}))
    assert not np.allclose(erm.bank.weights[0].detach(), adv.bank.weights[0].detach())
