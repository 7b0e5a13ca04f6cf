"""Gradients through in-place ops: float64 gradcheck of every kind of recorded change
(the op itself, fills and copies, views and their bases, non-contiguous bases), second
derivatives through an in-place op, and ``inplace=True`` layers against PyTorch."""

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck, gradgradcheck
from tests.conftest import requires_torch, torch


def _f64(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return axonic.tensor(rng.uniform(0.5, 1.5, shape), dtype=axonic.float64, requires_grad=True)


def _mul_sigmoid_add(w, v):
    y = w * 1
    y.mul_(v).add_(v, alpha=2).sigmoid_()
    return y


def _fill_copy_zero(w, v):
    y = w * 2
    y[:2].copy_(v[:2] * v[:2])
    y[2:].fill_(3.0)
    z = (w * v).zero_() + w
    return y * z


def _views_of_a_matrix(w, v):
    y = w.reshape(2, 2) * 1
    y.t()[0].mul_(v[:2])  # column 0, through a transposed view
    y[1].add_(v[2:] * v[2:])
    return y * w.reshape(2, 2)


def _setitem(w, v):
    y = w * 1
    y[0] = v[1] * v[2]
    y[y.detach() > 1.2] = v[3]
    return y * w


def _view_used_after(w, v):
    y = w * v
    row = y.view(2, 2)[0]
    row.div_(v[2:] + 1)
    return row * row + y[2:]


@pytest.mark.parametrize("fn", [_mul_sigmoid_add, _fill_copy_zero, _views_of_a_matrix,
                                _setitem, _view_used_after], ids=lambda f: f.__name__[1:])
def test_in_place_gradcheck_float64(fn):
    assert gradcheck(fn, (_f64(4), _f64(4, seed=1)))


def test_second_derivative_through_an_in_place_op():
    def f(w, v):
        y = w * 1
        y.mul_(v).tanh_()
        return y * w

    assert gradgradcheck(f, (_f64(4), _f64(4, seed=1)))


def test_view_of_a_non_contiguous_base():
    base = axonic.tensor(np.asfortranarray(np.zeros((2, 3))))  # column-major memory
    w = _f64(2)
    base[:, 1].add_(w * w)
    assert base.tolist() == [[0.0, w[0].item() ** 2, 0.0], [0.0, w[1].item() ** 2, 0.0]]
    (base * axonic.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=axonic.float64)).sum(
        ).backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.detach().numpy() * [2.0, 5.0])

    def f(w):
        b = axonic.tensor(np.asfortranarray(np.ones((2, 3))))
        b.t()[1].mul_(w)
        return b * b

    assert gradcheck(f, (_f64(2),))


def test_earlier_consumer_keeps_its_gradient_when_later_steps_are_released():
    w = _f64(3)
    y = w * 1
    a = y.exp()  # took y before the change; keeps its output, not y
    y.mul_(2)
    (a + y).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.exp(w.detach().numpy()) + 2)


@requires_torch
def test_create_graph_through_an_in_place_op_matches_torch():
    rows = []
    for lib in (axonic, torch):
        w = lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64, requires_grad=True)
        y = w * 1
        y.mul_(w).sigmoid_()
        (g,) = lib.autograd.grad(y.sum(), [w], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), [w])
        rows.append((g.detach().numpy(), gg.numpy()))
    for a, b in zip(rows[0], rows[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


_LAYERS = [("ReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SiLU", ()),
           ("Hardtanh", (-0.5, 0.8)), ("ReLU6", ()), ("SELU", ()), ("CELU", (1.3,)),
           ("Hardsigmoid", ()), ("Hardswish", ()), ("Mish", ()), ("Threshold", (0.1, -2.0))]


@requires_torch
@pytest.mark.parametrize("name,args", _LAYERS, ids=[n for n, _ in _LAYERS])
def test_activation_layer_in_place_matches_torch(name, args):
    x = np.linspace(-3, 3, 12, dtype=np.float32)
    rows = []
    for lib in (axonic, torch):
        w = lib.tensor(x, requires_grad=True)
        h = w * 1.5
        alias = h
        out = getattr(lib.nn, name)(*args, inplace=True)(h)
        assert out is alias
        (h * w).sum().backward()
        rows.append((h.detach().numpy(), w.grad.numpy(), h._version))
    np.testing.assert_allclose(rows[0][0], rows[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rows[0][1], rows[1][1], rtol=1e-5, atol=1e-6)
    assert rows[0][2] == rows[1][2]


def test_activation_layer_in_place_refuses_a_leaf():
    w = axonic.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"ReLU\(inplace=True\): a leaf Variable that "
                                           r"requires grad is being used in an in-place"):
        axonic.nn.ReLU(inplace=True)(w)


@requires_torch
@pytest.mark.parametrize("name,args", [("silu", ()), ("elu", (0.5,)), ("leaky_relu", (0.2,)),
                                       ("relu", ()), ("hardtanh", (-0.5, 0.8)), ("selu", ()),
                                       ("celu", (1.3,)), ("mish", ()), ("hardswish", ())])
def test_functional_in_place_matches_torch(name, args):
    x = np.linspace(-3, 3, 12, dtype=np.float32)
    rows = []
    for lib, F in ((axonic, axonic.nn.functional), (torch, torch.nn.functional)):
        w = lib.tensor(x, requires_grad=True)
        h = w * 1.5
        assert getattr(F, name)(h, *args, inplace=True) is h
        (h * w).sum().backward()
        rows.append((h.detach().numpy(), w.grad.numpy(), h._version))
    np.testing.assert_allclose(rows[0][0], rows[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rows[0][1], rows[1][1], rtol=1e-5, atol=1e-6)
    assert rows[0][2] == rows[1][2]


def test_functional_in_place_without_grad_changes_the_input():
    x = axonic.tensor([-1.0, 0.5, 9.0])
    assert axonic.nn.functional.relu6(x, inplace=True) is x
    assert x.tolist() == [0.0, 0.5, 6.0] and x._version == 1
