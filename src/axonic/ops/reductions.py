"""Reductions with PyTorch's ``dim`` / ``keepdim`` (NumPy's ``axis`` / ``keepdims`` accepted):
sum mean amax amin prod logsumexp, and count_nonzero all any (no gradient). ``max``/``min``
with their indices and ``argmax``/``argmin`` are in ``max_min.py``, ``cumsum`` in
``cumulative.py``, ``var``/``std`` in ``statistics.py``."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import dim_arg, norm_dim


def _expand_back(xp, g, shape, axes, keepdim):
    """Undo a reduction's shape change: reinsert the reduced axes, then broadcast."""
    if axes is None:
        return xp.broadcast_to(g.reshape((1,) * len(shape)), shape)
    if not keepdim:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


class Sum(Function):

    def forward(self, x, axes=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(self.xp, g, self.shape, self.axes, self.keepdim)

    def to_onnx(self, g, x, axes=None, keepdim=False):
        return g.reduce("ReduceSum", x, axes, keepdim)


class Mean(Function):

    def forward(self, x, axes=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.n = n
        if n == 0:  # the mean of nothing is nan, as in PyTorch (and without NumPy's warning)
            return get_array_module(x).full_like(x.sum(axis=axes, keepdims=keepdim), np.nan)
        return x.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(self.xp, g / self.n if self.n else g, self.shape, self.axes,
                            self.keepdim)

    def to_onnx(self, g, x, axes=None, keepdim=False):
        return g.reduce("ReduceMean", x, axes, keepdim)


class Amax(Function):
    """Maximum over ``axes``; ties share the gradient evenly (PyTorch's amax rule)."""

    use_max = True

    def forward(self, x, axes=None, keepdim=False):
        self.axes, self.keepdim = axes, keepdim
        out = x.max(axis=axes, keepdims=keepdim) if self.use_max else x.min(
            axis=axes, keepdims=keepdim)
        self.save_for_backward(x, out)
        return out

    def backward(self, g):
        x, out = self.saved_tensors
        xp, axes = self.xp, self.axes
        mask = x == _expand_back(xp, out, x.shape, axes, self.keepdim)
        count = mask.sum(axis=axes, keepdims=True)
        return _expand_back(xp, g, x.shape, axes, self.keepdim) * mask / count

    def to_onnx(self, g, x, axes=None, keepdim=False):
        return g.reduce("ReduceMin" if self.__class__ is Amin else "ReduceMax", x, axes,
                        keepdim)


class Amin(Amax):
    use_max = False


class Prod(Function):
    # backward takes exclusive products through cumprod, which has no differentiable form here
    double_backward = False

    def forward(self, x, axis=None, keepdim=False):
        self.axis, self.keepdim = axis, keepdim
        self.save_for_backward(x)
        return x.prod(axis=axis, keepdims=keepdim)

    def backward(self, g):
        (x,) = self.saved_tensors
        axis = self.axis
        if axis is None:
            flat = x.reshape(-1)
            return (g * _prod_others(flat, 0)).reshape(x.shape)
        if not self.keepdim:
            g = get_array_module(g).expand_dims(g, axis)
        return g * _prod_others(x, axis)

    def to_onnx(self, g, x, axis=None, keepdim=False):
        return g.reduce("ReduceProd", x, None if axis is None else [axis], keepdim)


def _prod_others(x, axis):
    """For each element, the product of the others along ``axis`` (exact with zeros)."""
    xp = get_array_module(x)
    x = xp.moveaxis(x, axis, -1)
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([x[..., 1:], ones], axis=-1), -1), -1),
                    -1)
    return xp.moveaxis(left * right, -1, axis)


class LogSumExp(Function):
    def forward(self, x, axes, keepdim=False):
        self.axes, self.keepdim = axes, keepdim
        xp = get_array_module(x)
        if x.size == 0:  # the log of an empty sum is -inf, as in PyTorch (max has no identity)
            out = xp.full_like(x.sum(axis=axes, keepdims=True), -np.inf)
        else:
            m = x.max(axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows give -inf, not nan
            with np.errstate(divide="ignore"):
                out = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        out = out if keepdim else out.squeeze(axes)
        self.save_for_backward(x, out)
        return out

    def backward(self, g):
        x, out = self.saved_tensors
        xp = self.xp
        if not self.keepdim:
            g, out = xp.expand_dims(g, self.axes), xp.expand_dims(out, self.axes)
        return g * xp.exp(x - out)

    def to_onnx(self, g, x, axes, keepdim=False):
        return g.reduce("ReduceLogSumExp", x, axes, keepdim)


# --- the public functions --------------------------------------------------------------


def _float(x):
    return x.to(get_default_dtype()) if x._data.dtype.kind in "biu" else x


@op(methods=("sum",))
def sum(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Sum over ``dim`` (an int, a tuple, or None for all).

    >>> import axonic
    >>> x = axonic.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.sum(), x.sum(0), x.sum(1, keepdim=True).shape
    (tensor(10.), tensor([4., 6.]), (2, 1))
    """
    keepdim = keepdims if keepdims is not None else keepdim
    axes = norm_dim(dim_arg(dim, axis, "sum"), input.ndim, "sum")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind == "b":
        input = input.to(np.int64)
    return Sum.apply(input, axes=axes, keepdim=keepdim)


@op(methods=("mean",))
def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    axes = norm_dim(dim_arg(dim, axis, "mean"), input.ndim, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise TypeError(
            f"mean: input dtype must be floating point, got {input.dtype.name}; "
            "pass dtype=axonic.float32 or convert with .float()"
        )
    return Mean.apply(input, axes=axes, keepdim=keepdim)


@op(methods=("amax",))
def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Maximum over ``dim`` (all dims when empty); ties share the gradient evenly."""
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "amax")
    axes = None if dim == () or dim is None else norm_dim(dim, input.ndim, "amax")
    return Amax.apply(input, axes=axes, keepdim=keepdim)


@op(methods=("amin",))
def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "amin")
    axes = None if dim == () or dim is None else norm_dim(dim, input.ndim, "amin")
    return Amin.apply(input, axes=axes, keepdim=keepdim)


@op(methods=("prod",))
def prod(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "prod")
    if isinstance(dim, tuple | list):  # reducing only the first would be silently wrong
        raise TypeError(f"prod: dim must be one int (as in PyTorch, one dimension at a "
                        f"time), got {tuple(dim)!r}")
    axis_ = None if dim is None else norm_dim(dim, input.ndim, "prod")[0]
    return Prod.apply(input, axis=axis_, keepdim=keepdim)


@op(methods=("logsumexp",))
def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow.

    >>> import axonic
    >>> axonic.tensor([1000.0, 1000.0]).logsumexp(0)
    tensor(1000.6932)
    """
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "logsumexp")
    axes = norm_dim(dim, input.ndim, "logsumexp") if dim is not None else tuple(range(input.ndim))
    return LogSumExp.apply(_float(input), axes=axes, keepdim=keepdim)


@op(methods=("count_nonzero",))
def count_nonzero(input, dim=None):
    axes = norm_dim(dim, input.ndim, "count_nonzero")
    xp = get_array_module(input._data)
    return _make(xp.asarray(xp.count_nonzero(input._data, axis=axes)).astype(np.int64))


@op(methods=("all",))
def all(input, dim=None, keepdim=False):
    axes = norm_dim(dim, input.ndim, "all")
    a = input._data
    return _make(get_array_module(a).asarray(a.all(axis=axes, keepdims=keepdim)))


@op(methods=("any",))
def any(input, dim=None, keepdim=False):
    axes = norm_dim(dim, input.ndim, "any")
    a = input._data
    return _make(get_array_module(a).asarray(a.any(axis=axes, keepdims=keepdim)))


def _distinct(r, shape=(3, 4)):
    n = int(np.prod(shape))
    return (r.permutation(n).reshape(shape) / n * 4 - 2 + r.uniform(0, 0.01, shape),)


_PROD_WHY = "the backward's exclusive products (exact with zeros) use cumprod"

SPECS = [
    OpSpec("sum", sum, np.sum, [((3, 4),), ((),), ((0, 3),), ((2, 3, 4),)], lambda a: a.sum()),
    OpSpec("sum_dim", lambda a: sum(a, 1), lambda a: a.sum(1), [((3, 4),), ((2, 3, 4),), ((0, 3),)],
           lambda a: a.sum(1)),
    OpSpec("sum_dims_keepdim", lambda a: sum(a, (0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), [((2, 3, 4),)],
           lambda a: a.sum((0, 2), keepdim=True)),
    OpSpec("mean", mean, np.mean, [((3, 4),), ((),)], lambda a: a.mean()),
    OpSpec("mean_dim", lambda a: mean(a, -1, keepdim=True), lambda a: a.mean(-1, keepdims=True),
           [((3, 4),), ((2, 3, 4),)], lambda a: a.mean(-1, keepdim=True)),
    OpSpec("amax", lambda a: amax(a, 1), lambda a: a.max(1), [_distinct], lambda a: a.amax(1)),
    OpSpec("amax_ties_share_gradient", lambda a: amax(a, 1), lambda a: a.max(1),
           [lambda r: (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),)], lambda a: a.amax(1),
           gradcheck=False),
    OpSpec("amin", lambda a: amin(a, (0, 1)), lambda a: a.min((0, 1)), [_distinct],
           lambda a: a.amin((0, 1))),
    OpSpec("prod", prod, np.prod, [((2, 3),), lambda r: (np.array([2.0, 0.0, 3.0, -1.5]),)],
           lambda a: a.prod(), no_gradgrad=_PROD_WHY),
    OpSpec("prod_dim", lambda a: prod(a, 1), lambda a: a.prod(1),
           [((3, 4),), lambda r: (np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]]),)],
           lambda a: a.prod(1), no_gradgrad=_PROD_WHY),
    OpSpec("logsumexp", lambda a: logsumexp(a, 1), lambda a: np.log(np.exp(a).sum(1)),
           [((3, 4),), ((2, 3, 4),)], lambda a: a.logsumexp(1)),
    OpSpec("logsumexp_large", lambda a: logsumexp(a, 0),
           lambda a: a.max() + np.log(np.exp(a - a.max()).sum(0)),
           [lambda r: (np.array([1000.0, 1000.0, 999.0]),)], lambda a: a.logsumexp(0)),
]
