"""DP-SGD: per-sample gradients, clipping, noise, Poisson batches and accounting, each against a plain reference."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import text_fixtures as fx
from collective_action import rng
from collective_action.learners import LEARNERS, defaults, dp_sgd
from collective_action.models import make_bank
from collective_action.models.banks import MLPBank, ModuleBank
from collective_action.training.engine import Batch, Evaluator, FitContext, Split

HP = {"clip_norm": 1.0, "noise_multiplier": 1.0, "target_epsilon": None, "delta": 1e-5}


def _data(n=240, seed=0):
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, size=(n, 2))
    return x, (x[:, 0] > 0).astype(np.int64)


def _context(seeds, hp=None, epochs=2, n=240, dtype=torch.float64):
    x, y = _data(n)
    overlays = []
    for s in seeds:  # a different collective per run: its points moved to x2 < 0, labelled 1
        idx = np.random.default_rng(100 + s).choice(n, size=n // 10, replace=False)
        overlays.append((idx, x[idx] * np.array([1.0, -1.0])))
    return FitContext(
        train=Split.from_overlays(x, y, overlays, 1, "cpu", dtype),
        evaluator=Evaluator(per_run={}, shared={"test": torch.from_numpy(x).to(dtype)}, batch_size=64),
        model_spec={"kind": "mlp", "hidden": [8, 4]}, input_shape=[2], n_classes=2, seeds=seeds, base_seed=0,
        epochs=epochs, batch_size=32, lr=1e-2, weight_decay=0.0, hp=hp or HP, device=torch.device("cpu"),
        dtype=dtype)


def _fit(ctx, **hp):
    return LEARNERS.get("dp_sgd")(ctx, {**defaults("dp_sgd"), **HP, **hp}).fit()


def _mlp_bank(m=3):
    return MLPBank([2, 5, 4, 3], rng.torch_generators(0, range(m), "model"), torch.float64)


def _cnn_bank(m=3, vectorize=True):
    return make_bank({"kind": "cnn", "channels": [3, 4], "vectorize": vectorize}, [2, 6, 6], 3,
                     rng.torch_generators(0, range(m), "model"), torch.float32, "cpu")


def _batch(bank, b=6, seed=0):
    """Random inputs [M, b, ...] and labels [M, b] for the bank."""
    g = torch.Generator().manual_seed(seed)
    m, dtype = bank.n_models, next(bank.parameters()).dtype
    shape = (2,) if isinstance(bank, MLPBank) else (2, 6, 6)
    return torch.randn(m, b, *shape, generator=g, dtype=dtype) * 3, torch.randint(0, 3, (m, b), generator=g)


def _loop_grads(bank, x, y):
    """The per-sample gradients of a plain loop: run m's loss on sample b alone, by autograd, one at a time."""
    out = []
    for m in range(bank.n_models):
        rows = []
        for b in range(x.shape[1]):
            xb = x[:, b:b + 1].clone()  # every run sees one sample; only run m's loss counts
            loss = F.cross_entropy(bank(xb)[m], y[m, b:b + 1], reduction="sum")
            params = [bank.get_parameter(group[0 if dp_sgd._stacked(bank) else m])
                      for group in dp_sgd.parameter_groups(bank)]
            grads = torch.autograd.grad(loss, params)
            rows.append([g[m] if dp_sgd._stacked(bank) else g for g in grads])
        out.append(rows)
    return [torch.stack([torch.stack([rows[b][i] for b in range(x.shape[1])]) for rows in out])
            for i in range(len(out[0][0]))]  # per group [M, B, *shape]


@pytest.mark.parametrize("make", [_mlp_bank, _cnn_bank, lambda: _cnn_bank(2, vectorize=False),
                                  lambda: _cnn_bank(1)], ids=["mlp", "cnn", "cnn-unvectorised", "cnn-one-run"])
def test_per_sample_grads_equal_a_per_sample_loop(make):
    bank = make()
    x, y = _batch(bank)
    tol = 1e-12 if isinstance(bank, MLPBank) else 1e-5
    for ours, loop in zip(dp_sgd.per_sample_grads(bank, x, y), _loop_grads(bank, x, y), strict=True):
        assert ours.shape == loop.shape
        assert torch.allclose(ours, loop, atol=tol, rtol=tol)


def test_mlp_shortcut_equals_the_generic_path():
    """Ghost clipping (norms from activations and output gradients) = vmap per-sample gradients, clipped and
    summed; C is chosen so that some samples are clipped and some not, and padding (weight 0) counts for nothing."""
    bank = _mlp_bank()
    x, y = _batch(bank, b=8)
    grads = dp_sgd.per_sample_grads(bank, x, y)
    norms = torch.stack([g.flatten(2).pow(2).sum(-1) for g in grads]).sum(0).sqrt()
    clip = float(norms.median())
    assert (norms > clip).any() and (norms < clip).any()
    weight = torch.ones(3, 8, dtype=torch.float64)
    weight[0, 5:] = weight[2, 7:] = 0
    for a, b in zip(dp_sgd.mlp_clipped_sum(bank, x, y, clip, weight), dp_sgd.clipped_sum(grads, clip, weight),
                    strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("path", ["mlp_shortcut", "generic"])
def test_clipping_bounds_every_per_sample_norm(path):
    """A batch of one sample (the others weighted 0): the clipped sum is that sample's clipped gradient, of norm
    min(C, its norm)."""
    bank = _mlp_bank()
    x, y = _batch(bank, b=5)
    grads = dp_sgd.per_sample_grads(bank, x, y)
    norms = torch.stack([g.flatten(2).pow(2).sum(-1) for g in grads]).sum(0).sqrt()
    clip = float(norms.median())
    assert (norms > clip).any() and (norms < clip).any()
    for b in range(5):
        weight = torch.zeros(3, 5, dtype=torch.float64)
        weight[:, b] = 1
        summed = (dp_sgd.mlp_clipped_sum(bank, x, y, clip, weight) if path == "mlp_shortcut"
                  else dp_sgd.clipped_sum(grads, clip, weight))
        norm = torch.stack([s.flatten(1).pow(2).sum(-1) for s in summed]).sum(0).sqrt()  # [M]
        assert (norm <= clip * (1 + 1e-12)).all()
        assert torch.allclose(norm, norms[:, b].clamp(max=clip), rtol=1e-5)  # opacus's C / (norm + 1e-6)


def _learner(ctx, **hp):
    learner = LEARNERS.get("dp_sgd")(ctx, {**defaults("dp_sgd"), **HP, **hp})
    learner.prepare()
    learner.model, learner.gens = ctx.new_models("model")
    return learner


def test_noiseless_unclipped_gradient_is_the_mean_gradient_over_the_expected_batch():
    """sigma = 0 and C above every norm: the DP gradient on a padded batch is the sum of the real samples'
    gradients (by plain autograd) over the expected batch size q n, whatever the padding holds."""
    ctx = _context([0, 1, 2])
    learner = _learner(ctx, noise_multiplier=0.0, clip_norm=1e6)
    idx = torch.tensor([[3, 7, 11, 0], [5, 9, 0, 0], [1, 2, 4, 8]])
    weight = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.float64)
    x, y = ctx.train.batch(idx)
    learner.step(Batch(idx, x, y, weight))
    bank = learner.model
    loss = (F.cross_entropy(bank(x).flatten(0, 1), y.flatten(), reduction="none") * weight.flatten()).sum()
    expected = torch.autograd.grad(loss / ctx.batch_size, list(bank.parameters()))
    for p, g in zip(bank.parameters(), expected):
        assert torch.allclose(p.grad, g, atol=1e-14, rtol=0)


def test_noise_has_the_stated_scale_and_comes_from_each_runs_stream():
    """With all weights 0 the gradient is pure noise, sigma C / (q n) per entry, and run m's is
    gens[m]'s standard normal draw."""
    ctx = _context([0, 1])
    learner = _learner(ctx, noise_multiplier=2.0, clip_norm=0.5)
    idx = torch.zeros(2, 3, dtype=torch.int64)
    x, y = ctx.train.batch(idx)
    gens = [torch.Generator().set_state(g.get_state()) for g in learner.gens]
    learner.step(Batch(idx, x, y, torch.zeros(2, 3, dtype=torch.float64)))
    numel = sum(p[0].numel() for p in learner.model.parameters())
    for m, g in enumerate(gens):
        z = torch.randn(numel, generator=g, dtype=torch.float64)
        got = torch.cat([p.grad[m].flatten() for p in learner.model.parameters()])
        assert torch.allclose(got, z * 2.0 * 0.5 / 32, atol=1e-15, rtol=0)


def test_poisson_batches_are_each_runs_own_bernoulli_sample():
    ctx = _context([0, 1, 2])
    learner = _learner(ctx)
    gens = rng.torch_generators(0, [0, 1, 2], "batches")
    replay = [torch.Generator().set_state(g.get_state()) for g in gens]
    batches = list(learner.batches(gens))
    assert len(batches) == math.ceil(240 / 32) == learner.steps_per_epoch
    assert learner.sample_rate == 32 / 240
    for batch in batches:
        for m, g in enumerate(replay):
            chosen = (torch.rand(240, generator=g, dtype=torch.float64) < 32 / 240).nonzero().squeeze(1)
            k = len(chosen)
            assert torch.equal(batch.idx[m, :k], chosen) and (batch.weight[m, :k] == 1).all()
            assert (batch.weight[m, k:] == 0).all()
            x, y = ctx.train.batch(batch.idx)
            assert torch.equal(batch.x, x) and torch.equal(batch.y, y)
    sizes = torch.stack([b.weight.sum(1) for b in batches])
    assert len(set(sizes.flatten().tolist())) > 1  # batch sizes vary, as Poisson sampling makes them


def test_epsilon_is_opacus_rdp_accountant():
    from opacus.accountants import RDPAccountant

    ctx = _context([0, 1], epochs=2)
    d = _fit(ctx, noise_multiplier=1.3, delta=1e-4).diagnostics
    steps = 2 * math.ceil(240 / 32)
    accountant = RDPAccountant()
    accountant.history = [(1.3, 32 / 240, steps)]
    assert np.array_equal(d["steps"], [steps, steps]) and np.allclose(d["sample_rate"], 32 / 240)
    assert np.allclose(d["noise_multiplier"], 1.3)
    assert np.allclose(d["epsilon"], accountant.get_epsilon(delta=1e-4), rtol=1e-12)


def test_target_epsilon_is_met():
    d = _fit(_context([0]), noise_multiplier=None, target_epsilon=2.0).diagnostics
    assert 2.0 - 0.011 <= d["epsilon"][0] <= 2.0
    assert d["noise_multiplier"][0] > 0


@pytest.mark.parametrize("hp", [{"noise_multiplier": None, "target_epsilon": None},
                                {"noise_multiplier": 1.0, "target_epsilon": 3.0}])
def test_exactly_one_of_sigma_and_target_epsilon(hp):
    with pytest.raises(ValueError, match="exactly one of 'noise_multiplier' and 'target_epsilon'"):
        _fit(_context([0]), **hp)


def test_batch_norm_is_refused():
    def make():
        return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(48, 3))

    bank = ModuleBank(make, rng.torch_generators(0, [0, 1], "model"), 3, "cpu")
    x, y = _batch(_cnn_bank(2))
    with pytest.raises(ValueError, match="DP-SGD needs a model without batch norm"):
        dp_sgd.per_sample_grads(bank, x, y)


def test_a_run_does_not_depend_on_the_runs_beside_it():
    seeds = [0, 1, 2]
    together = _fit(_context(seeds))
    for m, seed in enumerate(seeds):
        alone = _fit(_context([seed]))  # the same run: its collective depends on its seed only
        for w_all, w_one in zip(together.bank.weights, alone.bank.weights):
            assert torch.allclose(w_all[m], w_one[0], atol=1e-12, rtol=0)


def test_same_seed_same_models():
    a, b = (_fit(_context([0, 1])) for _ in range(2))
    for p, q in zip(a.bank.parameters(), b.bank.parameters()):
        assert torch.equal(p, q)


def _image_context(seeds, n=48):
    """A tiny image cell: uint8 [n, 2, 8, 8], random crops and flips, a vmapped CNN bank."""
    from collective_action.training.augment import ImageTransforms

    r = np.random.default_rng(0)
    x = r.integers(0, 256, size=(n, 2, 8, 8), dtype=np.uint8)
    y = r.integers(0, 3, size=n)
    overlays = [(np.arange(s, s + 4), 255 - x[s:s + 4]) for s in seeds]
    transforms = ImageTransforms([127.0, 127.0], [70.0, 70.0], {"crop_padding": 2, "flip": True}, "cpu")
    return FitContext(
        train=Split.from_overlays(x, y, overlays, 1, "cpu"),
        evaluator=Evaluator(per_run={}, shared={}, batch_size=64, transform=transforms.normalise),
        model_spec={"kind": "cnn", "channels": [3, 4]}, input_shape=[2, 8, 8], n_classes=3, seeds=seeds,
        base_seed=0, epochs=2, batch_size=8, lr=1e-2, weight_decay=0.0, hp=HP, device=torch.device("cpu"),
        augment=transforms.augment, normalise=transforms.normalise)


def test_a_cnn_run_with_augmentation_does_not_depend_on_the_runs_beside_it():
    """Each run augments only its own Poisson sample, so its stream's draws do not depend on the other runs'
    batch sizes; the vmapped bank of three runs against the one-run (unvectorised) bank of each."""
    seeds = [0, 1, 2]
    together = _fit(_image_context(seeds)).bank
    assert together.vmapped
    for m, seed in enumerate(seeds):
        alone = _fit(_image_context([seed])).bank
        for stacked, p in zip(together.stacked, alone.models[0].parameters(), strict=True):
            assert torch.allclose(stacked[m], p, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- the text bag's closed-form norms
def _bag_bank(m=3, pool="mean"):
    return make_bank({"kind": "text_bag", "embed_dim": 6, "vocab_size": 30, "pool": pool}, [12], 3,
                     rng.torch_generators(0, range(m), "model"), torch.float64, "cpu").double()


def test_bag_ghost_clipping_equals_the_generic_path():
    """The mean-pooled bag's per-sample norms in closed form (repeated words and padding included) = the
    vmap per-sample gradients' norms; the clipped sum = the generic clipped sum, some samples clipped, padding
    (weight 0) counting for nothing."""
    bank = _bag_bank()
    x = torch.from_numpy(fx.token_ids(3 * 8, 12, 30)).view(3, 8, 12)
    y = torch.randint(0, 3, (3, 8), generator=torch.Generator().manual_seed(0))
    grads = dp_sgd.per_sample_grads(bank, x, y)
    norms = torch.stack([g.flatten(2).pow(2).sum(-1) for g in grads]).sum(0)
    _, sq = bank.logits_and_grad_sq_norms(x, y)
    assert torch.allclose(sq, norms, atol=1e-12, rtol=1e-10)
    clip = float(norms.sqrt().median())
    weight = torch.ones(3, 8, dtype=torch.float64)
    weight[0, 5:] = weight[2, 7:] = 0
    for a, b in zip(dp_sgd.ghost_clipped_sum(bank, x, y, clip, weight), dp_sgd.clipped_sum(grads, clip, weight),
                    strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-12, rtol=1e-10)
    with pytest.raises(ValueError, match="need the mean-pooled bag"):
        _bag_bank(pool="max").logits_and_grad_sq_norms(x, y)


def test_dp_sgd_on_text_takes_the_bag_shortcut_and_trains_as_the_generic_path(monkeypatch):
    spec = {"kind": "text_bag", "embed_dim": 6}
    hp = {**defaults("dp_sgd"), **HP}
    fast = LEARNERS.get("dp_sgd")(fx.text_context(spec, [0, 1]), hp).fit()
    calls = []

    def generic(bank, x, y, clip, weight):
        calls.append(bank)
        return dp_sgd.clipped_sum(dp_sgd.per_sample_grads(bank, x, y), clip, weight)

    monkeypatch.setattr(dp_sgd, "ghost_clipped_sum", generic)
    slow = LEARNERS.get("dp_sgd")(fx.text_context(spec, [0, 1]), hp).fit()
    assert calls and all(type(b).__name__ == "BagBank" for b in calls)  # the bag's bank takes the shortcut
    for a, b in zip(fast.bank.parameters(), slow.bank.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)
