"""DistillationLoss: Hinton's formula, as written in PyTorch; gradients; errors."""

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch


def _torch_formula(s, t, y, T, alpha):
    F = torch.nn.functional
    kl = F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction="batchmean")
    return alpha * T * T * kl + (1 - alpha) * F.cross_entropy(s, y)


@requires_torch
@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 0.0), (10.0, 1.0)])
def test_distillation_loss_and_gradients_match_the_formula_in_torch(T, alpha):
    rng = np.random.default_rng(0)
    s = rng.standard_normal((7, 5)) * 3
    t = rng.standard_normal((7, 5)) * 3
    y = rng.integers(0, 5, 7)
    sa = axonic.tensor(s, requires_grad=True)
    ta = axonic.tensor(t, requires_grad=True)
    la = nn.DistillationLoss(temperature=T, alpha=alpha)(sa, ta, axonic.tensor(y))
    st = torch.tensor(s, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    lt = _torch_formula(st, tt, torch.tensor(y), T, alpha)
    np.testing.assert_allclose(la.item(), lt.item(), rtol=1e-12, atol=1e-12)
    la.backward()
    lt.backward()
    np.testing.assert_allclose(sa.grad.numpy(), st.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ta.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_distillation_loss_passes_gradcheck():
    s = axonic.randn(4, 6, dtype=axonic.float64, requires_grad=True)
    t = axonic.randn(4, 6, dtype=axonic.float64, requires_grad=True)
    y = axonic.tensor([0, 5, 2, 2])
    loss = nn.KnowledgeDistillationLoss(temperature=3.0, alpha=0.7)
    assert gradcheck(lambda a, b: loss(a, b, y), (s, t))


def test_soft_loss_is_zero_for_the_teachers_own_logits_and_grows_with_temperature_squared():
    t = axonic.randn(5, 4, dtype=axonic.float64)
    loss = nn.DistillationLoss(temperature=2.0, alpha=1.0)
    assert abs(loss.soft_loss(t, t).item()) < 1e-12
    s = axonic.randn(5, 4, dtype=axonic.float64)
    assert loss(s, t, axonic.tensor([0, 1, 2, 3, 0])).item() == loss.soft_loss(s, t).item() > 0


@pytest.mark.parametrize("kwargs,message", [
    (dict(temperature=0), "DistillationLoss: temperature must be a number > 0, got 0"),
    (dict(temperature="4"), "DistillationLoss: temperature must be a number > 0, got '4'"),
    (dict(alpha=1.5), "DistillationLoss: alpha must be in [0, 1], got 1.5"),
    (dict(alpha=True), "DistillationLoss: alpha must be in [0, 1], got True"),
])
def test_bad_distillation_settings_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError) as e:
        nn.DistillationLoss(**kwargs)
    assert message in str(e.value)


def test_mismatched_teacher_logits_raise_naming_both_shapes():
    loss = nn.DistillationLoss()
    with pytest.raises(ValueError, match=r"DistillationLoss: student logits of shape \(3, 4\) "
                                         r"and teacher logits of shape \(3, 5\) differ"):
        loss(axonic.randn(3, 4), axonic.randn(3, 5), axonic.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"expected logits of shape \(batch, classes\), got "
                                         r"shape \(4,\)"):
        loss.soft_loss(axonic.randn(4), axonic.randn(4))
    with pytest.raises(TypeError, match="expected Tensors of logits, got ndarray and Tensor"):
        loss.soft_loss(np.zeros((2, 2)), axonic.randn(2, 2))
