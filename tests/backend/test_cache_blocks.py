"""``parallel_apply(..., block=)``: many-pass kernels run block by block, bit for bit as the
plain call, and Adam's update on a large parameter equals the update done in one piece."""

import numpy as np
import pytest

import axonic
from axonic.backend import threads


def _three_pass(o, x, y):
    np.multiply(x, 0.3, out=o)
    o += y
    np.sqrt(np.abs(o), out=o)


@pytest.mark.parametrize("size", [0, 5, 100, 1000, 4099])
@pytest.mark.parametrize("block", [16, 64, 1024])
def test_blocked_equals_plain(size, block):
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(np.float32)
    y = rng.standard_normal(size).astype(np.float32)
    want = np.empty_like(x)
    _three_pass(want, x, y)
    calls = []

    def counted(o, a, b):
        calls.append(o.size)
        _three_pass(o, a, b)

    got = threads.parallel_apply(counted, np.empty_like(x), x, y, block=block)
    np.testing.assert_array_equal(got, want)
    if size >= 2 * block:  # cut into blocks, none bigger than ``block``
        assert len(calls) == -(-size // block) and max(calls) <= block
    else:
        assert calls == [size]


def test_blocked_2d_and_noncontiguous():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 33)).astype(np.float32)
    y = rng.standard_normal((64, 33)).astype(np.float32)
    want = np.empty_like(x)
    _three_pass(want, x, y)
    np.testing.assert_array_equal(threads.parallel_apply(_three_pass, np.empty_like(x), x, y,
                                                         block=16), want)
    xt, yt = x.T, y.T  # not C-contiguous: one plain call, same values
    want_t = np.empty_like(xt)
    _three_pass(want_t, xt, yt)
    np.testing.assert_array_equal(
        threads.parallel_apply(_three_pass, np.empty_like(xt), xt, yt, block=16), want_t)


def test_blocked_in_place_aliasing():
    # out is also an input (an in-place update): blocks see the same elements as one call
    x = np.linspace(-2, 2, 4096, dtype=np.float32)
    want = x.copy()
    _three_pass(want, want.copy(), x)
    got = x.copy()
    threads.parallel_apply(lambda o, y: _three_pass(o, o.copy(), y), got, x, block=256)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_large_parameter_blocked_equals_whole(monkeypatch, amsgrad):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((300, 700)).astype(np.float32)  # 210,000 elements > 2 blocks
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]

    def run(block):
        monkeypatch.setattr(threads, "CACHE_BLOCK", block)
        w = axonic.nn.Parameter(axonic.tensor(w0.copy()))
        opt = axonic.optim.AdamW([w], lr=1e-2, weight_decay=0.1, amsgrad=amsgrad)
        for g in grads:
            w.grad = axonic.tensor(g)
            opt.step()
        return w.detach().numpy().copy()

    assert w0.size >= 2 * threads.CACHE_BLOCK
    np.testing.assert_array_equal(run(threads.CACHE_BLOCK), run(1 << 40))
