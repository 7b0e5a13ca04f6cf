"""F.unfold / F.fold and nn.Unfold / nn.Fold against PyTorch's (values and gradients,
float64), a convolution rebuilt from unfold and a matrix product, gradchecks, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
CONFIGS = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=(1, 2)),
           dict(kernel_size=3, padding=1, dilation=2), dict(kernel_size=(3, 2), stride=2,
                                                            padding=(1, 0), dilation=(1, 2))]


def both(shape):
    a = RNG.standard_normal(shape)
    return axonic.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def same(out, tout, x, tx):
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    g = RNG.standard_normal(tuple(tout.shape))
    out.backward(axonic.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", CONFIGS)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_and_fold_match_torch(kw, batched):
    shape = (2, 3, 7, 8) if batched else (3, 7, 8)
    x, tx = both(shape)
    same(nn.Unfold(**kw)(x), torch.nn.Unfold(**kw)(tx), x, tx)
    cols = TF.unfold(torch.zeros((2, 3, 7, 8)), **kw)
    y, ty = both(tuple(cols.shape) if batched else tuple(cols.shape[1:]))
    same(nn.Fold((7, 8), **kw)(y), torch.nn.Fold((7, 8), **kw)(ty), y, ty)
    assert repr(nn.Fold((7, 8), **kw)) == repr(torch.nn.Fold((7, 8), **kw))
    assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))


def test_a_convolution_is_unfold_then_a_matrix_product():
    x = axonic.tensor(RNG.standard_normal((2, 3, 9, 9)))
    w = axonic.tensor(RNG.standard_normal((4, 3, 3, 3)))
    cols = F.unfold(x, 3, padding=1, stride=2)  # (2, 27, 25)
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, 5, 5)
    np.testing.assert_allclose(out.numpy(), F.conv2d(x, w, padding=1, stride=2).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_fold_of_unfold_counts_each_pixel_once_per_block_covering_it():
    x = axonic.ones(1, 1, 4, 4, dtype=axonic.float64)
    counts = F.fold(F.unfold(x, 2, stride=1), (4, 4), 2, stride=1).numpy()[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                           [1, 2, 2, 1]])


def test_gradchecks():
    x = axonic.tensor(RNG.standard_normal((1, 2, 4, 5)), requires_grad=True)
    y = axonic.tensor(RNG.standard_normal((1, 2 * 4, 6)), requires_grad=True)
    for fn, arg in ((lambda t: F.unfold(t, 2, padding=1, stride=2), x),
                    (lambda t: F.fold(t, (3, 4), 2), y)):
        assert gradcheck(fn, (arg,)) and gradgradcheck(fn, (arg,))


@pytest.mark.parametrize("call, message", [
    (lambda: F.unfold(axonic.ones(2, 3), 2),
     "unfold: expected a 4-d input (N, C, H, W) or an unbatched 3-d one, got shape (2, 3)"),
    (lambda: nn.Unfold(5)(axonic.ones(1, 1, 3, 3)),
     "Unfold: the kernel spans 5 (kernel_size 5, dilation 1) but the padded input has 3 along "
     "a spatial dim (size 3, padding 0)"),
    (lambda: nn.Fold((4, 4), 2)(axonic.ones(1, 6, 9)),
     "Fold: expected an input (N, C * 4, 9) for output_size (4, 4) and kernel_size (2, 2) "
     "(3 x 3 blocks), got shape (1, 6, 9)"),
    (lambda: nn.Unfold(0), "Unfold: kernel_size"),
])
def test_errors_name_the_layer_and_the_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
