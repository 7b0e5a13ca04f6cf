"""The backward engine: accumulation, retain_graph, seeds, gradient shapes, leaf ownership."""

import numpy as np
import pytest

import axonic
from axonic.autograd import Function
from tests.conftest import requires_torch, torch


def test_tensor_used_twice_accumulates_both_paths():
    x = axonic.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x._data + np.exp(x._data), rtol=1e-6)


def test_grad_accumulates_over_two_backward_calls():
    x = axonic.tensor([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2.0, 3 - 4.0])


@requires_torch
def test_accumulation_matches_torch_on_a_diamond_graph():
    data = np.array([0.3, -1.2, 2.0], np.float32)
    x = axonic.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    for v in (x, xt):  # the same graph in both frameworks
        a = v.tanh()
        b = a * v
        c = a.sigmoid() + b * a
        c.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_second_backward_without_retain_graph_raises():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*"
                                           r"retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp().sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_retain_graph_frees_saved_values():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    fn = y.grad_fn
    y.sum().backward()
    assert fn.inputs is None and not hasattr(fn, "out")  # saved arrays released


def test_backward_on_non_scalar_without_gradient_raises():
    y = axonic.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"implicitly created only for scalar outputs.*"
                                           r"shape \(2, 3\)"):
        y.backward()


def test_backward_with_explicit_gradient_on_non_scalar():
    x = axonic.ones(2, 3, requires_grad=True)
    (x * 2).backward(axonic.full((2, 3), 0.5))
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 3)))


def test_gradient_of_wrong_shape_raises():
    y = axonic.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3, 2\) but the output has "
                                           r"shape \(2, 3\)"):
        y.backward(axonic.ones(3, 2))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        axonic.ones(2).sum().backward()


def test_function_returning_wrong_gradient_shape_names_it():
    class Bad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g[:1]

    x = axonic.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Function 'Bad' returned a gradient of shape "
                                           r"\(1,\) for its input 0, which has shape \(3,\)"):
        Bad.apply(x).sum().backward()


def test_leaves_never_share_gradient_arrays():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    y = axonic.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad._data, y.grad._data)
    x.grad._data += 100
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_leaf_grad_does_not_alias_the_seed_or_a_reshape():
    x = axonic.ones(2, 3, requires_grad=True)
    seed = axonic.ones(6)
    x.reshape(6).backward(seed)
    assert not np.shares_memory(x.grad._data, seed._data)
    assert x.grad._data.flags.writeable and x.grad._data.base is None


def test_grad_of_expanded_input_is_owned_and_writeable():
    x = axonic.ones(1, 3, requires_grad=True)
    x.expand(4, 3).sum().backward()
    x.grad._data *= 2  # would fail on a read-only broadcast view
    np.testing.assert_array_equal(x.grad.numpy(), [[8.0, 8.0, 8.0]])


def test_gradient_dtype_follows_the_input():
    x = axonic.ones(3, dtype=axonic.float64, requires_grad=True)
    (x.float() * 2).sum().backward()
    assert x.grad.dtype == np.float64


def test_autograd_backward_with_several_roots():
    x = axonic.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * 2).sum(), (x * x).sum()
    axonic.autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])


def test_backward_inputs_restricts_accumulation():
    x = axonic.tensor([1.0], requires_grad=True)
    w = axonic.tensor([2.0], requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0])


def test_create_graph_through_an_op_without_second_derivative_names_it():
    class Opaque(axonic.autograd.Function):
        double_backward = False

        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g * 2

    x = axonic.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="'Opaque' has no second derivative"):
        Opaque.apply(x).sum().backward(create_graph=True)


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = axonic.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_custom_function_apply_and_backward():
    class Cube(Function):
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, g):
            return 3 * self.x ** 2 * g

    x = axonic.tensor([2.0, -1.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 3.0])
