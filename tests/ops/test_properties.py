"""Property tests: for random broadcast-compatible shapes, every binary op's result has
NumPy's broadcast shape and every gradient has its input's shape; reductions over random
dims keep NumPy's shapes and values."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import axonic
from tests.conftest import requires_torch, torch

SETTINGS = settings(max_examples=50, deadline=None)

BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": axonic.maximum,
    "minimum": axonic.minimum,
    "remainder": axonic.remainder,
    "where": lambda a, b: axonic.where(a.detach() > 0.5, a, b),
    "composite": lambda a, b: (a * b).sigmoid() * (a - b),
}


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: a common shape, each side maybe shorter or with 1s."""
    ndim = draw(st.integers(0, 4))
    common = draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))

    def side():
        keep = draw(st.integers(0, ndim))
        shape = common[ndim - keep:]
        return tuple(1 if draw(st.booleans()) else s for s in shape)

    return side(), side()


def _leaf(shape, rng):
    # positive values keep pow and div away from NaN and poles
    return axonic.tensor(rng.uniform(0.5, 2.0, shape), dtype=axonic.float64, requires_grad=True)


@SETTINGS
@given(shapes=broadcast_pair(), name=st.sampled_from(sorted(BINARY_OPS)))
def test_binary_op_shapes_follow_numpy_broadcasting(shapes, name):
    sa, sb = shapes
    rng = np.random.default_rng(0)
    a, b = _leaf(sa, rng), _leaf(sb, rng)
    out = BINARY_OPS[name](a, b)
    assert out.shape == np.broadcast_shapes(sa, sb)
    out.backward(axonic.ones_like(out))
    assert a.grad.shape == sa and b.grad.shape == sb
    assert np.isfinite(a.grad._data).all() and np.isfinite(b.grad._data).all()


@SETTINGS
@given(shapes=broadcast_pair())
def test_broadcast_gradient_is_the_sum_over_broadcast_axes(shapes):
    sa, sb = shapes
    rng = np.random.default_rng(1)
    a, b = _leaf(sa, rng), _leaf(sb, rng)
    (a * b).sum().backward()
    full = np.broadcast_shapes(sa, sb)
    want = np.broadcast_to(b._data, full)
    lead = len(full) - len(sa)
    want = want.sum(axis=tuple(range(lead))) if lead else want
    axes = tuple(i for i, s in enumerate(sa) if s == 1)
    want = want.sum(axis=axes, keepdims=True) if axes else want
    np.testing.assert_allclose(a.grad.numpy(), want.reshape(sa), rtol=1e-12)


@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                         max_size=len(shape), unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims), draw(st.booleans())


REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, d, k: a.sum(d, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, d, k: a.mean(d, keepdims=k)),
    "amax": (lambda x, d, k: x.amax(d, keepdim=k), lambda a, d, k: a.max(d, keepdims=k)),
    "amin": (lambda x, d, k: x.amin(d, keepdim=k), lambda a, d, k: a.min(d, keepdims=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, keepdim=k),
                  lambda a, d, k: np.log(np.exp(a).sum(d, keepdims=k))),
    "var": (lambda x, d, k: x.var(d, keepdim=k, unbiased=False),
            lambda a, d, k: a.var(d, keepdims=k)),
}


@SETTINGS
@given(case=shape_and_dims(), name=st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_over_random_dims(case, name):
    shape, dims, keepdim = case
    ours, ref = REDUCTIONS[name]
    data = np.random.default_rng(2).permutation(np.prod(shape)).reshape(shape) / 7.0
    x = axonic.tensor(data, requires_grad=True)
    out = ours(x, dims, keepdim)
    want = ref(data, dims, keepdim)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-10, atol=1e-12)
    out.backward(axonic.ones_like(out))
    assert x.grad.shape == shape


@SETTINGS
@given(case=shape_and_dims())
def test_max_min_with_dim_return_values_and_indices(case):
    shape, dims, keepdim = case
    d = dims[0]
    data = np.random.default_rng(3).permutation(np.prod(shape)).reshape(shape).astype(np.float64)
    x = axonic.tensor(data, requires_grad=True)
    values, indices = x.max(d, keepdim=keepdim)
    np.testing.assert_array_equal(values.detach().numpy(), data.max(d, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(), np.argmax(data, d, keepdims=keepdim))
    values.sum().backward()
    assert x.grad.shape == shape and x.grad._data.sum() == values.numel()


@SETTINGS
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
       data=st.data())
def test_permute_and_reshape_round_trip_gradients(shape, data):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    x = axonic.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape),
                      requires_grad=True)
    y = x.permute(perm) if shape else x
    assert y.shape == tuple(shape[p] for p in perm)
    (y.reshape(-1) * axonic.arange(y.numel(), dtype=axonic.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().transpose(perm) if shape else x.grad.numpy(),
                                  np.arange(y.numel()).reshape(y.shape))


TORCH_BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]


@requires_torch
@SETTINGS
@given(shapes=broadcast_pair(), name=st.sampled_from(TORCH_BINARY), seed=st.integers(0, 99))
def test_binary_ops_match_torch_on_random_broadcast_shapes(shapes, name, seed):
    rng = np.random.default_rng(seed)
    a32, b32 = (rng.uniform(0.5, 2.0, s).astype(np.float32) for s in shapes)
    a, b = axonic.tensor(a32, requires_grad=True), axonic.tensor(b32, requires_grad=True)
    at, bt = torch.tensor(a32, requires_grad=True), torch.tensor(b32, requires_grad=True)
    out, ref = BINARY_OPS[name](a, b), BINARY_OPS[name](at, bt) if name not in (
        "maximum", "minimum") else getattr(torch, name)(at, bt)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    # float32 sums over broadcast axes may be ordered differently: a few ulps
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-5, atol=1e-6)


UNARY_OPS = {
    "exp": (lambda t: t.exp(), np.exp), "log": (lambda t: t.log(), np.log),
    "log1p": (lambda t: t.log1p(), np.log1p), "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "sin": (lambda t: t.sin(), np.sin), "cos": (lambda t: t.cos(), np.cos),
    "tanh": (lambda t: t.tanh(), np.tanh),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0)),
    "abs": (lambda t: t.abs(), np.abs), "neg": (lambda t: -t, np.negative),
    "clamp": (lambda t: t.clamp(0.7, 1.4), lambda a: np.clip(a, 0.7, 1.4)),
    "softmax": (lambda t: t.softmax(-1) if t.ndim else t.exp() / t.exp(),
                lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True) if a.ndim else a / a),
}


@SETTINGS
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
       name=st.sampled_from(sorted(UNARY_OPS)))
def test_unary_ops_on_random_shapes(shape, name):
    ours, ref = UNARY_OPS[name]
    data = np.random.default_rng(4).uniform(0.5, 2.0, shape)
    x = axonic.tensor(data, requires_grad=True)
    out = ours(x)
    assert out.shape == shape and out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), ref(data), rtol=1e-12)
    out.backward(axonic.ones_like(out))
    assert x.grad.shape == shape and x.grad.dtype == np.float64
