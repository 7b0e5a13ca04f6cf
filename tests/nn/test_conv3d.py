"""Conv3d, MaxPool3d, AvgPool3d and AdaptiveAvgPool3d against PyTorch's on the same weights
and inputs: outputs and the gradients of the input, weight and bias (float64), every
padding form and mode, groups, dilation, ceil_mode, count_include_pad, divisor_override,
unbatched inputs; gradchecks; errors."""

import numpy as np
import pytest
import torch

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def same(mine, theirs, shape, params=()):
    a = RNG.standard_normal(shape)
    x, tx = axonic.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = mine(x), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-11,
                               atol=1e-11)
    g = RNG.standard_normal(tuple(tout.shape))
    out.backward(axonic.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-11, atol=1e-11)
    for name in params:
        np.testing.assert_allclose(getattr(mine, name).grad.numpy(),
                                   getattr(theirs, name).grad.numpy(), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=(2, 3, 1), stride=(1, 2, 1), padding=(1, 0, 1)),
    dict(kernel_size=3, padding="same", dilation=2), dict(kernel_size=2, padding="same"),
    dict(kernel_size=3, groups=2, bias=False), dict(kernel_size=3, padding=1,
                                                     padding_mode="reflect"),
    dict(kernel_size=2, padding=1, padding_mode="circular", stride=2),
    dict(kernel_size=3, padding="valid", padding_mode="replicate"),
])
@pytest.mark.parametrize("batched", [True, False])
def test_conv3d_matches_torch(kw, batched):
    mine = nn.Conv3d(4, 6, dtype=axonic.float64, **kw)
    theirs = torch.nn.Conv3d(4, 6, dtype=torch.float64, **kw)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(getattr(mine, name).detach().numpy()))
    shape = (2, 4, 5, 6, 7) if batched else (4, 5, 6, 7)
    same(mine, theirs, shape, [n for n, _ in theirs.named_parameters()])
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=(2, 3, 2), stride=(2, 2, 3), ceil_mode=True),
                                dict(kernel_size=3, stride=2, dilation=2, padding=1,
                                     ceil_mode=True)])
def test_max_pool3d_matches_torch(kw):
    same(nn.MaxPool3d(**kw), torch.nn.MaxPool3d(**kw), (2, 3, 7, 8, 9))
    assert repr(nn.MaxPool3d(**kw)) == repr(torch.nn.MaxPool3d(**kw))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1,
                                     count_include_pad=False),
                                dict(kernel_size=(2, 3, 2), stride=2, ceil_mode=True),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False),
                                dict(kernel_size=2, divisor_override=3)])
def test_avg_pool3d_matches_torch(kw):
    same(nn.AvgPool3d(**kw), torch.nn.AvgPool3d(**kw), (2, 3, 7, 8, 9))
    same(nn.AvgPool3d(**kw), torch.nn.AvgPool3d(**kw), (3, 7, 8, 9))
    assert repr(nn.AvgPool3d(**kw)) == repr(torch.nn.AvgPool3d(**kw))


@pytest.mark.parametrize("size", [1, 3, (2, 5, 4), (None, 2, 7)])
def test_adaptive_avg_pool3d_matches_torch(size):
    same(nn.AdaptiveAvgPool3d(size), torch.nn.AdaptiveAvgPool3d(size), (2, 3, 5, 6, 7))
    assert repr(nn.AdaptiveAvgPool3d(size)) == repr(torch.nn.AdaptiveAvgPool3d(size))


def test_gradchecks():
    x = axonic.tensor(RNG.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    w = axonic.tensor(RNG.standard_normal((2, 2, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv3d(x, w, padding=1, stride=2), (x, w))
    assert gradgradcheck(lambda x, w: F.conv3d(x, w, padding=1, stride=2), (x, w))
    for fn in (lambda x: F.max_pool3d(x, 2, ceil_mode=True),
               lambda x: F.avg_pool3d(x, 2, padding=1, count_include_pad=False),
               lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2))):
        assert gradcheck(fn, (x,))


@pytest.mark.parametrize("call, message", [
    (lambda: nn.Conv3d(2, 4, 3)(axonic.ones(1, 3, 4, 4, 4)),
     "Conv3d: expected 2 input channels, got shape (1, 3, 4, 4, 4)"),
    (lambda: nn.Conv3d(2, 4, 3)(axonic.ones(3, 4, 4, 4)),
     "Conv3d: expected 2 input channels, got shape (3, 4, 4, 4)"),
    (lambda: nn.Conv3d(2, 4, 5)(axonic.ones(1, 2, 4, 4, 4)),
     "Conv3d: the padded input size (4, 4, 4)"),
    (lambda: nn.Conv3d(2, 4, 3)(axonic.ones(2, 4)),
     "Conv3d: expected a 5-d input (N, C, D, H, W) or an unbatched 4-d input (C, D, H, W)"),
    (lambda: nn.MaxPool3d(2, return_indices=True),
     "MaxPool3d: return_indices=True is not implemented in axonic"),
    (lambda: nn.AvgPool3d(2, padding=2)(axonic.ones(1, 1, 4, 4, 4)),
     "AvgPool3d: padding (2, 2, 2) must be at most half of the kernel size (2, 2, 2)"),
    (lambda: nn.MaxPool3d(4)(axonic.ones(1, 1, 2, 5, 5)),
     "MaxPool3d: the input size (2, 5, 5) with padding (0, 0, 0) is too small for the "
     "kernel (4, 4, 4)"),
])
def test_errors_name_the_layer_and_the_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
