"""ONNX reductions (ReduceX, ArgMax/ArgMin, CumSum, TopK). ``axes`` is an attribute before
opset 13 (ReduceSum) or 18 (the others) and an input from then on."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, axis_of, const, ints, is_float, scalar, to_value

_FLOAT = {
    "ReduceSum": lambda x, d, k: axonic.sum(x, d, keepdim=k),
    "ReduceMean": lambda x, d, k: axonic.mean(x, d, keepdim=k),
    "ReduceMax": lambda x, d, k: axonic.amax(x, d, keepdim=k),
    "ReduceMin": lambda x, d, k: axonic.amin(x, d, keepdim=k),
    "ReduceProd": lambda x, d, k: _prod(x, d, k),
    "ReduceL1": lambda x, d, k: axonic.sum(axonic.abs(x), d, keepdim=k),
    "ReduceL2": lambda x, d, k: axonic.sqrt(axonic.sum(x * x, d, keepdim=k)),
    "ReduceSumSquare": lambda x, d, k: axonic.sum(x * x, d, keepdim=k),
    "ReduceLogSum": lambda x, d, k: axonic.log(axonic.sum(x, d, keepdim=k)),
    "ReduceLogSumExp": lambda x, d, k: axonic.logsumexp(x, d, keepdim=k),
}
def _prod(x, dims, keep):
    # axonic.prod reduces only the first axis of a tuple: one axis at a time, last first
    for d in sorted(dims, reverse=True):
        x = axonic.prod(x, d, keepdim=keep)
    return x


_NUMPY = {
    "ReduceSum": np.sum, "ReduceMean": np.mean, "ReduceMax": np.max, "ReduceMin": np.min,
    "ReduceProd": np.prod, "ReduceL1": lambda a, axis, keepdims: np.sum(np.abs(a), axis,
                                                                         keepdims=keepdims),
    "ReduceL2": lambda a, axis, keepdims: np.sqrt(np.sum(a * a, axis, keepdims=keepdims)),
    "ReduceSumSquare": lambda a, axis, keepdims: np.sum(a * a, axis, keepdims=keepdims),
    "ReduceLogSum": lambda a, axis, keepdims: np.log(np.sum(a, axis, keepdims=keepdims)),
    "ReduceLogSumExp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis,
                                                               keepdims=keepdims)),
}
_EMPTY = {"ReduceMax": -np.inf, "ReduceMin": np.inf, "ReduceLogSum": -np.inf,
          "ReduceLogSumExp": -np.inf, "ReduceProd": 1}


def _reduce(name, x, axes, keep, noop, ctx):
    if not axes:
        if noop:
            return x
        axes = list(range(x.ndim))
    axes = tuple(sorted(axis_of(a, x.ndim, ctx) for a in axes))
    if 0 in [x.shape[a] for a in axes]:  # reductions over nothing give the identity element
        a = arr(x)
        shape = [1 if i in axes else s for i, s in enumerate(a.shape)]
        if not keep:
            shape = [s for i, s in enumerate(a.shape) if i not in axes]
        fill = _EMPTY.get(name, 0)
        if a.dtype == bool and name in ("ReduceMax", "ReduceMin"):
            fill = name == "ReduceMin"
        return const(np.full(shape, fill, dtype=a.dtype))
    if is_float(x):
        return _FLOAT[name](x, axes, bool(keep))
    a = arr(x)
    return const(np.asarray(_NUMPY[name](a, axis=axes, keepdims=bool(keep))).astype(a.dtype))


def _attr_axes(name):
    return lambda i, a, c: _reduce(name, i[0], a.get("axes"), a.get("keepdims", 1), 0, c)


def _input_axes(name):
    def run(inputs, attrs, ctx):
        axes = ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else []
        return _reduce(name, inputs[0], axes, attrs.get("keepdims", 1),
                       attrs.get("noop_with_empty_axes", 0), ctx)
    return run


for _name in _FLOAT:
    _v = 13 if _name == "ReduceSum" else 18
    onnx_op(_name, until=_v - 1)(_attr_axes(_name))
    onnx_op(_name, since=_v)(_input_axes(_name))


def _arg(fn):
    def run(inputs, attrs, ctx):
        a = arr(inputs[0])
        axis = axis_of(attrs.get("axis", 0), a.ndim, ctx)
        if attrs.get("select_last_index", 0):
            idx = a.shape[axis] - 1 - fn(np.flip(a, axis), axis=axis)
        else:
            idx = fn(a, axis=axis)
        if attrs.get("keepdims", 1):
            idx = np.expand_dims(idx, axis)
        return to_value(idx.astype(np.int64))
    return run


onnx_op("ArgMax")(_arg(np.argmax))
onnx_op("ArgMin")(_arg(np.argmin))


@onnx_op("CumSum", since=11)
def cumsum(inputs, attrs, ctx):
    x = inputs[0]
    axis = axis_of(int(scalar(inputs[1])), x.ndim, ctx)
    exclusive, reverse = attrs.get("exclusive", 0), attrs.get("reverse", 0)
    if not is_float(x):
        a = np.flip(arr(x), axis) if reverse else arr(x)
        out = np.cumsum(a, axis)
        if exclusive:
            out = out - a
        return const(np.flip(out, axis) if reverse else out, like=x)
    y = axonic.flip(x, (axis,)) if reverse else x
    out = axonic.cumsum(y, axis)
    if exclusive:
        out = out - y
    return axonic.flip(out, (axis,)) if reverse else out


@onnx_op("TopK")
def topk(inputs, attrs, ctx):
    x = inputs[0]
    k = attrs["k"] if ctx.opset < 10 else int(scalar(inputs[1]))
    axis = axis_of(attrs.get("axis", -1), x.ndim, ctx)
    a = arr(x)
    largest = attrs.get("largest", 1)
    # a stable sort so that ties keep the lower index first, as the reference does
    order = np.argsort(-a if largest else a, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    values = axonic.gather(x, axis, to_value(idx)) if is_float(x) else \
        const(np.take_along_axis(a, idx, axis))
    return values, to_value(idx.astype(np.int64))
