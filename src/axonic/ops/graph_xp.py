"""The array namespace that ``self.xp`` stands for under ``create_graph=True``.

An op's backward is written once, with ``xp.<numpy name>`` and operators. On arrays
``xp`` is numpy (or cupy); when the engine differentiates the backward itself it runs the
same code with ``xp`` = this module, whose functions have numpy's names and signatures but
are axonic's differentiable ops on tensors. Comparisons and other piecewise-constant
functions return tensors that carry no gradient, as their derivative is zero.

>>> import axonic
>>> from axonic.ops import graph_xp as gx
>>> x = axonic.tensor([1.0, 2.0], requires_grad=True)
>>> y = gx.sum(gx.exp(x) * x, axis=0, keepdims=True)
>>> y.requires_grad, y.shape
(True, (1,))
"""

from __future__ import annotations

import numpy as _np

from axonic.autograd.tensor import Tensor, _make
from axonic.ops import activations as _act
from axonic.ops import arithmetic as _ar
from axonic.ops import elementwise as _un
from axonic.ops import join as _join
from axonic.ops import linalg as _la
from axonic.ops import reductions as _red
from axonic.ops import shape as _sh
from axonic.ops._util import as_operand

# dtypes and constants, as numpy spells them
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64, bool_ = _np.int32, _np.int64, _np.bool_
inf, nan, pi, newaxis = _np.inf, _np.nan, _np.pi, None
errstate = _np.errstate  # a context manager on numpy's flags; tensors compute with numpy


def _t(x):
    if isinstance(x, Tensor):
        return x
    return _make(_np.asarray(x)) if isinstance(x, int | float) else as_operand(x)


def asarray(x, dtype=None):
    x = _t(x)
    return x if dtype is None or x.data.dtype == dtype else x.to(dtype)


def astype(x, dtype, copy=True):
    return x.to(dtype)


# --- elementwise, differentiable ---------------------------------------------------------
def exp(x):
    return _un.exp(_t(x))


def expm1(x):
    return _un.expm1(_t(x))


def log(x):
    return _un.log(_t(x))


def log1p(x):
    return _un.log1p(_t(x))


def sqrt(x):
    return _un.sqrt(_t(x))


def sin(x):
    return _un.sin(_t(x))


def cos(x):
    return _un.cos(_t(x))


def tan(x):
    return _un.tan(_t(x))


def tanh(x):
    return _act.tanh(_t(x))


def sinh(x):
    return _un.sinh(_t(x))


def cosh(x):
    return _un.cosh(_t(x))


def arctan(x):
    return _un.atan(_t(x))


def arctan2(a, b):
    return _ar.atan2(a, b)


def abs(x):
    return _un.abs(_t(x))


absolute = abs


def square(x):
    x = _t(x)
    return x * x


def reciprocal(x):
    return _un.reciprocal(_t(x))


def maximum(a, b):
    return _ar.maximum(a, b)


def minimum(a, b):
    return _ar.minimum(a, b)


def clip(x, a_min=None, a_max=None):
    return _un.clamp(_t(x), a_min, a_max)


def where(condition, a, b):
    from axonic.ops.indexing import where as _where

    return _where(_t(condition), a, b)


def power(a, b):
    return _ar.pow(a, b)


def multiply(a, b):
    return _ar.mul(a, b)


def add(a, b):
    return _ar.add(a, b)


def subtract(a, b):
    return _ar.sub(a, b)


def divide(a, b):
    return _ar.div(a, b)


def negative(x):
    return -_t(x)


# --- piecewise constant: no gradient -------------------------------------------------------
def _constant(fn):
    def op(*args, **kwargs):
        return _make(_np.asarray(fn(*[a.data if isinstance(a, Tensor) else a for a in args],
                                    **kwargs)))

    op.__name__ = fn.__name__
    return op


sign = _constant(_np.sign)
floor = _constant(_np.floor)
isfinite = _constant(_np.isfinite)
greater, greater_equal = _constant(_np.greater), _constant(_np.greater_equal)
less, less_equal = _constant(_np.less), _constant(_np.less_equal)
equal, not_equal = _constant(_np.equal), _constant(_np.not_equal)
logical_and, logical_or = _constant(_np.logical_and), _constant(_np.logical_or)
logical_not = _constant(_np.logical_not)
floor_divide = _constant(_np.floor_divide)
arange = _constant(_np.arange)


def _like(fill):
    def like(x, dtype=None, shape=None):
        d = x.data if isinstance(x, Tensor) else _np.asarray(x)
        return _make(_np.full(d.shape if shape is None else shape, fill, dtype or d.dtype))

    return like


zeros_like, ones_like = _like(0), _like(1)


def full_like(x, fill_value, dtype=None):
    return _like(fill_value)(x, dtype)


def zeros(shape, dtype=float64):
    return _make(_np.zeros(shape, dtype))


def ones(shape, dtype=float64):
    return _make(_np.ones(shape, dtype))


# --- reductions and products ---------------------------------------------------------------
def sum(x, axis=None, keepdims=False, dtype=None):
    return _red.sum(_t(x), dim=axis, keepdim=keepdims, dtype=dtype)


def mean(x, axis=None, keepdims=False):
    return _red.mean(_t(x), dim=axis, keepdim=keepdims)


def amax(x, axis=None, keepdims=False):
    return _red.amax(_t(x), dim=() if axis is None else axis, keepdim=keepdims)


max = amax


def cumsum(x, axis=None):
    return _red.cumsum(_t(x), axis)


def matmul(a, b):
    return _la.matmul(_t(a), _t(b))


def einsum(equation, *operands, optimize=False):
    return _la.einsum(equation, *[_t(o) for o in operands])


def outer(a, b):
    return _la.outer(_t(a), _t(b))


# --- shapes --------------------------------------------------------------------------------
def reshape(x, shape):
    return _sh.reshape(_t(x), shape)


def broadcast_to(x, shape):
    return _sh.broadcast_to(_t(x), tuple(shape))


def transpose(x, axes=None):
    x = _t(x)
    return _sh.permute(x, *(range(x.ndim)[::-1] if axes is None else axes))


def swapaxes(x, a, b):
    return _sh.transpose(_t(x), a, b)


def moveaxis(x, source, destination):
    return _sh.movedim(_t(x), source, destination)


def expand_dims(x, axis):
    x = _t(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = x.ndim + len(axes)
    for a in sorted(a % n for a in axes):
        x = _sh.unsqueeze(x, a)
    return x


def squeeze(x, axis=None):
    return _sh.squeeze(_t(x), axis)


def concatenate(arrays, axis=0):
    return _join.cat([_t(a) for a in arrays], dim=axis)


def stack(arrays, axis=0):
    return _join.stack([_t(a) for a in arrays], dim=axis)


def flip(x, axis):
    return _sh.flip(_t(x), (axis,) if isinstance(axis, int) else axis)


def roll(x, shift, axis=None):
    shift = (shift,) if isinstance(shift, int) else tuple(shift)
    return _sh.roll(_t(x), shift, axis)


def tril(x, k=0):
    return _sh.tril(_t(x), k)


def triu(x, k=0):
    return _sh.triu(_t(x), k)


def take_along_axis(x, indices, axis):
    from axonic.ops.indexing import gather

    idx = indices.data if isinstance(indices, Tensor) else indices
    return gather(_t(x), axis, _make(_np.asarray(idx)))
