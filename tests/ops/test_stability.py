"""Numerical stability in float32: large logits, saturating activations, extreme inputs."""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch


def _ulps(a, b):
    """Distance in units of the last place between two float32 values."""
    a, b = np.float32(a), np.float32(b)
    return abs(int(a.view(np.int32)) - int(b.view(np.int32)))


def test_logsumexp_of_large_equal_values_is_exact():
    out = axonic.logsumexp(axonic.tensor([1000.0, 1000.0]), 0)
    assert out.dtype == np.float32
    assert _ulps(out.item(), np.float32(1000 + np.log(2))) <= 1


def test_logsumexp_of_large_negative_values():
    out = axonic.tensor([-1000.0, -1000.0]).logsumexp(0)
    assert _ulps(out.item(), np.float32(-1000 + np.log(2))) <= 1


def test_logsumexp_of_all_minus_inf_is_minus_inf_not_nan():
    out = axonic.tensor([[-np.inf, -np.inf], [0.0, 0.0]]).logsumexp(1)
    assert out[0].item() == -np.inf
    assert _ulps(out[1].item(), np.float32(np.log(2))) <= 1


@requires_torch
def test_logsumexp_gradient_at_large_values_matches_torch():
    data = np.array([[1000.0, 999.0, -1000.0]], np.float32)
    x = axonic.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    x.logsumexp(1).sum().backward()
    xt.logsumexp(1).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@requires_torch
@pytest.mark.parametrize("fn", ["log_softmax", "softmax"])
def test_softmax_of_huge_logits_is_finite_and_matches_torch(fn):
    data = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, 5.0, -1e4]], np.float32)
    seed = np.array([[1.0, 2.0, 3.0, -1.0], [0.5, -1.0, 2.0, 0.25]], np.float32)
    x = axonic.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    out, ref = getattr(x, fn)(-1), getattr(xt, fn)(-1)
    assert np.isfinite(out.detach().numpy()).all()
    out.backward(axonic.tensor(seed))
    ref.backward(torch.tensor(seed))
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@requires_torch
def test_sigmoid_and_tanh_saturate_without_nan():
    data = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], np.float32)
    for name in ("sigmoid", "tanh"):
        x = axonic.tensor(data, requires_grad=True)
        xt = torch.tensor(data, requires_grad=True)
        getattr(x, name)().sum().backward()
        getattr(xt, name)().sum().backward()
        ours = getattr(axonic.tensor(data), name)().numpy()
        np.testing.assert_allclose(ours, getattr(torch.tensor(data), name)().numpy(),
                                   rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-30)


def test_sigmoid_keeps_relative_precision_for_negative_inputs():
    out = axonic.tensor([-30.0, -80.0]).sigmoid().numpy()
    np.testing.assert_allclose(out, np.exp([-30.0, -80.0]) / (1 + np.exp([-30.0, -80.0])),
                               rtol=1e-6)


def test_pow_gradient_at_zero_base_is_finite():
    x = axonic.tensor([0.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0])


def test_prod_gradient_with_zeros_is_exact():
    x = axonic.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 6.0, 0.0])


def test_float32_stays_float32_through_ops_and_gradients():
    x = axonic.randn(3, 4, requires_grad=True)
    y = ((x * 2.5 + 1).exp().log1p().sqrt() / 3.0).softmax(-1).logsumexp(0).mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
