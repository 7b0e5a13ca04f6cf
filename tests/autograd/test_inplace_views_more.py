"""In-place rules PyTorch has for multi-output views, copying reshapes and Dropout."""
import numpy as np
import pytest
import torch

import axonic
from axonic import nn


@pytest.mark.parametrize("name,take", [("split", lambda t: t.split(2)[0]),
                                       ("split", lambda t: t.chunk(2)[1]),
                                       ("unbind", lambda t: t.reshape(2, 2).unbind()[0])])
def test_in_place_on_a_multi_output_view_is_refused_as_in_torch(name, take):
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        take(torch.randn(4, requires_grad=True) * 1).mul_(2)
    with pytest.raises(RuntimeError, match=f"Output of {name} is a view and is being "
                                           "modified inplace.*returns multiple views"):
        take(axonic.randn(4, requires_grad=True) * 1).mul_(2)


def test_multi_output_views_outside_the_graph_may_change_in_place():
    a = axonic.arange(4.0)
    first, _ = a.split(2)
    first.mul_(10)
    assert a.tolist() == [0.0, 10.0, 2.0, 3.0]


def test_a_reshape_that_copies_has_its_own_version_counter():
    a = axonic.randn(2, 3).t()  # not contiguous: reshape copies
    r = a.reshape(6)
    a.add_(1)
    assert r._vc[0] == 0 and r._base is None
    b = axonic.randn(2, 3)
    v = b.reshape(6)  # a view: shares the versions
    b.add_(1)
    assert v._vc[0] == 1 and v._base is b


def test_backward_through_a_copying_reshape_ignores_later_changes_of_the_source():
    w = axonic.randn(2, 3, requires_grad=True)
    a = w.t() * 1
    r = a.reshape(6)
    out = (r * r).sum()
    a.mul_(0)  # r is a copy: its saved values stay valid
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("layer", [nn.Dropout, nn.Dropout1d, nn.Dropout2d])
def test_dropout_inplace_writes_into_its_input_like_torch(layer):
    axonic.manual_seed(0)
    x = axonic.ones(4, 3, 5) * 1
    y = layer(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    tx = torch.ones(4, 3, 5) * 1
    assert getattr(torch.nn, layer.__name__)(0.5, inplace=True)(tx) is tx


def test_dropout_inplace_gradient_is_the_mask():
    axonic.manual_seed(1)
    w = axonic.ones(50, requires_grad=True)
    h = w * 3
    out = nn.Dropout(0.5, inplace=True)(h)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), out.detach().numpy())  # 3 * (2 * mask)
    assert out is h and h.grad_fn is not None


def test_dropout_inplace_in_eval_returns_the_input_unchanged():
    x = axonic.ones(3)
    d = nn.Dropout(0.5, inplace=True).eval()
    assert d(x) is x and x._vc[0] == 0

