import numpy as np
import pytest

from collective_action.datasets.generators.uniform_2d import Uniform2D
from collective_action.evaluation import theory
from collective_action.signals import make_signal


def test_theorem1_bound_values():
    assert theory.theorem1_bound(0.5, delta=1.0, xi=0.5) == pytest.approx(0.5)
    assert theory.theorem1_bound(1 / 3, delta=1.0, xi=0.5) == pytest.approx(0.0)
    assert theory.theorem1_bound(0.5, delta=1.0, xi=0.5, eps=0.2) == pytest.approx(0.5 - 0.25)
    assert theory.theorem1_bound(0.0, 1.0, 0.5) == -np.inf
    with pytest.raises(ValueError):
        theory.theorem1_bound(0.5, 1.0, 0.5, eps=1.0)


def test_uniqueness_and_gap_of_the_2d_signal():
    signal = make_signal({"kind": "reflect_x2_negative", "target_label": 1})
    xi, delta = theory.signal_uniqueness_and_gap(Uniform2D(), signal)
    assert xi == pytest.approx(0.5, abs=1e-12)  # the lower half of the square
    assert delta == 1.0  # lower-left points have P0(y*|x) = 0


def test_effective_size_unit_weights_is_alpha():
    member = np.zeros((2, 10), dtype=bool)
    member[0, :3] = True
    member[1, :1] = True
    assert np.allclose(theory.effective_size(np.ones((2, 10)), member), [0.3, 0.1])


@pytest.mark.parametrize("seed", range(5))
def test_prop32_equals_definition1_on_random_error_sets(seed):
    r = np.random.default_rng(seed)
    member = r.random((4, 300)) < r.uniform(0.02, 0.6)
    errors = r.random((4, 300)) < r.uniform(0.05, 0.5)
    d = theory.jtt_effective_size(errors, member, lam=float(r.integers(2, 100)))
    assert np.allclose(d["alpha_eff"], d["alpha_eff_weights"], rtol=1e-12)
    assert np.allclose(d["alpha_realized"], member.mean(axis=1))


def test_jtt_effective_size_direction():
    # collective points all misclassified, others rarely: alpha_eff > alpha; the reverse: below
    member = np.zeros((1, 100), dtype=bool)
    member[0, :10] = True
    errors_on_collective = member.copy()
    d = theory.jtt_effective_size(errors_on_collective, member, lam=10)
    assert d["alpha_eff"][0] > 0.1 and d["p_error_given_collective"][0] == 1.0
    errors_elsewhere = ~member
    d = theory.jtt_effective_size(errors_elsewhere, member, lam=10)
    assert d["alpha_eff"][0] < 0.1 and d["p_error_given_collective"][0] == 0.0


def test_no_collective_gives_zero_effective_size():
    d = theory.jtt_effective_size(np.ones((1, 5), bool), np.zeros((1, 5), bool), lam=5)
    assert d["alpha_eff"][0] == 0 and np.isnan(d["p_error_given_collective"][0])


def test_theorem2_example_of_appendix_b4():
    from appendix_b4 import TheoremTwoExample

    ex = TheoremTwoExample()
    assert ex.theorem1() == pytest.approx(0.1)
    for n in (10, 18, 90, 900):
        assert ex.omega(n) == 0.0
        assert ex.theorem2(n) == pytest.approx(1 - 9 / n)
    assert ex.theorem2(900) > 0.98 > ex.theorem1()
    # with too few values of x2 the surrogate's Bayes classifier no longer follows the collective: omega > 0
    assert ex.omega(5) > 0


def test_theorem2_reduces_to_theorem1_with_q0_equal_p0():
    assert theory.theorem2_bound(0.4, 0.0, 0.5, 1.0) == pytest.approx(theory.theorem1_bound(0.4, 1.0, 0.5))
