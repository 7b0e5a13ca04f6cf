"""Second derivatives through the fused ops, against PyTorch in float64: a gradient
penalty ``|d loss / d x|^2`` differentiated again, for the ops a user puts in gradient
penalties (a WGAN-GP critic: conv2d) and meta-learning (the op harness checks each op by
central differences too)."""

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from tests.conftest import requires_torch, torch

f64 = axonic.float64


def _pair(rng, *shape, low=-2.0, high=2.0):
    a = rng.uniform(low, high, shape)
    return (axonic.tensor(a, dtype=f64, requires_grad=True),
            torch.tensor(a, dtype=torch.float64, requires_grad=True))


def _penalty_grads(fn, ours, theirs):
    """``fn(lib, *tensors)`` -> loss; returns both libraries' gradients of the penalty."""
    got = []
    for lib, ts in (("axonic", ours), ("torch", theirs)):
        grad = axonic.autograd.grad if lib == "axonic" else torch.autograd.grad
        loss = fn(lib, *ts)
        gs = grad(loss, [ts[0]], create_graph=True)
        (gs[0] * gs[0]).sum().backward()
        got.append([t.grad for t in ts])
    return got


def _tf():
    return torch.nn.functional


CASES = {
    "cross_entropy": (lambda lib, x, w: (F if lib == "axonic" else _tf()).cross_entropy(
        x @ w, _labels(lib)), [(5, 3), (3, 4)]),
    "layer_norm": (lambda lib, x, w: ((F if lib == "axonic" else _tf()).layer_norm(
        x, (4,), w, None) ** 3).sum(), [(3, 4), (4,)]),
    "batch_norm": (lambda lib, x, w: ((F if lib == "axonic" else _tf()).batch_norm(
        x, None, None, w, None, training=True) ** 3).sum(), [(5, 3), (3,)]),
    "gelu_softmax": (lambda lib, x, w: ((F if lib == "axonic" else _tf()).gelu(x @ w)
                                        .softmax(-1) * _weights(lib)).sum(), [(2, 3), (3, 4)]),
    "silu_log_softmax": (lambda lib, x, w: ((F if lib == "axonic" else _tf()).silu(x * w)
                                            .log_softmax(-1) * _weights(lib)).sum(),
                         [(2, 4), (4,)]),
    "softplus_mse": (lambda lib, x, w: (F if lib == "axonic" else _tf()).mse_loss(
        (F if lib == "axonic" else _tf()).softplus(x @ w), _target(lib)), [(2, 3), (3, 4)]),
    "conv2d_tanh": (lambda lib, x, w: (F if lib == "axonic" else _tf()).conv2d(
        x, w, stride=2, padding=1, groups=2).tanh().sum(), [(2, 4, 5, 5), (6, 2, 3, 3)]),
    "bce_with_logits": (lambda lib, x, w: (F if lib == "axonic" else _tf())
                        .binary_cross_entropy_with_logits(x @ w, _probs(lib)), [(2, 3), (3, 4)]),
}


def _labels(lib):
    a = np.array([0, 3, 1, 2, 3])
    return axonic.tensor(a) if lib == "axonic" else torch.tensor(a)


def _const(lib, a):
    return axonic.tensor(a, dtype=f64) if lib == "axonic" else torch.tensor(a)


def _weights(lib):
    return _const(lib, np.linspace(-1.0, 1.0, 4))


def _target(lib):
    return _const(lib, np.linspace(0.0, 2.0, 8).reshape(2, 4))


def _probs(lib):
    return _const(lib, np.linspace(0.1, 0.9, 8).reshape(2, 4))


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_gradient_penalty_through_fused_op_matches_torch(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(len(name))
    pairs = [_pair(rng, *s) for s in shapes]
    ours, theirs = _penalty_grads(fn, [p[0] for p in pairs], [p[1] for p in pairs])
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a is not None and b is not None, f"{name}: no gradient for input {k}"
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{name}: input {k}")


def test_create_graph_through_an_op_without_second_derivative_names_it():
    x = axonic.randn(1, 1, 4, 4, dtype=f64, requires_grad=True)
    w = axonic.randn(1, 1, 3, 3, dtype=f64, requires_grad=True)
    with pytest.raises(RuntimeError, match="'ConvTranspose2dFunction' has no second derivative"):
        axonic.autograd.grad(F.conv_transpose2d(x, w).sum(), [x], create_graph=True)
