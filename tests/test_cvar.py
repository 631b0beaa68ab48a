import pytest
import torch

from collective_action.learners import cvar_dro


@pytest.mark.parametrize("m, a", [(128, 0.1), (128, 0.2), (10, 0.25), (7, 1.0), (3, 0.5), (1, 0.3)])
def test_weights_sum_to_one_with_fractional_remainder(m, a):
    losses = torch.randn(4, m, dtype=torch.float64)
    w = cvar_dro.cvar_weights(losses, a)
    assert torch.allclose(w.sum(dim=1), torch.ones(4, dtype=torch.float64))
    assert (w >= 0).all() and (w <= 1 / (a * m) + 1e-12).all()
    full = int(a * m)
    counts = (w > 0).sum(dim=1)
    remainder = 1 - full / (a * m)
    assert (counts == full + (1 if remainder > 1e-12 and full < m else 0)).all()


def test_weight_goes_to_the_largest_losses():
    losses = torch.tensor([[0.1, 5.0, 0.3, 2.0, 0.2]])
    w = cvar_dro.cvar_weights(losses, 0.3)  # a m = 1.5: one full weight 1/1.5, remainder 1/3 on the next
    assert torch.allclose(w, torch.tensor([[0.0, 2 / 3, 0.0, 1 / 3, 0.0]]))


def test_ties_do_not_change_the_objective():
    losses = torch.tensor([[1.0, 3.0, 3.0, 3.0, 0.5, 0.2]])
    w = cvar_dro.cvar_weights(losses, 0.25)  # a m = 1.5 over three tied maxima
    assert torch.isclose((w * losses).sum(), torch.tensor(3.0))
    assert torch.isclose(w.sum(), torch.tensor(1.0))


def test_fraction_one_is_the_mean():
    losses = torch.rand(2, 9)
    assert torch.allclose((cvar_dro.cvar_weights(losses, 1.0) * losses).sum(dim=1), losses.mean(dim=1))


def test_weights_carry_no_gradient():
    losses = torch.rand(1, 8, requires_grad=True)
    assert not cvar_dro.cvar_weights(losses, 0.5).requires_grad
