"""Adversarial training: the PGD attack and the learner."""
import numpy as np
import pytest
import torch

import text_fixtures as fx
from collective_action.learners import LEARNERS
from collective_action.training.engine import per_sample_ce
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


def test_closed_form_attack_and_step_are_autograd_bit_for_bit():
    """For an MLP bank the input gradient and the training step skip autograd, with its kernels: the same bits."""
    x, y = _data()
    ctx = _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], dtype=torch.float32, hidden=(16, 8))
    learner = LEARNERS.get("adversarial")(ctx, {"step_size": None, "radius": 0.2, "steps": 2})
    learner.model, learner.gens = ctx.new_models("model")
    batch = next(iter(ctx.shuffled_batches(learner.gens)))
    inputs = batch.x.to(torch.float32).detach().requires_grad_(True)
    expected, = torch.autograd.grad(per_sample_ce(ctx.forward(learner.model, inputs), batch.y).sum(), inputs)
    assert torch.equal(learner.input_gradient(batch.x.to(torch.float32), batch.y), expected)

    torch.manual_seed(0)
    x_adv = (batch.x + 0.1 * torch.randn_like(batch.x)).clamp(-1, 1).to(torch.float32)
    learner.attack = lambda x, y: x_adv  # the step at fixed perturbed points
    learner.step(batch)
    closed = [p.grad.clone() for p in learner.model.parameters()]
    for p in learner.model.parameters():
        p.grad = None
    per_sample_ce(ctx.forward(learner.model, x_adv), batch.y).mean(dim=1).sum().backward()
    assert all(torch.equal(a, p.grad) for a, p in zip(closed, learner.model.parameters()))


# ----------------------------------------------------------------------------- text: PGD on the token embeddings
TEXT_MODELS = [{"kind": "text_bag", "embed_dim": 8}, {"kind": "text_bag", "embed_dim": 8, "pool": "max"},
               {"kind": "text_transformer", "embed_dim": 8, "depth": 1, "heads": 2}]


@pytest.mark.parametrize("spec", TEXT_MODELS, ids=lambda s: f"{s['kind']}_{s.get('pool', '')}")
def test_text_attack_perturbs_embeddings_in_the_ball_not_padding_and_raises_the_loss(spec):
    ctx = fx.text_context(spec, [0, 1])
    learner = LEARNERS.get("adversarial")(ctx, {"radius": 0.3, "steps": 3, "step_size": None})
    learner.model, gens = ctx.new_models("model")
    batch = next(iter(ctx.shuffled_batches(gens)))
    delta = learner.embedding_attack(batch.x, batch.y)
    assert delta.shape == (*batch.x.shape, 8)
    assert delta.abs().max() <= 0.3 + 1e-6 and delta.abs().max() > 0.2  # signed steps reach the ball's faces
    assert (delta[batch.x == 0] == 0).all()  # padding positions are not perturbed
    clean = per_sample_ce(learner.model(batch.x), batch.y).mean()
    attacked = per_sample_ce(learner.model(batch.x, embedding_offset=delta), batch.y).mean()
    assert attacked > clean
    assert all(p.grad is None for p in learner.model.parameters())


def test_text_radius_zero_is_erm_and_a_radius_changes_the_model():
    spec = TEXT_MODELS[0]
    erm = fit("erm", fx.text_context(spec, [0, 1]))
    zero = fit("adversarial", fx.text_context(spec, [0, 1], hp={"radius": 0.0, "steps": 2, "step_size": 0.1}))
    adv = fit("adversarial", fx.text_context(spec, [0, 1], hp={"radius": 0.3, "steps": 2, "step_size": None}))
    for a, b in zip(erm.bank.parameters(), zero.bank.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)  # the offset path pools in another order: equal to float tolerance
    assert not torch.allclose(erm.bank.embedding, adv.bank.embedding, atol=1e-3)


@pytest.mark.parametrize("spec", [TEXT_MODELS[0], TEXT_MODELS[2]], ids=["text_bag", "text_transformer"])
def test_a_text_run_does_not_depend_on_the_runs_beside_it(spec):
    hp = {"radius": 0.3, "steps": 2, "step_size": None}
    together = fit("adversarial", fx.text_context(spec, [0, 1, 2], hp=hp))
    alone = fit("adversarial", fx.text_context(spec, [1], hp=hp))
    ids = torch.from_numpy(fx.token_ids(40, 12, 30, seed=5))
    with torch.no_grad():  # one run alone is a plain module, not a stacked bank: compare the models' outputs
        assert torch.allclose(together.bank(ids)[1], alone.bank(ids)[0], atol=1e-5)


def test_adversarial_on_text_needs_the_models_embedding_hooks():
    ctx = fx.text_context(TEXT_MODELS[0], [0])
    learner = LEARNERS.get("adversarial")(ctx, {"radius": 0.1, "steps": 1, "step_size": None})
    learner.model = torch.nn.Linear(12, 2)
    with pytest.raises(ValueError, match="perturbs token embeddings, and this model has no embedding hooks"):
        learner.embedding_attack(torch.ones(1, 4, 12, dtype=torch.int64), torch.zeros(1, 4, dtype=torch.int64))
