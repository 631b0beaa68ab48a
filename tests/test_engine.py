"""The vectorised engine against plain one-model-at-a-time training."""
from pathlib import Path

import numpy as np
import pytest
import torch

import reference
from collective_action import collective, rng
from collective_action.learners import LEARNERS
from collective_action.models.banks import MLPBank, mlp_sizes
from collective_action.signals import make_signal
from collective_action.training.engine import Evaluator, FitContext, Split, per_sample_ce
from collective_action.training.optim import Adam

SIGNAL = make_signal({"kind": "reflect_x2_negative", "target_label": 1})


def _data(n=240, seed=0):
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, size=(n, 2))
    return x, (x[:, 0] > 0).astype(np.int64)


def _overlays(x, seeds, alpha):
    out = []
    for s in seeds:
        idx = collective.select_members(len(x), alpha, np.random.default_rng(100 + s))
        out.append((idx, SIGNAL.apply(x[idx])))
    return out


def _context(x, y, overlays, seeds, dtype=torch.float64, epochs=3, hp=None, hidden=(8, 4)):
    xt = torch.from_numpy(x).to(dtype)
    return FitContext(
        train=Split.from_overlays(x, y, overlays, SIGNAL.target_label, "cpu", dtype),
        evaluator=Evaluator(per_run={}, shared={"test": xt}, batch_size=64),
        model_spec={"kind": "mlp", "hidden": list(hidden)}, input_shape=[2], n_classes=2, seeds=seeds,
        base_seed=0, epochs=epochs, batch_size=32, lr=1e-2, weight_decay=0.0, hp=hp or {},
        device=torch.device("cpu"), dtype=dtype, input_range=(-1.0, 1.0))


def test_split_views_are_the_poisoned_datasets():
    x, y = _data()
    overlays = _overlays(x, [0, 1], 0.2)
    split = Split.from_overlays(x, y, overlays, 1, "cpu")
    idx = torch.arange(len(y)).expand(2, -1)
    xb, yb = split.batch(idx)
    for m, (index, x_col) in enumerate(overlays):
        xp, yp, member = collective.overlay(x, y, index, x_col, 1)
        assert np.array_equal(xb[m].numpy(), xp) and np.array_equal(yb[m].numpy(), yp)
        assert np.array_equal(split.member[m].numpy(), member)


def test_vectorised_erm_equals_per_model_loop():
    """Each run of a vectorised cell ends with the parameters a plain nn.Sequential + DataLoader + torch.optim.Adam
    loop reaches on the same poisoned data, initialisation and batch order."""
    x, y = _data()
    seeds = [0, 1, 2]
    overlays = _overlays(x, seeds, 0.2)
    ctx = _context(x, y, overlays, seeds)
    bank = fit("erm", ctx).bank
    sizes = mlp_sizes(2, [8, 4], 2)
    for m, seed in enumerate(seeds):
        xp, yp, _ = collective.overlay(x, y, *overlays[m], 1)
        gen = rng.torch_generators(0, [seed], "model")[0]
        ref = reference.train_erm_one(torch.from_numpy(xp), torch.from_numpy(yp), sizes, gen, epochs=3,
                                      batch_size=32, lr=1e-2, dtype=torch.float64)
        linears = [layer for layer in ref if isinstance(layer, torch.nn.Linear)]
        for i, lin in enumerate(linears):
            assert torch.allclose(bank.weights[i][m], lin.weight.T, atol=1e-10, rtol=0)
            assert torch.allclose(bank.biases[i][m, 0], lin.bias, atol=1e-10, rtol=0)


def fit(learner: str, ctx, hp=None):
    from collective_action.learners import defaults

    return LEARNERS.get(learner)(ctx, {**defaults(learner), **(hp or ctx.hp)}).fit()


# small, fast hyperparameters of every registered learner for these tests (a new learner adds its own)
TEST_HP = {"jtt": {"identification_epochs": 1, "upweight": 5.0}, "cvar_dro": {"fraction": 0.2},
           "adversarial": {"radius": 0.1, "steps": 2},
           "dp_sgd": {"clip_norm": 1.0, "noise_multiplier": 1.0, "target_epsilon": None}}


@pytest.mark.parametrize("learner", LEARNERS.names())
def test_a_run_does_not_depend_on_the_runs_beside_it(learner):
    x, y = _data()
    seeds = [0, 1, 2]
    overlays = _overlays(x, seeds, 0.1)
    hp = TEST_HP.get(learner, {})
    together = fit(learner, _context(x, y, overlays, seeds, dtype=torch.float32, epochs=2, hp=hp))
    for m, seed in enumerate(seeds):
        alone = fit(learner, _context(x, y, [overlays[m]], [seed], dtype=torch.float32, epochs=2, hp=hp))
        for w_all, w_one in zip(together.bank.weights, alone.bank.weights):
            assert torch.allclose(w_all[m], w_one[0], atol=1e-6)
        for key, value in alone.diagnostics.items():
            assert np.allclose(together.diagnostics[key][m], value[0], equal_nan=True)


def test_adam_matches_torch_adam():
    torch.manual_seed(0)
    p1 = torch.nn.Parameter(torch.randn(5, 3, dtype=torch.float64))
    p2 = torch.nn.Parameter(p1.detach().clone())
    ours, theirs = Adam([p1], lr=1e-2, weight_decay=0.01), torch.optim.Adam([p2], lr=1e-2, weight_decay=0.01)
    for step in range(20):
        target = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(step))
        for p, opt in ((p1, ours), (p2, theirs)):
            opt.zero_grad()
            ((p - target) ** 2).sum().backward()
            opt.step()
    assert torch.allclose(p1, p2, atol=1e-12, rtol=0)


def test_bank_initialisation_matches_nn_linear_bounds():
    gens = rng.torch_generators(0, [0, 1], "model")
    bank = MLPBank([2, 64, 32, 2], gens)
    assert bank.weights[0].shape == (2, 2, 64) and bank.biases[0].shape == (2, 1, 64)
    assert bank.weights[1].abs().max() <= 1 / np.sqrt(64)
    assert not torch.equal(bank.weights[0][0], bank.weights[0][1])


def test_jtt_records_effective_size_both_ways():
    x, y = _data(400)
    seeds = [0, 1]
    result = fit("jtt", _context(x, y, _overlays(x, seeds, 0.2), seeds, epochs=2,
                                 hp={"identification_epochs": 1, "upweight": 20.0}))
    d = result.diagnostics
    assert np.allclose(d["alpha_eff"], d["alpha_eff_weights"], rtol=1e-12)
    assert np.allclose(d["alpha_realized"], 0.2)
    assert d["error_set"].shape == (2, 400)


@pytest.mark.parametrize("learner", LEARNERS.names())
def test_evaluator_keeps_one_prediction_per_epoch(learner):
    x, y = _data()
    ctx = _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=3, hp=TEST_HP.get(learner, {}))
    fit(learner, ctx)
    pred = ctx.evaluator.predictions()["test"]
    assert pred.shape == (3, 2, len(y)) and pred.dtype == np.uint8


@pytest.mark.parametrize("learner", LEARNERS.names())
def test_same_seed_same_models(learner):
    x, y = _data()
    runs = [fit(learner, _context(x, y, _overlays(x, [0, 1], 0.1), [0, 1], epochs=2, hp=TEST_HP.get(learner, {})))
            for _ in range(2)]
    for a, b in zip(runs[0].bank.parameters(), runs[1].bank.parameters()):
        assert torch.equal(a, b)


GOLDEN = {"erm": {}, "jtt": {"identification_epochs": 1, "upweight": 5.0}, "lff": {"q": 0.7, "ema": 0.7},
          "cvar_dro": {"fraction": 0.2}}


@pytest.mark.parametrize("learner", sorted(GOLDEN))
def test_learners_reproduce_their_results_before_the_learner_interface(learner):
    """tests/data/learners_golden.npz holds each learner's final parameters, per-epoch test predictions and
    diagnostics on a small cell (float64), computed by the code before the learner interface (commit 1f42a7f)."""
    golden = np.load(Path(__file__).parent / "data" / "learners_golden.npz")
    x, y, x_test = golden["x"], golden["y"], golden["x_test"]
    seeds = [0, 1, 2]
    ctx = FitContext(train=Split.from_overlays(x, y, _overlays(x, seeds, 0.2), 1, "cpu", torch.float64),
                     evaluator=Evaluator(per_run={}, shared={"test": torch.from_numpy(x_test)}, batch_size=64),
                     model_spec={"kind": "mlp", "hidden": [8, 4]}, input_shape=[2], n_classes=2, seeds=seeds,
                     base_seed=0, epochs=3, batch_size=32, lr=1e-2, weight_decay=0.0, hp=GOLDEN[learner],
                     device=torch.device("cpu"), dtype=torch.float64)
    result = fit(learner, ctx)
    for key, value in result.bank.state_arrays().items():
        np.testing.assert_allclose(value, golden[f"{learner}/model/{key}"], rtol=0, atol=1e-12)
    assert np.array_equal(ctx.evaluator.predictions()["test"], golden[f"{learner}/pred/test"])
    recorded = {k.split("/diag/")[1] for k in golden.files if k.startswith(f"{learner}/diag/")}
    for key in recorded:  # diagnostics added since may be new; those recorded then must not change
        np.testing.assert_allclose(np.asarray(result.diagnostics[key], dtype=float), golden[f"{learner}/diag/{key}"],
                                   rtol=0, atol=1e-12)


def test_closed_form_cross_entropy_gradients_equal_autograd():
    """engine.weighted_ce_backward (the MLP bank's written-out chain rule) gives autograd's gradients of
    the weighted cross-entropy, for any per-sample coefficients."""
    from collective_action.training.engine import weighted_ce_backward

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 16, 2, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.randint(0, 2, (3, 16), generator=gen)
    coef = torch.rand(3, 16, generator=gen, dtype=torch.float64)
    grads = []
    for closed_form in (True, False):
        bank = MLPBank([2, 8, 4, 2], [torch.Generator().manual_seed(s) for s in range(3)], dtype=torch.float64)
        if closed_form:
            weighted_ce_backward(bank, x, y, lambda loss: coef)
        else:
            (coef * per_sample_ce(bank(x), y)).sum().backward()
        grads.append([p.grad.clone() for p in bank.parameters()])
    for ours, expected in zip(*grads, strict=True):
        torch.testing.assert_close(ours, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_over_one_flat_buffer_is_bit_for_bit_adam_per_parameter(dtype):
    """An MLP bank's parameters become views into one buffer; the steps are exactly the per-parameter ones."""
    banks, opts = [], []
    for flat in (True, False):
        bank = MLPBank([2, 16, 8, 2], rng.torch_generators(0, [0, 1, 2], "model"), dtype)
        opt = Adam(bank.parameters(), lr=1e-2, weight_decay=0.01)
        if not flat:  # the per-parameter path, as for parameters that cannot share a buffer
            opt = Adam([], lr=1e-2, weight_decay=0.01)
            opt.params = [p for p in bank.parameters()]
            opt.exp_avg = [torch.zeros_like(p) for p in opt.params]
            opt.exp_avg_sq = [torch.zeros_like(p) for p in opt.params]
        banks.append(bank)
        opts.append(opt)
    assert opts[0].flat is not None and opts[1].flat is None
    x = torch.rand(3, 32, 2, dtype=dtype, generator=torch.Generator().manual_seed(0)) * 2 - 1
    y = (x[..., 0] > 0).long()
    for _ in range(5):
        for bank, opt in zip(banks, opts):
            opt.zero_grad()
            per_sample_ce(bank(x), y).mean(dim=1).sum().backward()
            opt.step()
    for a, b in zip(banks[0].parameters(), banks[1].parameters()):
        assert torch.equal(a, b)
    assert banks[0].weights[0].data_ptr() == opts[0].flat.data_ptr()  # still views of the buffer after the steps
