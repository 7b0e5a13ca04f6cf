"""In-place updates: ``x += y`` and friends, the ``*_`` methods and their errors."""

import doctest
import importlib

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch


@requires_torch
def test_hand_written_sgd_loop_updates_the_leaf_in_place_like_torch():
    data = np.array([1.0, -2.0, 0.5], np.float32)
    results = []
    for lib in (axonic, torch):
        w = lib.tensor(data, requires_grad=True)
        same = w
        for _ in range(3):
            loss = ((w * w).sum() - 1) ** 2
            loss.backward()
            with lib.no_grad():
                w -= 0.01 * w.grad
                w.grad.zero_()
        assert w is same and w.requires_grad and w.is_leaf
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_augmented_assignment_on_plain_tensor_is_in_place():
    x = axonic.tensor([1.0, 2.0])
    alias = x
    x += 1
    x *= 2
    x -= 1
    x /= 3
    assert x is alias and x._version == 4
    np.testing.assert_allclose(x.numpy(), [1.0, 5.0 / 3])


def test_augmented_assignment_on_leaf_requiring_grad_is_refused():
    w = axonic.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf Variable that requires grad is being "
                                           "used in an in-place operation"):
        w += 1


def test_augmented_assignment_in_the_graph_is_recorded():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h += x  # a residual connection: out += identity
    h *= x
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])  # d(3x^2)/dx


def test_adding_a_grad_tensor_in_place_into_a_buffer_is_recorded():
    a = axonic.tensor([1.0, 2.0], requires_grad=True)
    acc = axonic.zeros(2)
    acc += a * a
    acc.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 4.0])


def test_in_place_dtype_error_names_both_dtypes():
    x = axonic.tensor([1, 2])
    with pytest.raises(TypeError, match="div_: the result has dtype float64, which can't be "
                                        "stored in place in a tensor of dtype int64"):
        x /= 2
    x += 3
    assert x.tolist() == [4, 5] and x.dtype == np.int64


def test_in_place_on_a_read_only_expanded_view_is_refused():
    e = axonic.ones(1, 3).expand(2, 3)
    with pytest.raises(ValueError, match="add_: this tensor is a read-only view .* clone"):
        e += 1


def test_in_place_methods():
    x = axonic.tensor([1.0, -2.0, 3.0])
    x.mul_(2).add_(1, alpha=3).sub_(axonic.ones(3)).div_(2).clamp_(-1.0, 3.0)
    np.testing.assert_allclose(x.numpy(), [2.0, -1.0, 3.0])
    x.fill_(7.0)
    assert x.tolist() == [7.0] * 3
    x.copy_(axonic.tensor([1.0, 2.0, 3.0]))
    x.zero_()
    assert x.tolist() == [0.0] * 3 and x._version == 8
    axonic.manual_seed(0)
    x.uniform_(2.0, 3.0)
    assert ((x.numpy() >= 2) & (x.numpy() < 3)).all()
    x.normal_(0.0, 1.0)
    assert x.shape == (3,)


@pytest.mark.parametrize("name", ["axonic.ops.inplace", "axonic.ops.inplace_graph",
                                  "axonic.ops.inplace_views"])
def test_in_place_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
