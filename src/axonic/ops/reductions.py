"""Reductions with PyTorch's ``dim`` / ``keepdim`` (NumPy's ``axis`` / ``keepdims`` accepted):
sum mean var std max min amax amin prod logsumexp, and argmax argmin (no gradient)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import dim_arg, norm_dim

values_indices = namedtuple("values_indices", ["values", "indices"])


def _expand_back(xp, g, shape, axes, keepdim):
    """Undo a reduction's shape change: reinsert the reduced axes, then broadcast."""
    if axes is None:
        return xp.broadcast_to(g.reshape((1,) * len(shape)), shape)
    if not keepdim:
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, shape)


class Sum(Function):
    saves_inputs = False  # backward needs only the shape

    def forward(self, x, axes=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_back(self.xp, g, self.shape, self.axes, self.keepdim)

    def to_onnx(self, g, x, axes=None, keepdim=False):
        return g.reduce("ReduceSum", x, axes, keepdim)


class Mean(Function):
    saves_inputs = False  # backward needs only the shape

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


class SelectAlongDim(Function):
    """Values picked at ``index`` along one axis (max/min with ``dim``); the gradient goes
    to exactly those positions."""

    saves_inputs = False  # backward needs only the index

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

    saves_inputs = False

    def forward(self, g, index, axis, keepdim, shape):
        self.index, self.axis, self.keepdim = index, axis, keepdim
        return _put_along(g, index, axis, keepdim, shape)

    def backward(self, gg):
        args = (self.index, self.axis, self.keepdim)
        if self._graph_mode:
            return SelectAlongDim.apply(gg, *args)
        return _take_along(gg, *args)


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


class Cumsum(Function):
    saves_inputs = False  # backward needs only the axis

    def forward(self, x, axis):
        self.axis = axis
        return get_array_module(x).cumsum(x, axis=axis)

    def backward(self, g):
        # each input feeds every later output: the reversed cumulative sum of the gradient
        xp, axis = self.xp, self.axis
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)

    def to_onnx(self, g, x, axis):
        return g.op("CumSum", x, g.const(int(axis), np.int64))


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


@op(methods=("count_nonzero",))
def count_nonzero(input, dim=None):
    axes = norm_dim(dim, input.ndim, "count_nonzero")
    xp = get_array_module(input._data)
    return _make(xp.asarray(xp.count_nonzero(input._data, axis=axes)).astype(np.int64))


@op(methods=("argmax",))
def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    xp = get_array_module(input._data)
    if dim is None:
        return _make(xp.asarray(input._data.argmax()))
    (axis,) = norm_dim(dim, input.ndim, "argmax")
    out = input._data.argmax(axis=axis)
    return _make(xp.expand_dims(out, axis) if keepdim else out)


@op(methods=("argmin",))
def argmin(input, dim=None, keepdim=False):
    xp = get_array_module(input._data)
    if dim is None:
        return _make(xp.asarray(input._data.argmin()))
    (axis,) = norm_dim(dim, input.ndim, "argmin")
    out = input._data.argmin(axis=axis)
    return _make(xp.expand_dims(out, axis) if keepdim else out)


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
    OpSpec("cumsum", lambda a: cumsum(a, 1), lambda a: np.cumsum(a, 1),
           [((3, 4),), ((2, 0),), ((2, 3, 4),)], lambda a: a.cumsum(1)),
    OpSpec("sum", sum, np.sum, [((3, 4),), ((),), ((0, 3),), ((2, 3, 4),)], lambda a: a.sum()),
    OpSpec("sum_dim", lambda a: sum(a, 1), lambda a: a.sum(1), [((3, 4),), ((2, 3, 4),), ((0, 3),)],
           lambda a: a.sum(1)),
    OpSpec("sum_dims_keepdim", lambda a: sum(a, (0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), [((2, 3, 4),)],
           lambda a: a.sum((0, 2), keepdim=True)),
    OpSpec("mean", mean, np.mean, [((3, 4),), ((),)], lambda a: a.mean()),
    OpSpec("mean_dim", lambda a: mean(a, -1, keepdim=True), lambda a: a.mean(-1, keepdims=True),
           [((3, 4),), ((2, 3, 4),)], lambda a: a.mean(-1, keepdim=True)),
    OpSpec("max", max, np.max, [_distinct], lambda a: a.max()),
    OpSpec("max_dim", lambda a: max(a, 1).values, lambda a: a.max(1), [_distinct],
           lambda a: a.max(1).values),
    OpSpec("min_dim_keepdim", lambda a: min(a, 0, keepdim=True).values,
           lambda a: a.min(0, keepdims=True), [_distinct], lambda a: a.min(0, keepdim=True).values),
    OpSpec("min", min, np.min, [_distinct], lambda a: a.min()),
    OpSpec("amax", lambda a: amax(a, 1), lambda a: a.max(1), [_distinct], lambda a: a.amax(1)),
    OpSpec("amax_ties_share_gradient", lambda a: amax(a, 1), lambda a: a.max(1),
           [lambda r: (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),)], lambda a: a.amax(1),
           gradcheck=False),
    OpSpec("max_ties_share_gradient", max, np.max,
           [lambda r: (np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]]),)], lambda a: a.max(),
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
