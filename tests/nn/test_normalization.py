import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch
from tests.nn._parity import assert_layer_matches, load_from_torch

RNG = np.random.default_rng(0)


def _x(*shape, loc=1.0, scale=3.0):
    return (RNG.standard_normal(shape) * scale + loc).astype(np.float32)


def _randomise(theirs):
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1, 1, generator=gen)


@requires_torch
@pytest.mark.parametrize("shape,kwargs", [
    ((4, 5), {}), ((2, 3, 5), {}), ((3, 4, 5), {"normalized_shape": (4, 5)}),
    ((4, 5), {"elementwise_affine": False}), ((4, 5), {"bias": False}),
    ((4, 5), {"eps": 1e-3}),
])
def test_layer_norm_matches_torch(shape, kwargs):
    kwargs = dict({"normalized_shape": shape[-1]}, **kwargs)
    ours, theirs = nn.LayerNorm(**kwargs), torch.nn.LayerNorm(**kwargs)
    _randomise(theirs)
    # torch's CPU kernel loses ~1e-6 on rows whose mean is ~20x their spread (ours is within
    # 2e-7 of float64 there: test below), hence atol 1e-5
    assert_layer_matches(ours, theirs, _x(*shape), atol=1e-5)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_layer_norm_is_float64_accurate_on_offset_rows():
    x = (RNG.standard_normal((200, 5)) * 0.1 + 2.0).astype(np.float32)
    x64 = x.astype(np.float64)
    want = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
    got = nn.LayerNorm(5)(axonic.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-7)


BN_CASES = [
    ("BatchNorm1d", (8, 4), {}), ("BatchNorm1d", (6, 4, 5), {}),
    ("BatchNorm2d", (4, 3, 5, 5), {}), ("BatchNorm1d", (8, 4), {"momentum": None}),
    ("BatchNorm1d", (8, 4), {"affine": False}), ("BatchNorm2d", (4, 3, 2, 2), {"bias": False}),
    ("BatchNorm1d", (8, 4), {"track_running_stats": False}),
    ("BatchNorm2d", (2, 3, 4, 4), {"momentum": 0.3, "eps": 1e-3}),
]


@requires_torch
@pytest.mark.parametrize("name,shape,kwargs", BN_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in BN_CASES])
def test_batch_norm_matches_torch_in_train_and_eval(name, shape, kwargs):
    c = shape[1]
    ours, theirs = getattr(nn, name)(c, **kwargs), getattr(torch.nn, name)(c, **kwargs)
    _randomise(theirs)
    load_from_torch(ours, theirs)
    for step in range(4):  # running stats after several steps
        assert_layer_matches(ours, theirs, _x(*shape, loc=step), load=False)
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 4
        assert ours.num_batches_tracked.dtype == np.int64
    ours.eval()
    theirs.eval()
    assert_layer_matches(ours, theirs, _x(*shape), load=False)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batch_norm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(2)
    bn.running_mean._data[:] = [1.0, -1.0]
    bn.running_var._data[:] = [4.0, 0.25]
    bn.eval()
    out = bn(axonic.tensor([[3.0, 0.0]])).detach().numpy()
    np.testing.assert_allclose(out, [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]],
                               rtol=1e-6)
    assert int(bn.num_batches_tracked) == 0


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.LayerNorm(6), lambda m: m.BatchNorm1d(6), lambda m: m.LayerNorm(6, bias=False),
])
def test_norms_are_stable_with_a_large_mean_and_tiny_spread(make):
    # mean 1e4, std 1e-2 in float32. Our statistics are taken of x - x[0] (exact here), so
    # float32 results agree with torch run in float64 on the same (float32-rounded) inputs;
    # torch's own float32 kernels are off by up to ~0.15 on this input, so float64 is the
    # reference we compare to.
    x = (1e4 + 1e-2 * RNG.standard_normal((16, 6))).astype(np.float32)
    ours, theirs = make(nn), make(torch.nn).double()
    _randomise(theirs)
    load_from_torch(ours, theirs)
    a = axonic.tensor(x, requires_grad=True)
    b = torch.tensor(x.astype(np.float64), requires_grad=True)
    out, ref = ours(a), theirs(b)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=2e-6)
    g = RNG.standard_normal(ref.shape)
    (out * axonic.tensor(g.astype(np.float32))).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
    # d/dx carries rstd ~ 95, so float32 gradients are compared relative to their scale
    scale = np.abs(b.grad.numpy()).max()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-5 * scale)
    for name, p in ours.named_parameters():
        tp = dict(theirs.named_parameters())[name]
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F.layer_norm(x, (4,), w, b),
    lambda x, w, b: F.layer_norm(x, (3, 4), None, None),
    lambda x, w, b: F.batch_norm(x, None, None, w[:3], b[:3], training=True),
    lambda x, w, b: F.batch_norm(x, axonic.tensor([0.1, 0.2, 0.3], dtype=axonic.float64),
                                 axonic.tensor([1.0, 2.0, 0.5], dtype=axonic.float64),
                                 w[:3], b[:3], training=False),
])
def test_norms_gradcheck_float64(fn):
    x = axonic.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    w = axonic.tensor(RNG.uniform(0.5, 1.5, 4), requires_grad=True)
    b = axonic.tensor(RNG.uniform(-1, 1, 4), requires_grad=True)
    assert gradcheck(fn, (x, w, b))


def test_functional_batch_norm_updates_running_stats_in_place():
    rm, rv = axonic.zeros(3), axonic.ones(3)
    x = axonic.tensor(_x(10, 3))
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), 0.5 * x.numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * x.numpy().var(0, ddof=1), rtol=1e-5)


def test_norm_hyperparameters_are_validated():
    with pytest.raises(ValueError, match=r"BatchNorm1d: num_features must be a positive integer, "
                                         r"got 0"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"BatchNorm2d: momentum must be in \[0, 1\] or None, "
                                         r"got 1.5"):
        nn.BatchNorm2d(3, momentum=1.5)
    with pytest.raises(ValueError, match=r"LayerNorm: eps must be a positive number, got -1"):
        nn.LayerNorm(3, eps=-1)
    with pytest.raises(ValueError, match=r"LayerNorm: normalized_shape must be positive ints, "
                                         r"got \(3, 0\)"):
        nn.LayerNorm((3, 0))


def test_norm_input_errors_name_the_layer_and_path():
    model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(4))
    with pytest.raises(nn.LayerInputError, match=r"^1 \(BatchNorm1d\): expected input with 4 "
                                                 r"channels in dim 1, got shape \(2, 5\)"):
        model(axonic.ones(2, 3))
    with pytest.raises(ValueError, match=r"^BatchNorm2d: expected a 4-d \(N, C, H, W\) input, "
                                         r"got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(axonic.ones(2, 3))
    with pytest.raises(ValueError, match=r"^BatchNorm1d: expected more than 1 value per channel "
                                         r"when training, got input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(axonic.ones(1, 3))
    with pytest.raises(ValueError, match=r"^LayerNorm: expected input with trailing dimensions "
                                         r"\(4,\), got shape \(2, 3\)"):
        nn.LayerNorm(4)(axonic.ones(2, 3))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\)"):
        F.batch_norm(axonic.ones(2, 3), axonic.zeros(4), axonic.ones(3))


def test_norm_default_init_ones_zeros():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.detach().numpy().tolist() == [1, 1, 1]
    assert bn.bias.detach().numpy().tolist() == [0, 0, 0]
    assert bn.running_var.numpy().tolist() == [1, 1, 1]
    ln = nn.LayerNorm((2, 2))
    assert ln.weight.shape == (2, 2) and float(ln.weight.sum()) == 4


@requires_torch
@pytest.mark.parametrize("shape,groups,kwargs", [
    ((3, 4, 5), 2, {}), ((2, 6, 3, 3), 3, {}), ((4, 6), 3, {}), ((2, 4, 5), 1, {"affine": False}),
    ((2, 4, 5), 4, {"bias": False, "eps": 1e-3}),
])
def test_group_norm_matches_torch(shape, groups, kwargs):
    c = shape[1]
    ours, theirs = nn.GroupNorm(groups, c, **kwargs), torch.nn.GroupNorm(groups, c, **kwargs)
    _randomise(theirs)
    assert_layer_matches(ours, theirs, _x(*shape), atol=1e-5)
    assert repr(ours) == repr(theirs)


@requires_torch
def test_batch_norm_3d_matches_torch():
    ours, theirs = nn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
    _randomise(theirs)
    load_from_torch(ours, theirs)
    for _ in range(2):
        assert_layer_matches(ours, theirs, _x(2, 3, 2, 3, 4), load=False)
    ours.eval()
    theirs.eval()
    assert_layer_matches(ours, theirs, _x(2, 3, 2, 3, 4), load=False)
    assert repr(ours) == repr(theirs)


def test_group_norm_gradcheck_and_errors():
    x = axonic.tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    w = axonic.tensor(RNG.uniform(0.5, 1.5, 4), requires_grad=True)
    b = axonic.tensor(RNG.uniform(-1, 1, 4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by "
                                         r"num_groups \(2\)"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"^GroupNorm: expected input with 4 channels in dim 1, "
                                         r"got shape \(2, 6\)"):
        nn.GroupNorm(2, 4)(axonic.ones(2, 6))


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"dim": -1}, {"p": 1.0, "dim": 0}, {"p": 3.0}])
def test_normalize_matches_torch(kwargs):
    x = _x(4, 5)
    x[1] = 0.0  # a zero row stays zero
    a = axonic.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out, ref = F.normalize(a, **kwargs), torch.nn.functional.normalize(b, **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    g[1] = 0.0  # torch's gradient on a zero row is g / eps (1e12): compare the others
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_normalize_errors():
    with pytest.raises(ValueError, match=r"normalize: p must be positive, got 0"):
        F.normalize(axonic.ones(2, 3), p=0)
    with pytest.raises(IndexError, match=r"normalize: dim 2 is out of range"):
        F.normalize(axonic.ones(2, 3), dim=2)
