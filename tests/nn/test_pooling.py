"""Max, average and adaptive average pooling against PyTorch, float64 gradcheck, and the
error messages.

Max pooling selects values, so it matches PyTorch exactly (ties included: both take
the first maximum in row-major window order). Average pooling sums a few values in a
different order, hence rtol 1e-5 / atol 1e-6.
"""

import doctest
import importlib

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch


def _check_parity(ours, theirs, x, rtol=1e-5, atol=1e-6):
    xa = axonic.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, ref = ours(xa), theirs(xt)
    if isinstance(ref, tuple):
        np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy(), err_msg="indices")
        out, ref = out[0], ref[0]
    assert out.shape == tuple(ref.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(1).standard_normal(ref.shape).astype(np.float32)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol,
                               err_msg="input gradient")


def _normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


MAX2D_CASES = [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=2), (2, 3, 7, 9)),  # odd sizes drop the last row/column
    (dict(kernel_size=3, stride=1), (2, 2, 6, 7)),  # overlapping windows accumulate
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 9, 8)),
    (dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3)), (1, 2, 11, 9)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (2, 2, 8, 10)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 6)),
    (dict(kernel_size=2, return_indices=True), (2, 3, 7, 6)),
    (dict(kernel_size=3, stride=2, padding=1, dilation=2, return_indices=True,
          ceil_mode=True), (1, 2, 9, 10)),
    (dict(kernel_size=2), (3, 6, 5)),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("kw,shape", MAX2D_CASES)
def test_max_pool2d_matches_torch(kw, shape):
    _check_parity(nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw), _normal(shape))


@requires_torch
@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(3, 2, padding=1, ceil_mode=True),
    lambda m: m.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
])
def test_pooling_a_channels_last_view_matches_torch(make):
    # conv outputs are (N, C, H, W) views of (N, H, W, C) memory; padded buffers and
    # gradients keep that order
    x = _normal((2, 7, 8, 3))
    xa = axonic.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, ref = make(nn)(xa.permute(0, 3, 1, 2)), make(torch.nn)(xt.permute(0, 3, 1, 2))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = _normal(tuple(ref.shape), seed=2)
    out.backward(axonic.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_max_pool2d_ties_pick_the_same_element_as_torch():
    x = np.random.default_rng(0).integers(0, 3, (2, 2, 7, 7)).astype(np.float32)
    _check_parity(nn.MaxPool2d(3, 1, padding=1), torch.nn.MaxPool2d(3, 1, padding=1), x)


@requires_torch
def test_max_pool2d_propagates_nan_like_torch():
    x = _normal((1, 1, 4, 4))
    x[0, 0, 1, 0] = np.nan
    got = nn.MaxPool2d(2)(axonic.tensor(x)).numpy()
    want = torch.nn.MaxPool2d(2)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0, 0, 0, 0])


@requires_torch
@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 9)),
    (dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 12)),
    (dict(kernel_size=2, return_indices=True), (2, 3, 9)),
    (dict(kernel_size=3, stride=1), (3, 8)),  # unbatched
])
def test_max_pool1d_matches_torch(kw, shape):
    _check_parity(nn.MaxPool1d(**kw), torch.nn.MaxPool1d(**kw), _normal(shape))


AVG2D_CASES = [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=3, stride=1), (2, 2, 7, 6)),
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 9, 8)),
    (dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 2, 9, 8)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (2, 2, 8, 10)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (1, 2, 6, 7)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 7)),
    (dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), divisor_override=4),
     (2, 2, 5, 7)),
    (dict(kernel_size=2), (3, 5, 5)),  # unbatched
]


@requires_torch
@pytest.mark.parametrize("kw,shape", AVG2D_CASES)
def test_avg_pool2d_matches_torch(kw, shape):
    _check_parity(nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), _normal(shape))


@requires_torch
@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1,
                                                           ceil_mode=True,
                                                           count_include_pad=False)])
def test_avg_pool1d_matches_torch(kw):
    _check_parity(nn.AvgPool1d(**kw), torch.nn.AvgPool1d(**kw), _normal((2, 3, 10)))


@requires_torch
@pytest.mark.parametrize("size,shape", [
    (1, (2, 4, 7, 5)),  # global average pooling
    ((3, 2), (2, 3, 7, 5)),  # bins that overlap
    ((4, 4), (2, 3, 8, 8)),  # bins that tile
    ((None, 3), (2, 3, 5, 7)),
    ((9, 6), (1, 2, 7, 5)),  # more outputs than inputs
    ((2, 3), (3, 5, 6)),  # unbatched
])
def test_adaptive_avg_pool2d_matches_torch(size, shape):
    _check_parity(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), _normal(shape))


@requires_torch
@pytest.mark.parametrize("size", [1, 3, 4, 11])
def test_adaptive_avg_pool1d_matches_torch(size):
    _check_parity(nn.AdaptiveAvgPool1d(size), torch.nn.AdaptiveAvgPool1d(size),
                  _normal((2, 3, 7)))


@requires_torch
def test_functional_forms_match_torch():
    x = _normal((2, 3, 9, 8))
    tf = torch.nn.functional
    pairs = [
        (F.max_pool2d(axonic.tensor(x), 3, 2, 1, ceil_mode=True),
         tf.max_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=True)),
        (F.avg_pool2d(axonic.tensor(x), 2, count_include_pad=False),
         tf.avg_pool2d(torch.tensor(x), 2, count_include_pad=False)),
        (F.adaptive_avg_pool2d(axonic.tensor(x), (4, 3)),
         tf.adaptive_avg_pool2d(torch.tensor(x), (4, 3))),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


# --- float64 gradcheck ------------------------------------------------------------------


def _distinct(shape, seed=0):
    """Values without ties: max pooling's derivative is undefined where two values tie."""
    perm = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape)
    return axonic.tensor(perm / 10.0, dtype=axonic.float64, requires_grad=True)


def test_max_pool2d_gradcheck_float64():
    x = _distinct((2, 2, 7, 6))
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, padding=1, dilation=(1, 2),
                                            ceil_mode=True), (x,))
    assert gradcheck(lambda x: F.max_pool2d(x, 2), (x,))


def test_avg_pool2d_gradcheck_float64():
    x = _distinct((2, 2, 7, 6))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True,
                                            count_include_pad=False), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, (2, 3), divisor_override=5), (x,))


def test_adaptive_avg_pool2d_gradcheck_float64():
    x = _distinct((2, 2, 7, 6))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (x,))


def test_pool1d_gradcheck_float64():
    x = _distinct((2, 2, 9))
    assert gradcheck(lambda x: F.max_pool1d(x, 3, 2, padding=1), (x,))
    assert gradcheck(lambda x: F.avg_pool1d(x, 3, 2, padding=1), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x, 4), (x,))


# --- repr and errors ----------------------------------------------------------------


def test_repr_matches_pytorch():
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, "
                                     "dilation=1, ceil_mode=False)")
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


@pytest.mark.parametrize("make,match", [
    (lambda: nn.MaxPool2d(0), r"MaxPool2d: kernel_size must be >= 1, got 0"),
    (lambda: nn.MaxPool2d(2, stride=0), r"MaxPool2d: stride must be >= 1, got 0"),
    (lambda: nn.MaxPool2d(3, padding=2), r"MaxPool2d: padding 2 must be at most half of "
                                         r"kernel_size 3"),
    (lambda: nn.AvgPool2d((2, 2, 2)), r"AvgPool2d: kernel_size must be an int or a tuple of "
                                      r"2 ints, got \(2, 2, 2\)"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), r"AvgPool2d: divisor_override must be a "
                                                  r"non-zero int or None, got 0"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), r"AdaptiveAvgPool2d: output_size must be a "
                                           r"positive int or a tuple of 2 positive ints "
                                           r"\(or None\), got \(2, 0\)"),
    (lambda: nn.MaxPool1d(2, padding=-1), r"MaxPool1d: padding must be >= 0, got -1"),
])
def test_init_rejects_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_forward_names_wrong_rank():
    with pytest.raises(nn.LayerInputError, match=r"MaxPool2d: expected a 4-d input "
                                                 r"\(N, C, H, W\) or an unbatched 3-d input "
                                                 r"\(C, H, W\), got shape \(4, 4\)"):
        nn.MaxPool2d(2)(axonic.ones(4, 4))
    with pytest.raises(nn.LayerInputError, match=r"AdaptiveAvgPool1d: expected a 3-d input "
                                                 r"\(N, C, L\) .*got shape \(1, 2, 3, 4\)"):
        nn.AdaptiveAvgPool1d(2)(axonic.ones(1, 2, 3, 4))


def test_forward_names_input_too_small_for_the_kernel():
    with pytest.raises(nn.LayerInputError, match=r"MaxPool2d: the input size \(1, 5\) with "
                                                 r"padding \(0, 0\) is too small for the "
                                                 r"kernel \(2, 2\).*output size would be "
                                                 r"\(0, 2\)"):
        nn.MaxPool2d(2)(axonic.ones(1, 3, 1, 5))
    with pytest.raises(nn.LayerInputError, match=r"MaxPool1d: the input size \(2,\) with "
                                                 r"padding \(0,\) is too small for the kernel "
                                                 r"\(3,\)"):
        nn.MaxPool1d(3)(axonic.ones(1, 3, 2))
    with pytest.raises(ValueError, match=r"avg_pool1d: the input size \(2,\)"):
        F.avg_pool1d(axonic.ones(1, 3, 2), 3)
    with pytest.raises(nn.LayerInputError, match=r"AvgPool2d: the input size \(2, 2\)"):
        nn.AvgPool2d(3)(axonic.ones(1, 1, 2, 2))
    with pytest.raises(nn.LayerInputError, match=r"AdaptiveAvgPool2d: expected a non-empty "
                                                 r"input, got shape \(1, 2, 0, 3\)"):
        nn.AdaptiveAvgPool2d(1)(axonic.ones(1, 2, 0, 3))


def test_error_names_the_layer_path_inside_a_model():
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(4)))
    with pytest.raises(nn.LayerInputError, match=r"^features\.2 \(MaxPool2d\): the input "
                                                 r"size \(3, 3\)"):
        model(axonic.ones(1, 1, 5, 5))


def test_functional_errors_name_the_op():
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-d or 4-d input "
                                         r"\(N, C, H, W\) or \(C, H, W\), got shape \(5,\)"):
        F.max_pool2d(axonic.ones(5), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding \(2, 2\) must be at most half "
                                         r"of the kernel size \(2, 2\)"):
        F.avg_pool2d(axonic.ones(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be a "
                                         r"positive int"):
        F.adaptive_avg_pool2d(axonic.ones(1, 1, 6, 6), -1)


@requires_torch  # the op specs name PyTorch functions, which the doctest finder touches
@pytest.mark.parametrize("name", ["axonic.ops.pooling", "axonic.ops.adaptive_pooling",
                                  "axonic.nn.pooling"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
