"""Gradient hooks, retain_grad and ``axonic.autograd.grad``."""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch


def test_hook_on_leaf_sees_and_replaces_gradient():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])


def test_hook_on_non_leaf_changes_what_flows_upstream():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g + 1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])  # (1 + 1) * 3
    assert y.grad is None  # non-leaf: no .grad unless retained


def test_hook_returning_none_keeps_gradient():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: None)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_hook_handle_remove():
    x = axonic.tensor([1.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 0)
    y = x * 2
    hy = y.register_hook(lambda g: g * 100)
    h.remove()
    hy.remove()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])
    h.remove()  # removing twice is harmless


def test_register_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        axonic.ones(2).register_hook(lambda g: g)


@requires_torch
def test_hooks_match_torch():
    data = np.array([0.5, -1.0, 2.0], np.float32)
    grads = []
    for lib in (axonic, torch):
        x = lib.tensor(data, requires_grad=True)
        y = x.tanh()
        y.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: g - 1)
        (y * y).sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_retain_grad_keeps_non_leaf_gradient():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    assert not y.is_leaf and x.is_leaf


def test_retain_grad_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="retain_grad on a tensor that has requires_grad=False"):
        axonic.ones(2).retain_grad()


def test_autograd_grad_returns_gradients_without_touching_grad():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    w = axonic.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = axonic.autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_of_an_intermediate_tensor():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (gh,) = axonic.autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.numpy(), [4.0, 8.0])


def test_autograd_grad_unused_input():
    x = axonic.tensor([1.0], requires_grad=True)
    z = axonic.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used to compute the outputs.*allow_unused"):
        axonic.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = axonic.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_autograd_grad_with_grad_outputs():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    (g,) = axonic.autograd.grad(x * x, x, grad_outputs=axonic.tensor([1.0, 0.5]))
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0])


def test_autograd_grad_input_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        axonic.autograd.grad(axonic.ones(1).sum(), axonic.ones(1))


def test_leaf_hook_runs_once_on_the_summed_gradient():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: (calls.append(g.tolist()), g.clamp(-1, 1))[1])
    (x * 2 + x * 3).sum().backward()
    assert calls == [[5.0, 5.0]]  # one call with the total, as PyTorch's AccumulateGrad
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@requires_torch
def test_nonlinear_hooks_on_shared_tensors_match_torch():
    data = np.array([0.3, -2.0, 1.5], np.float32)
    grads = []
    for lib in (axonic, torch):
        x = lib.tensor(data, requires_grad=True)
        x.register_hook(lambda g: g.clamp(-0.5, 0.5))
        h = x.tanh()
        h.register_hook(lambda g: g * g)
        (h * x + h.exp() + x * 4).sum().backward()
        grads.append(x.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


@requires_torch
def test_autograd_grad_runs_leaf_and_non_leaf_hooks_like_torch():
    got = []
    for lib in (axonic, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (gx,) = lib.autograd.grad((x * x).sum(), [x])
        h = x * 3
        h.register_hook(lambda g: g + 1)
        (gh,) = lib.autograd.grad((h * x).sum(), [h])
        got.append((gx.detach().numpy(), gh.detach().numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0])  # [20, 40]: the leaf's hook ran
    np.testing.assert_allclose(got[0][1], got[1][1])  # [2, 3]: the non-leaf's hook ran
