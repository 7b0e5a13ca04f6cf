"""The array namespace that ``self.xp`` stands for under ``create_graph=True``.

An op's backward is written once, with ``xp.<numpy name>`` and operators. On arrays
``xp`` is numpy (or cupy); when the engine differentiates the backward itself it runs the
same code with ``xp`` = this module, whose functions have numpy's names and signatures but
are axonic's differentiable ops on tensors (found in the op registry by name).
Comparisons and other piecewise-constant functions return tensors that carry no gradient,
as their derivative is zero.

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
from axonic.ops._registry import OPS as _OPS
from axonic.ops._util import as_operand, xp_of

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
    return x if dtype is None or x._data.dtype == dtype else x.to(dtype)


def astype(x, dtype, copy=True):
    return x.to(dtype)


# --- elementwise, differentiable ---------------------------------------------------------
def exp(x):
    return _OPS["exp"](_t(x))


def expm1(x):
    return _OPS["expm1"](_t(x))


def log(x):
    return _OPS["log"](_t(x))


def log1p(x):
    return _OPS["log1p"](_t(x))


def sqrt(x):
    return _OPS["sqrt"](_t(x))


def sin(x):
    return _OPS["sin"](_t(x))


def cos(x):
    return _OPS["cos"](_t(x))


def tan(x):
    return _OPS["tan"](_t(x))


def tanh(x):
    return _OPS["tanh"](_t(x))


def sinh(x):
    return _OPS["sinh"](_t(x))


def cosh(x):
    return _OPS["cosh"](_t(x))


def arctan(x):
    return _OPS["atan"](_t(x))


def arctan2(a, b):
    return _OPS["atan2"](a, b)


def abs(x):
    return _OPS["abs"](_t(x))


absolute = abs


def square(x):
    x = _t(x)
    return x * x


def reciprocal(x):
    return _OPS["reciprocal"](_t(x))


def maximum(a, b):
    return _OPS["maximum"](a, b)


def minimum(a, b):
    return _OPS["minimum"](a, b)


def clip(x, a_min=None, a_max=None):
    return _OPS["clamp"](_t(x), a_min, a_max)


def where(condition, a, b):
    return _OPS["where"](_t(condition), a, b)


def power(a, b):
    return _OPS["pow"](a, b)


def multiply(a, b):
    return _OPS["mul"](a, b)


def add(a, b):
    return _OPS["add"](a, b)


def subtract(a, b):
    return _OPS["sub"](a, b)


def divide(a, b):
    return _OPS["div"](a, b)


def negative(x):
    return -_t(x)


# --- piecewise constant: no gradient -------------------------------------------------------
def _constant(name):
    def constant(*args, **kwargs):
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        xp = xp_of(*arrays)
        return _make(xp.asarray(getattr(xp, name)(*arrays, **kwargs)))

    constant.__name__ = name
    return constant


sign = _constant("sign")
floor = _constant("floor")
isfinite = _constant("isfinite")
greater, greater_equal = _constant("greater"), _constant("greater_equal")
less, less_equal = _constant("less"), _constant("less_equal")
equal, not_equal = _constant("equal"), _constant("not_equal")
logical_and, logical_or = _constant("logical_and"), _constant("logical_or")
logical_not = _constant("logical_not")
floor_divide = _constant("floor_divide")
arange = _constant("arange")


def _like(fill):
    def like(x, dtype=None, shape=None):
        d = x._data if isinstance(x, Tensor) else _np.asarray(x)
        xp = xp_of(d)
        return _make(xp.full(d.shape if shape is None else shape, fill, dtype or d.dtype))

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
    return _OPS["sum"](_t(x), dim=axis, keepdim=keepdims, dtype=dtype)


def mean(x, axis=None, keepdims=False):
    return _OPS["mean"](_t(x), dim=axis, keepdim=keepdims)


def amax(x, axis=None, keepdims=False):
    return _OPS["amax"](_t(x), dim=() if axis is None else axis, keepdim=keepdims)


max = amax


def cumsum(x, axis=None):
    return _OPS["cumsum"](_t(x), axis)


def matmul(a, b):
    return _OPS["matmul"](_t(a), _t(b))


def einsum(equation, *operands, optimize=False):
    return _OPS["einsum"](equation, *[_t(o) for o in operands])


def outer(a, b):
    return _OPS["outer"](_t(a), _t(b))


# --- shapes --------------------------------------------------------------------------------
def reshape(x, shape):
    return _OPS["reshape"](_t(x), shape)


def broadcast_to(x, shape):
    return _OPS["broadcast_to"](_t(x), tuple(shape))


def transpose(x, axes=None):
    x = _t(x)
    return _OPS["permute"](x, *(range(x.ndim)[::-1] if axes is None else axes))


def swapaxes(x, a, b):
    return _OPS["transpose"](_t(x), a, b)


def moveaxis(x, source, destination):
    return _OPS["movedim"](_t(x), source, destination)


def expand_dims(x, axis):
    x = _t(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = x.ndim + len(axes)
    for a in sorted(a % n for a in axes):
        x = _OPS["unsqueeze"](x, a)
    return x


def squeeze(x, axis=None):
    return _OPS["squeeze"](_t(x), axis)


def concatenate(arrays, axis=0):
    return _OPS["cat"]([_t(a) for a in arrays], dim=axis)


def stack(arrays, axis=0):
    return _OPS["stack"]([_t(a) for a in arrays], dim=axis)


def flip(x, axis):
    return _OPS["flip"](_t(x), (axis,) if isinstance(axis, int) else axis)


def roll(x, shift, axis=None):
    shift = (shift,) if isinstance(shift, int) else tuple(shift)
    return _OPS["roll"](_t(x), shift, axis)


def tril(x, k=0):
    return _OPS["tril"](_t(x), k)


def triu(x, k=0):
    return _OPS["triu"](_t(x), k)


def take_along_axis(x, indices, axis):
    idx = indices._data if isinstance(indices, Tensor) else indices
    return _OPS["gather"](_t(x), axis, _make(_np.asarray(idx)))
