"""Max pooling's backward when the windows tile the input (kernel == stride) takes one
comparison and one product; it must equal the general path everywhere (ties and NaNs
send it back there) and PyTorch's gradient."""

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic.ops import pooling

torch = pytest.importorskip("torch")

CASES = [  # (shape, kernel, padding, ceil_mode)
    ((2, 3, 8, 8), 2, 0, False),
    ((2, 3, 7, 9), 2, 0, False),   # a row and a column no window covers
    ((1, 2, 9, 9), 3, 0, False),
    ((2, 2, 7, 7), 2, 1, False),   # padding
    ((2, 2, 7, 9), 2, 0, True),    # ceil mode: partial last windows
    ((3, 4, 6, 10), (2, 5), 0, False),
]


def _grads(x, kernel, padding, ceil_mode, general=False, monkeypatch=None):
    if general:
        monkeypatch.setattr(pooling, "_tiled_backward", lambda *a: False)
    xa = axonic.tensor(x, requires_grad=True)
    out = F.max_pool2d(xa, kernel, padding=padding, ceil_mode=ceil_mode)
    g = np.random.default_rng(7).standard_normal(out.shape).astype(x.dtype)
    out.backward(axonic.tensor(g))
    if general:
        monkeypatch.undo()
    return out.detach().numpy(), xa.grad.numpy(), g


def _data(shape, kind, channels_last=False):
    rng = np.random.default_rng(sum(shape))
    if kind == "random":
        x = rng.standard_normal(shape).astype(np.float32)
    elif kind == "ties":  # few distinct values: most windows tie
        x = rng.integers(0, 3, shape).astype(np.float32)
    else:  # one NaN window and one tied window: hit counts that add up to the window count
        x = rng.standard_normal(shape).astype(np.float32)
        x[0, 0, 0, 0] = np.nan
        x[0, 0, 2:4, 2:4] = 5.0
    if channels_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return x


@pytest.mark.parametrize("kind", ["random", "ties", "nan_and_tie"])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shape,kernel,padding,ceil_mode", CASES)
def test_tiled_equals_general_path(monkeypatch, shape, kernel, padding, ceil_mode,
                                   channels_last, kind):
    x = _data(shape, kind, channels_last)
    out, grad, _ = _grads(x, kernel, padding, ceil_mode)
    out_g, grad_g, _ = _grads(x, kernel, padding, ceil_mode, True, monkeypatch)
    np.testing.assert_array_equal(out, out_g)
    np.testing.assert_array_equal(grad, grad_g)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shape,kernel,padding,ceil_mode", CASES)
def test_tiled_matches_pytorch(shape, kernel, padding, ceil_mode, channels_last):
    x = _data(shape, "random", channels_last)
    out, grad, g = _grads(x, kernel, padding, ceil_mode)
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.max_pool2d(xt, kernel, padding=padding, ceil_mode=ceil_mode)
    ot.backward(torch.tensor(g))
    np.testing.assert_array_equal(out, ot.detach().numpy())
    np.testing.assert_array_equal(grad, xt.grad.numpy())


def test_tiled_path_is_taken_and_ties_fall_back(monkeypatch):
    taken = []
    real = pooling._tiled_backward
    monkeypatch.setattr(pooling, "_tiled_backward", lambda *a: taken.append(real(*a)) or taken[-1])
    _grads(_data((2, 3, 8, 8), "random"), 2, 0, False)
    _grads(_data((2, 3, 8, 8), "ties"), 2, 0, False)
    _grads(_data((2, 3, 8, 8), "random"), 3, 0, False)  # kernel 3, stride 3: tiled too
    assert taken == [True, False, True]
    _grads(_data((2, 3, 8, 8), "random").astype(np.float32), 2, 0, False)
    F.max_pool2d(axonic.tensor(_data((1, 1, 6, 6), "random"), requires_grad=True), 3,
                 stride=2).sum().backward()  # overlapping windows: never tiled
    assert taken == [True, False, True, True]
