"""The synthetic generators: label rules, block counts, signals and their ceilings."""
import numpy as np
import pytest

from collective_action.datasets.generators.k_strips import KStrips
from collective_action.datasets.generators.lms_k import LMSk
from collective_action.datasets.generators.uniform_2d import Uniform2D
from collective_action.evaluation import theory
from collective_action.signals import make_signal

RNG = np.random.default_rng(0)
X2_SIGNAL = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
X1_SIGNAL = make_signal({"kind": "reflect_x1_negative", "target_label": 1})


def test_uniform_2d_label_rule():
    x, y = Uniform2D().sample(2000, RNG)
    assert np.array_equal(y, (x[:, 0] > 0).astype(int))
    assert x.min() >= -1 and x.max() <= 1


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_lms_k_label_rule_and_blocks(k):
    gen = LMSk(k=k, margin=0.1, slab_gap=0.2)
    x, y = gen.sample(20_000, RNG)
    # the simple feature: the side of x1, with a margin
    assert np.array_equal(y, (x[:, 0] > 0).astype(int)) and np.abs(x[:, 0]).min() >= 0.1
    # the complex feature: k slabs along x2, every one used, labels alternating from 0 at the bottom
    slab = gen.slab_of(x[:, 1])
    assert (slab >= 0).all() and set(slab.tolist()) == set(range(k))
    assert np.array_equal(y, slab % 2)
    # slabs are separated by a gap of slab_gap times their width
    for j in range(k - 1):
        assert x[slab == j + 1, 1].min() - x[slab == j, 1].max() >= 0.2 * 2 / k - 1e-6
    support = gen.label_support(x)
    assert support[np.arange(len(y)), y].all() and not support[np.arange(len(y)), 1 - y].any()


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_k_strips_label_rule(k):
    x, y = KStrips(k=k).sample(20_000, RNG)
    strip = np.floor((x[:, 1] + 1) / (2 / k)).astype(int) + 1  # 1..k from the bottom
    assert np.array_equal(y, (strip % 2 == 0).astype(int))
    assert len(np.unique(strip)) == k
    # x1 carries no label information
    assert abs(y[x[:, 0] < 0].mean() - y[x[:, 0] > 0].mean()) < 0.03


@pytest.mark.parametrize("signal, x", [(X2_SIGNAL, RNG.uniform(-1, 1, (1000, 2))), (X1_SIGNAL, RNG.uniform(-1, 1, (1000, 2)))])
def test_signals_map_into_their_codomain(signal, x):
    assert signal.in_codomain(signal.apply(x)).all()
    lo1, hi1, lo2, hi2 = signal.codomain_box((-1, 1, -1, 1))
    gx = signal.apply(x)
    assert ((gx[:, 0] >= lo1) & (gx[:, 0] <= hi1) & (gx[:, 1] >= lo2) & (gx[:, 1] <= hi2)).all()


@pytest.mark.parametrize("k, ceiling", [(2, 0.0), (4, 0.5), (6, 1 / 3), (8, 0.5)])
def test_lms_k_reachable_success(k, ceiling):
    """With alternating slabs, a non-target point's image avoids clean label-0 mass only when its
    reflection lands in a label-1 slab: 0, 1/2, 1/3 and 1/2 of them for k = 2, 4, 6, 8."""
    assert theory.reachable_success(LMSk(k=k, margin=0.1, slab_gap=0.2), X2_SIGNAL) == pytest.approx(ceiling, abs=0.01)


def test_uniform_and_strips_have_nothing_reachable():
    assert theory.reachable_success(Uniform2D(), X2_SIGNAL) == 0.0
    assert theory.reachable_success(KStrips(k=6), X1_SIGNAL) == 0.0


def test_lms_probe_decorrelates_x2():
    gen = LMSk(k=6, margin=0.1, slab_gap=0.2)
    x, y_simple = gen.probe(20_000, RNG)
    assert np.array_equal(y_simple, (x[:, 0] > 0).astype(int))
    slab_label = gen.slab_of(x[:, 1]) % 2
    assert abs((slab_label == y_simple).mean() - 0.5) < 0.02  # the slab rule agrees with the simple rule half the time
