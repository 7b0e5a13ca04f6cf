"""``max`` and ``min`` (the largest value, or ``(values, indices)`` along ``dim``, or the
elementwise maximum of two tensors), and ``argmax`` / ``argmin`` (no gradient)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import dim_arg, norm_dim
from axonic.ops.reductions import Amax, Amin, _distinct

values_indices = namedtuple("values_indices", ["values", "indices"])


class SelectAlongDim(Function):
    """Values picked at ``index`` along one axis (max/min with ``dim``); the gradient goes
    to exactly those positions."""


    def forward(self, x, index, axis, keepdim):
        self.shape, self.index, self.axis, self.keepdim = x.shape, index, axis, keepdim
        return _take_along(x, index, axis, keepdim)

    def backward(self, g):
        args = (self.index, self.axis, self.keepdim, self.shape)
        # a scatter into zeros: under create_graph, as its own op (differentiable)
        return PutAlongDim.apply(g, *args) if self._graph_mode else _put_along(g, *args)


def _take_along(x, index, axis, keepdim):
    xp = get_array_module(x)
    out = xp.take_along_axis(x, xp.expand_dims(index, axis), axis)
    return out if keepdim else out.squeeze(axis)


def _put_along(g, index, axis, keepdim, shape):
    xp = get_array_module(g)
    gx = xp.zeros(shape, dtype=g.dtype)
    if not keepdim:
        g = xp.expand_dims(g, axis)
    xp.put_along_axis(gx, xp.expand_dims(index, axis), g, axis)
    return gx


class PutAlongDim(Function):
    """The adjoint of ``SelectAlongDim``: values written at ``index`` into zeros."""


    def forward(self, g, index, axis, keepdim, shape):
        self.index, self.axis, self.keepdim = index, axis, keepdim
        return _put_along(g, index, axis, keepdim, shape)

    def backward(self, gg):
        args = (self.index, self.axis, self.keepdim)
        if self._graph_mode:
            return SelectAlongDim.apply(gg, *args)
        return _take_along(gg, *args)


def _max_min(input, dim, keepdim, largest, name):
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): cannot reduce an empty tensor without dim")
        return (Amax if largest else Amin).apply(input, axes=None, keepdim=False)
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from axonic.ops.arithmetic import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
    (axis,) = norm_dim(dim, input.ndim, name)
    idx = (input._data.argmax if largest else input._data.argmin)(axis=axis)
    values = SelectAlongDim.apply(input, idx, axis, keepdim)
    xp = get_array_module(idx)
    return values_indices(values, _make(xp.expand_dims(idx, axis) if keepdim else idx))


@op(methods=("max",))
def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``max(x)`` is the largest value; ``max(x, dim)`` returns ``(values, indices)``.

    >>> import axonic
    >>> x = axonic.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.max()
    tensor(7.)
    >>> x.max(1)
    values_indices(values=tensor([5., 7.]), indices=tensor([1, 0]))
    """
    keepdim = keepdims if keepdims is not None else keepdim
    return _max_min(input, dim_arg(dim, axis, "max"), keepdim, True, "max")


@op(methods=("min",))
def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    return _max_min(input, dim_arg(dim, axis, "min"), keepdim, False, "min")


@op(methods=("argmax",))
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, "argmax")


@op(methods=("argmin",))
def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin")


def _arg(input, dim, keepdim, name):
    xp = get_array_module(input._data)
    if dim is None:
        return _make(xp.asarray(getattr(input._data, name)()))
    (axis,) = norm_dim(dim, input.ndim, name)
    out = getattr(input._data, name)(axis=axis)
    return _make(xp.expand_dims(out, axis) if keepdim else out)


SPECS = [
    OpSpec("max", max, np.max, [_distinct], lambda a: a.max()),
    OpSpec("max_dim", lambda a: max(a, 1).values, lambda a: a.max(1), [_distinct],
           lambda a: a.max(1).values),
    OpSpec("min_dim_keepdim", lambda a: min(a, 0, keepdim=True).values,
           lambda a: a.min(0, keepdims=True), [_distinct], lambda a: a.min(0, keepdim=True).values),
    OpSpec("min", min, np.min, [_distinct], lambda a: a.min()),
    OpSpec("max_ties_share_gradient", max, np.max,
           [lambda r: (np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]]),)], lambda a: a.max(),
           gradcheck=False),
]
