"""Reductions with PyTorch's ``dim`` / ``keepdim`` (NumPy's ``axis`` / ``keepdims`` accepted):
sum mean var std max min amax amin prod logsumexp, and argmax argmin (no gradient)."""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._spec import TORCH, OpSpec, away_from
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


class Cumsum(Function):
    saves_inputs = False  # backward needs only the axis

    def forward(self, x, axis):
        self.axis = axis
        return get_array_module(x).cumsum(x, axis=axis)

    def backward(self, g):
        # each input feeds every later output: the reversed cumulative sum of the gradient
        xp, axis = self.xp, self.axis
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


class Norm2(Function):
    """The Euclidean norm; at the zero vector the gradient is 0 (a subgradient), as PyTorch."""

    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        out = get_array_module(x).sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        self.save_for_backward(x, out)
        return out

    def backward(self, g):
        x, out = self.saved_tensors
        xp = self.xp
        if not self.keepdim and self.axes is not None:
            out, g = xp.expand_dims(out, self.axes), xp.expand_dims(g, self.axes)
        safe = xp.where(out == 0, 1, out)
        return xp.where(out == 0, 0, g / safe) * x


# --- the public functions --------------------------------------------------------------


def _float(x):
    return x.to(get_default_dtype()) if x.data.dtype.kind in "biu" else x


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
    elif input.data.dtype.kind == "b":
        input = input.to(np.int64)
    return Sum.apply(input, axes=axes, keepdim=keepdim)


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    axes = norm_dim(dim_arg(dim, axis, "mean"), input.ndim, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input.data.dtype.kind not in "fc":
        raise TypeError(
            f"mean: input dtype must be floating point, got {input.dtype.name}; "
            "pass dtype=axonic.float32 or convert with .float()"
        )
    return Mean.apply(input, axes=axes, keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Variance with Bessel's correction by default (``correction=1``), as PyTorch.

    >>> import axonic
    >>> axonic.tensor([1.0, 2.0, 3.0]).var(), axonic.tensor([1.0, 2.0, 3.0]).var(correction=0)
    (tensor(1.), tensor(0.6667))
    """
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "var")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_dim(dim, input.ndim, "var")
    n = input.data.size if axes is None else int(np.prod([input.shape[a] for a in axes]))
    x = _float(input)
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    return var(input, dim, unbiased, keepdim, correction=correction, axis=axis,
               keepdims=keepdims).sqrt()


def _max_min(input, dim, keepdim, largest, name):
    if dim is None:
        if input.data.size == 0:
            raise RuntimeError(f"{name}(): cannot reduce an empty tensor without dim")
        return (Amax if largest else Amin).apply(input, axes=None, keepdim=False)
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from axonic.ops.arithmetic import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
    (axis,) = norm_dim(dim, input.ndim, name)
    idx = (input.data.argmax if largest else input.data.argmin)(axis=axis)
    values = SelectAlongDim.apply(input, idx, axis, keepdim)
    xp = get_array_module(idx)
    return values_indices(values, _make(xp.expand_dims(idx, axis) if keepdim else idx))


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


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    return _max_min(input, dim_arg(dim, axis, "min"), keepdim, False, "min")


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    """Maximum over ``dim`` (all dims when empty); ties share the gradient evenly."""
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "amax")
    axes = None if dim == () or dim is None else norm_dim(dim, input.ndim, "amax")
    return Amax.apply(input, axes=axes, keepdim=keepdim)


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "amin")
    axes = None if dim == () or dim is None else norm_dim(dim, input.ndim, "amin")
    return Amin.apply(input, axes=axes, keepdim=keepdim)


def prod(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "prod")
    axis_ = None if dim is None else norm_dim(dim, input.ndim, "prod")[0]
    return Prod.apply(input, axis=axis_, keepdim=keepdim)


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


def cumsum(input, dim, dtype=None):
    """Running sum along ``dim``.

    >>> import axonic
    >>> axonic.tensor([1.0, 2.0, 3.0]).cumsum(0)
    tensor([1., 3., 6.])
    """
    (axis,) = norm_dim(dim, input.ndim, "cumsum")
    if dtype is not None:
        input = input.to(dtype)
    elif input.data.dtype.kind == "b":
        input = input.to(np.int64)
    return Cumsum.apply(input, axis=axis)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (all elements by default): p = 2 or "fro", 1, inf,
    -inf or any other positive number.

    >>> import axonic
    >>> axonic.tensor([3.0, 4.0]).norm(), axonic.tensor([3.0, -4.0]).norm(1)
    (tensor(5.), tensor(7.))
    """
    from axonic.ops.elementwise import abs

    if dtype is not None:
        input = input.to(dtype)
    x = _float(input)
    axes = norm_dim(dim, x.ndim, "norm")
    if p in ("fro", 2):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(abs(x), () if axes is None else axes, keepdim)
    if p == float("-inf"):
        return amin(abs(x), () if axes is None else axes, keepdim)
    if not isinstance(p, int | float) or p <= 0:
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    if p == 1:
        return sum(abs(x), axes, keepdim)
    return sum(abs(x) ** p, axes, keepdim) ** (1.0 / p)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one call."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(_float(input), dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(_float(input), dim, keepdim))


def count_nonzero(input, dim=None):
    axes = norm_dim(dim, input.ndim, "count_nonzero")
    xp = get_array_module(input.data)
    return _make(xp.asarray(xp.count_nonzero(input.data, axis=axes)).astype(np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    xp = get_array_module(input.data)
    if dim is None:
        return _make(xp.asarray(input.data.argmax()))
    (axis,) = norm_dim(dim, input.ndim, "argmax")
    out = input.data.argmax(axis=axis)
    return _make(xp.expand_dims(out, axis) if keepdim else out)


def argmin(input, dim=None, keepdim=False):
    xp = get_array_module(input.data)
    if dim is None:
        return _make(xp.asarray(input.data.argmin()))
    (axis,) = norm_dim(dim, input.ndim, "argmin")
    out = input.data.argmin(axis=axis)
    return _make(xp.expand_dims(out, axis) if keepdim else out)


def all(input, dim=None, keepdim=False):
    axes = norm_dim(dim, input.ndim, "all")
    return _make(get_array_module(input.data).asarray(input.data.all(axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    axes = norm_dim(dim, input.ndim, "any")
    return _make(get_array_module(input.data).asarray(input.data.any(axis=axes, keepdims=keepdim)))


def _distinct(r, shape=(3, 4)):
    n = int(np.prod(shape))
    return (r.permutation(n).reshape(shape) / n * 4 - 2 + r.uniform(0, 0.01, shape),)


def _np_var(a, axis=None, ddof=1, keepdims=False):
    return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


_PROD_WHY = "the backward's exclusive products (exact with zeros) use cumprod"

SPECS = [
    OpSpec("cumsum", lambda a: cumsum(a, 1), lambda a: np.cumsum(a, 1),
           [((3, 4),), ((2, 0),), ((2, 3, 4),)], lambda a: a.cumsum(1)),
    OpSpec("norm", norm, np.linalg.norm, [((3, 4),), ((5,),)], lambda a: a.norm()),
    OpSpec("norm_dim_keepdim", lambda a: norm(a, 2, 1, keepdim=True),
           lambda a: np.linalg.norm(a, axis=1, keepdims=True), [((3, 4),)],
           lambda a: a.norm(2, 1, keepdim=True)),
    OpSpec("norm_zero_row", lambda a: norm(a, dim=1), lambda a: np.linalg.norm(a, axis=1),
           [lambda r: (np.array([[0.0, 0.0], [3.0, 4.0]]),)], lambda a: a.norm(dim=1),
           gradcheck=False),
    OpSpec("norm_p1", lambda a: norm(a, 1, 0), lambda a: np.abs(a).sum(0),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),)], lambda a: a.norm(1, 0)),
    OpSpec("norm_p3", lambda a: norm(a, 3), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),)], lambda a: a.norm(3)),
    OpSpec("norm_inf", lambda a: norm(a, float("inf"), 1), lambda a: np.abs(a).max(1),
           [_distinct], lambda a: a.norm(float("inf"), 1)),
    OpSpec("var_mean", lambda a: var_mean(a, 1)[0] + var_mean(a, 1)[1],
           lambda a: a.var(1, ddof=1) + a.mean(1), [((3, 4),)],
           lambda a: TORCH.var_mean(a, 1)[0] + TORCH.var_mean(a, 1)[1]),
    OpSpec("sum", sum, np.sum, [((3, 4),), ((),), ((0, 3),), ((2, 3, 4),)], lambda a: a.sum()),
    OpSpec("sum_dim", lambda a: sum(a, 1), lambda a: a.sum(1), [((3, 4),), ((2, 3, 4),), ((0, 3),)],
           lambda a: a.sum(1)),
    OpSpec("sum_dims_keepdim", lambda a: sum(a, (0, 2), keepdim=True),
           lambda a: a.sum((0, 2), keepdims=True), [((2, 3, 4),)],
           lambda a: a.sum((0, 2), keepdim=True)),
    OpSpec("mean", mean, np.mean, [((3, 4),), ((),)], lambda a: a.mean()),
    OpSpec("mean_dim", lambda a: mean(a, -1, keepdim=True), lambda a: a.mean(-1, keepdims=True),
           [((3, 4),), ((2, 3, 4),)], lambda a: a.mean(-1, keepdim=True)),
    OpSpec("var", var, lambda a: np.var(a, ddof=1), [((3, 4),)], lambda a: a.var()),
    OpSpec("var_dim_biased", lambda a: var(a, 1, unbiased=False), lambda a: np.var(a, 1),
           [((3, 4),)], lambda a: a.var(1, unbiased=False)),
    OpSpec("std", lambda a: std(a, 0), lambda a: np.std(a, 0, ddof=1), [((5, 3),)],
           lambda a: a.std(0)),
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
