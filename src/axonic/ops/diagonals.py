"""Triangles and diagonals of matrices: ``tril``, ``triu``, ``diagonal`` and ``trace``."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import norm_dim
from axonic.ops.shape import movedim


class Tril(Function):
    upper = False

    def forward(self, x, diagonal=0):
        self.k = diagonal
        xp = get_array_module(x)
        return xp.triu(x, diagonal) if self.upper else xp.tril(x, diagonal)

    def backward(self, g):
        xp = self.xp
        return xp.triu(g, self.k) if self.upper else xp.tril(g, self.k)

    def to_onnx(self, g, x, diagonal=0):
        return g.op("Trilu", x, g.const(diagonal, np.int64), upper=int(self.upper))


class Triu(Tril):
    upper = True


@op(methods=("tril",))
def tril(input, diagonal=0):
    """The lower triangle (last two dims); the rest is zero.

    >>> import axonic
    >>> axonic.tril(axonic.ones(3, 3))
    tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]])
    """
    if input.ndim < 2:
        raise ValueError(f"tril: expects at least 2 dimensions, got {input.ndim}")
    return Tril.apply(input, diagonal=diagonal)


@op(methods=("triu",))
def triu(input, diagonal=0):
    if input.ndim < 2:
        raise ValueError(f"triu: expects at least 2 dimensions, got {input.ndim}")
    return Triu.apply(input, diagonal=diagonal)


@op(methods=("diagonal",))
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, as the last dim (PyTorch's ``diagonal``).

    >>> import axonic
    >>> axonic.arange(9).reshape(3, 3).diagonal(1)
    tensor([1, 5])
    """
    from axonic.ops.indexing import getitem

    a, b = norm_dim((dim1, dim2), input.ndim, "diagonal")
    if a == b:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    x = movedim(input, (a, b), (-2, -1))
    n, m = x.shape[-2:]
    rows = get_array_module(input._data).arange(max(0, -offset), max(0, min(n, m - offset)))
    return getitem(x, (Ellipsis, rows, rows + offset))


@op(methods=("trace",))
def trace(input):
    """The sum of the main diagonal of a 2-d tensor."""
    if input.ndim != 2:
        raise ValueError(f"trace: expects a 2-d tensor, got {input.ndim} dimensions")
    return diagonal(input).sum()


SPECS = [
    OpSpec("diagonal", lambda a: diagonal(a), lambda a: np.diagonal(a).copy(), [((3, 4),)],
           lambda a: a.diagonal()),
    OpSpec("diagonal_offset_dims", lambda a: diagonal(a, -1, 1, 2),
           lambda a: np.diagonal(a, -1, 1, 2).copy(), [((2, 4, 3),)],
           lambda a: a.diagonal(-1, 1, 2)),
    OpSpec("trace", trace, np.trace, [((3, 3),), ((2, 4),)], lambda a: a.trace()),
    OpSpec("tril", tril, np.tril, [((4, 4),), ((2, 3, 5),)], lambda a: a.tril()),
    OpSpec("triu_k", lambda a: triu(a, 1), lambda a: np.triu(a, 1), [((4, 5),)],
           lambda a: a.triu(1)),
]
