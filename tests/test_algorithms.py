import torch

from collective_action.learners import lff
from collective_action.learners.base import weighted_mean_coefficients


def test_generalized_ce_formula_and_gradient():
    logits = torch.tensor([[[2.0, -1.0], [0.3, 0.1]]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0, 1]])
    q = 0.7
    p = torch.softmax(logits, -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    gce = lff.generalized_ce(logits, y, q)
    assert torch.allclose(gce, (1 - p ** q) / q)
    # its gradient is p_y^q times the cross-entropy's (the reference code's surrogate, up to its factor q)
    g_gce, = torch.autograd.grad(gce.sum(), logits)
    ce = torch.nn.functional.cross_entropy(logits[0], y[0], reduction="none")
    g_ce, = torch.autograd.grad((ce * p.detach()[0] ** q).sum(), logits)
    assert torch.allclose(g_gce, g_ce)


def test_classwise_max_per_run():
    values = torch.tensor([[1.0, 5.0, 2.0, 0.5], [3.0, 1.0, 4.0, 2.0]])
    labels = torch.tensor([[0, 1, 0, 1], [1, 1, 0, 0]])
    out = lff.classwise_max(values, labels, 2)
    assert out.tolist() == [[2.0, 5.0], [4.0, 3.0]]


def test_weighted_loss_is_the_weighted_distribution_mean():
    loss = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    w = torch.tensor([[1.0, 1.0, 2.0, 4.0]])
    value = (weighted_mean_coefficients(loss, w, w.mean(dim=1)) * loss).sum()
    assert torch.isclose(value, (w * loss).sum() / w.sum())
    assert torch.isclose((weighted_mean_coefficients(loss) * loss).sum(), loss.mean())
