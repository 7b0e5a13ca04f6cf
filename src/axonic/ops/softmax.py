"""``softmax`` and ``log_softmax`` along a dim, with fused backwards.

Written as their own Functions (not composed from exp/sum/div) for numerical stability,
as DESIGN.md allows: the max is subtracted first, so logits of ±1e4 stay finite.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module, get_default_dtype, jit
from axonic.backend.sums import sum_last
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import norm_dim


def _sum(x, axis):
    """``x.sum(axis=axis, keepdims=True)``; along the last axis as a matrix-vector product
    (``backend.sums``: ~4x faster for attention's rows of 64)."""
    if axis == x.ndim - 1 or axis == -1:
        return sum_last(x)
    return x.sum(axis=axis, keepdims=True)


def _fused_rows(x, axis, *others):
    """numba's kernels (``backend.jit``) when the softmax runs along the last axis of
    C-contiguous float arrays (``x`` and ``others`` of one dtype and shape), else None."""
    if (type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or x.size == 0
            or axis not in (-1, x.ndim - 1) or not x.flags.c_contiguous):
        return None
    for o in others:
        if (type(o) is not np.ndarray or o.dtype != x.dtype or o.shape != x.shape
                or not o.flags.c_contiguous):
            return None
    return jit.kernels()


class Softmax(Function):
    """Softmax along ``axis``; along the last axis of float arrays, the row maximum and
    the row sums are compiled loops where numba is installed (``backend.jit``)."""

    def forward(self, x, axis):
        self.axis = axis
        fused = _fused_rows(x, axis)
        if fused is not None:
            out = fused.softmax_rows(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        elif x.size == 0:  # nothing to normalise (and max has no identity)
            out = x.copy()
        else:
            out = get_array_module(x).exp(x - x.max(axis=axis, keepdims=True))
            out /= _sum(out, axis)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (y,) = self.saved_tensors
        fused = None if self._graph_mode else _fused_rows(g, self.axis, y)
        if fused is not None:
            d = g.shape[-1]
            return fused.softmax_rows_backward(g.reshape(-1, d), y.reshape(-1, d)).reshape(
                g.shape)
        return y * (g - _sum(g * y, self.axis))

    def to_onnx(self, g, x, axis):
        return g.op("Softmax", x, axis=int(axis))


class LogSoftmax(Function):
    def forward(self, x, axis):
        self.axis = axis
        if x.size == 0:
            out = x.copy()
        else:
            xp = get_array_module(x)
            out = x - x.max(axis=axis, keepdims=True)
            out -= xp.log(_sum(xp.exp(out), axis))
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g - self.xp.exp(out) * _sum(g, self.axis)

    def to_onnx(self, g, x, axis):
        return g.op("LogSoftmax", x, axis=int(axis))


def _axis(input, dim, name):
    if dim is None:
        # PyTorch's legacy implicit dim: 0 for 0-, 1- and 3-d inputs, else 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return norm_dim(dim, input.ndim, name)[0]


@op(methods=("softmax",))
def softmax(input, dim=None, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, stable for large logits.

    >>> import axonic
    >>> axonic.tensor([0.0, 1e4]).softmax(0)
    tensor([0., 1.])
    """
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind != "f":
        input = input.to(get_default_dtype())
    return Softmax.apply(input, axis=_axis(input, dim, "softmax"))


@op(methods=("log_softmax",))
def log_softmax(input, dim=None, dtype=None):
    """``x - logsumexp(x, dim)``, stable for large logits.

    >>> import axonic
    >>> axonic.tensor([0.0, 0.0]).log_softmax(0)
    tensor([-0.6931, -0.6931])
    """
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind != "f":
        input = input.to(get_default_dtype())
    return LogSoftmax.apply(input, axis=_axis(input, dim, "log_softmax"))


def _np_softmax(a, axis=-1):
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


SPECS = [
    OpSpec("softmax", lambda a: softmax(a, -1), _np_softmax, [((3, 5),), ((2, 3, 4),), ((0, 4),)],
           lambda a: a.softmax(-1)),
    OpSpec("softmax_dim0", lambda a: softmax(a, 0), lambda a: _np_softmax(a, 0), [((3, 5),)],
           lambda a: a.softmax(0)),
    OpSpec("log_softmax", lambda a: log_softmax(a, -1), lambda a: np.log(_np_softmax(a)),
           [((3, 5),), ((2, 3, 4),)], lambda a: a.log_softmax(-1)),
    OpSpec("log_softmax_large", lambda a: log_softmax(a, -1),
           lambda a: a - a.max(-1, keepdims=True) - np.log(
               np.exp(a - a.max(-1, keepdims=True)).sum(-1, keepdims=True)),
           [lambda r: (np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 5.0]]),)],
           lambda a: a.log_softmax(-1)),
]
