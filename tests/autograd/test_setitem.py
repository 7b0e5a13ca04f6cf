"""``x[index] = value`` is recorded by autograd when the value (or a non-leaf ``x``) requires
grad, as in PyTorch; what cannot be recorded correctly is refused with a clear error."""

import numpy as np
import pytest

import axonic
from tests.conftest import requires_torch, torch


def test_setitem_into_a_plain_tensor_records_the_value():
    a = axonic.tensor([1.0, 2.0], requires_grad=True)
    out = axonic.zeros(3)
    out[1:] = a * 3
    assert out.requires_grad and not out.is_leaf
    (out * axonic.tensor([5.0, 6.0, 7.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [18.0, 21.0])


@requires_torch
def test_setitem_gradients_match_torch():
    data = np.array([0.5, -1.0, 2.0], np.float32)
    grads = []
    for lib in (axonic, torch):
        a = lib.tensor(data, requires_grad=True)
        h = a * 2  # a non-leaf written into
        h[1] = a[0] * a[2]  # overwrite one entry with something else
        out = lib.zeros(2, 3)
        out[0] = h
        out[1, lib.tensor([0, 2])] = a[:2].exp()
        out[out.detach() < 0] = 0.0
        (out * out).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_setitem_broadcast_value_sums_its_gradient():
    v = axonic.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = axonic.zeros(4, 3)
    out[1:3] = v  # broadcast over two rows
    out.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 2.0, 2.0])


def test_setitem_without_grad_mode_is_not_recorded():
    a = axonic.tensor([1.0], requires_grad=True)
    out = axonic.zeros(2)
    with axonic.no_grad():
        out[0] = a
    assert not out.requires_grad and out.tolist() == [1.0, 0.0]


def test_setitem_on_a_leaf_requiring_grad_is_refused():
    a = axonic.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="__setitem__: a leaf Variable that requires grad is "
                                           "being used in an in-place operation"):
        a[0] = 5.0


@requires_torch
def test_setitem_through_a_view_reaches_the_base_like_torch():
    grads = []
    for lib in (axonic, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        out = lib.zeros(2, 3)
        out[0][1:] = a * a  # the row is a view: the write reaches ``out``
        (out * lib.arange(6.0).reshape(2, 3)).sum().backward()
        grads.append(a.grad.numpy())
        assert out.detach().numpy()[0, 2] == 4.0
    np.testing.assert_allclose(grads[0], grads[1])


def test_setitem_overwriting_a_saved_output_is_caught():
    a = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = a.exp()
    y[0] = 1.0
    with pytest.raises(RuntimeError, match="output of 'Exp' is needed for backward"):
        y.sum().backward()


def test_setitem_shape_error_names_shapes():
    out = axonic.zeros(2, 3)
    with pytest.raises(ValueError, match=r"setitem into tensor of shape \(2, 3\) at 0"):
        out[0] = axonic.ones(4)
