"""ONNX indexing ops: Gather, GatherElements, GatherND, ScatterElements, ScatterND, OneHot,
NonZero, Compress, Trilu."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, axis_of, const, ints, is_float, to_value


def _index(idx, dim):
    i = arr(idx).astype(np.int64)
    return np.where(i < 0, i + dim, i)


@onnx_op("Gather")
def gather(inputs, attrs, ctx):
    x, idx = inputs
    axis = axis_of(attrs.get("axis", 0), x.ndim, ctx)
    i = _index(idx, x.shape[axis])
    if not isinstance(x, axonic.Tensor):
        return np.take(x, i, axis=axis)
    if i.ndim == 0:  # a scalar index drops the axis
        i = int(i)
    return x[(slice(None),) * axis + (i,)]


@onnx_op("GatherElements", since=11)
def gather_elements(inputs, attrs, ctx):
    x, idx = inputs
    axis = axis_of(attrs.get("axis", 0), x.ndim, ctx)
    i = _index(idx, x.shape[axis])
    if is_float(x):
        return axonic.gather(x, axis, to_value(i))
    return const(np.take_along_axis(arr(x), i, axis))


@onnx_op("GatherND", since=11)
def gather_nd(inputs, attrs, ctx):
    x, idx = inputs
    b = attrs.get("batch_dims", 0)
    i = arr(idx).astype(np.int64)
    m = i.shape[-1]
    batch = x.shape[:b]
    nb = int(np.prod(batch, dtype=np.int64))
    xs = x.reshape(nb, *x.shape[b:])
    ii = i.reshape(nb, -1, m)
    dims = np.array(x.shape[b:b + m])
    ii = np.where(ii < 0, ii + dims, ii)
    bi = np.repeat(np.arange(nb), ii.shape[1]).reshape(nb, -1)
    key = (bi,) + tuple(ii[..., k] for k in range(m))
    out = xs[key] if isinstance(xs, axonic.Tensor) else arr(xs)[key]
    shape = tuple(batch) + tuple(i.shape[b:-1]) + tuple(x.shape[b + m:])
    return out.reshape(*shape) if isinstance(out, axonic.Tensor) else to_value(out.reshape(shape))


def _reduce_into(data, key, upd, reduction):
    if reduction == "none":
        data[key] = upd
    else:
        fn = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}
        fn[reduction].at(data, key, upd)


@onnx_op("ScatterElements", "Scatter", since=9)
def scatter_elements(inputs, attrs, ctx):
    x, idx, upd = inputs
    axis = axis_of(attrs.get("axis", 0), x.ndim, ctx)
    data = arr(x).copy()
    i = _index(idx, x.shape[axis])
    key = list(np.indices(i.shape, sparse=True))
    key[axis] = i
    _reduce_into(data, tuple(key), arr(upd), attrs.get("reduction", "none"))
    return const(data)


@onnx_op("ScatterND", since=11)
def scatter_nd(inputs, attrs, ctx):
    x, idx, upd = inputs
    data = arr(x).copy()
    i = arr(idx).astype(np.int64)
    key = tuple(np.moveaxis(i, -1, 0))
    _reduce_into(data, key, arr(upd), attrs.get("reduction", "none"))
    return const(data)


@onnx_op("OneHot", since=9)
def one_hot(inputs, attrs, ctx):
    idx, depth, values = inputs
    d = int(np.asarray(arr(depth)).reshape(-1)[0])
    i = arr(idx).astype(np.int64)
    i = np.where(i < 0, i + d, i)
    axis = attrs.get("axis", -1)
    axis = axis % (i.ndim + 1)
    hot = np.moveaxis(np.arange(d) == i[..., None], -1, axis)
    off, on = arr(values)
    return const(np.where(hot, on, off).astype(arr(values).dtype))


@onnx_op("NonZero", since=9)
def nonzero(inputs, attrs, ctx):
    return to_value(np.array(np.nonzero(arr(inputs[0])), dtype=np.int64).reshape(
        arr(inputs[0]).ndim, -1))


@onnx_op("Compress", since=9)
def compress(inputs, attrs, ctx):
    x, cond = inputs
    keep = np.nonzero(arr(cond))[0]
    if "axis" not in attrs:
        x = x.reshape(-1)
        axis = 0
    else:
        axis = axis_of(attrs["axis"], x.ndim, ctx)
    keep = keep[keep < x.shape[axis]]
    return x[(slice(None),) * axis + (keep,)]


@onnx_op("Trilu", since=14)
def trilu(inputs, attrs, ctx):
    x = inputs[0]
    k = ints(inputs[1])[0] if len(inputs) > 1 and inputs[1] is not None else 0
    a = arr(x)
    n, m = a.shape[-2:]
    rows, cols = np.arange(n)[:, None], np.arange(m)[None, :]
    keep = cols - rows >= k if attrs.get("upper", 1) else cols - rows <= k
    if is_float(x):
        return x * to_value(keep.astype(a.dtype))
    return const(np.where(keep, a, 0).astype(a.dtype))
