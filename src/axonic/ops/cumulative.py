"""``cumsum``: the running sum along a dim; each input feeds every later output."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import norm_dim


class Cumsum(Function):

    def forward(self, x, axis):
        self.axis = axis
        return get_array_module(x).cumsum(x, axis=axis)

    def backward(self, g):
        # each input feeds every later output: the reversed cumulative sum of the gradient
        xp, axis = self.xp, self.axis
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)

    def to_onnx(self, g, x, axis):
        return g.op("CumSum", x, g.const(int(axis), np.int64))


@op(methods=("cumsum",))
def cumsum(input, dim, dtype=None):
    """Running sum along ``dim``.

    >>> import axonic
    >>> axonic.tensor([1.0, 2.0, 3.0]).cumsum(0)
    tensor([1., 3., 6.])
    """
    (axis,) = norm_dim(dim, input.ndim, "cumsum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind == "b":
        input = input.to(np.int64)
    return Cumsum.apply(input, axis=axis)


SPECS = [
    OpSpec("cumsum", lambda a: cumsum(a, 1), lambda a: np.cumsum(a, 1),
           [((3, 4),), ((2, 0),), ((2, 3, 4),)], lambda a: a.cumsum(1)),
]
