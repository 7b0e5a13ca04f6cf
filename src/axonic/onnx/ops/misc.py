"""Other ONNX ops a network uses: Einsum, Dropout, Swish, the two classification losses,
ReverseSequence, CumProd, MaxUnpool, Unique, Det, CenterCropPad, window functions."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import (
    arr,
    axis_of,
    const,
    is_float,
    onnx_dtype,
    scalar,
    to_value,
)


@onnx_op("Einsum", since=12)
def einsum(inputs, attrs, ctx):
    eq = attrs["equation"].replace(" ", "")
    if all(is_float(x) for x in inputs):
        return axonic.einsum(eq, *inputs)
    return const(np.einsum(eq, *[arr(x) for x in inputs]))


@onnx_op("Dropout")
def dropout(inputs, attrs, ctx):
    x = inputs[0]
    training = bool(scalar(inputs[2])) if len(inputs) > 2 and inputs[2] is not None else False
    ratio = float(scalar(inputs[1])) if len(inputs) > 1 and inputs[1] is not None else \
        attrs.get("ratio", 0.5)
    if training and ratio > 0:
        y = F.dropout(x, ratio, training=True)
        mask = to_value(arr(y) != 0)
    else:
        y, mask = x, to_value(np.ones(x.shape, dtype=bool))
    return (y, mask) if len(ctx.outputs) > 1 else y


@onnx_op("Swish", since=24)
def swish(inputs, attrs, ctx):
    x = inputs[0]
    return x * axonic.sigmoid(attrs.get("alpha", 1.0) * x)


def _weighted_nll(logp, target, weight, reduction, ignore):
    """NLL of ``logp (N, C, ...)`` at integer ``target (N, ...)``."""
    t = arr(target).astype(np.int64)
    valid = t != ignore if ignore is not None else np.ones(t.shape, bool)
    safe = np.where(valid, t, 0)
    picked = axonic.gather(logp, 1, to_value(safe[:, None])).squeeze(1)
    w = np.ones(t.shape, dtype=arr(logp).dtype) if weight is None else \
        arr(weight)[safe].astype(arr(logp).dtype)
    w = w * valid
    loss = -picked * to_value(w)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return axonic.sum(loss)
    return axonic.sum(loss) / float(w.sum())


@onnx_op("NegativeLogLikelihoodLoss", since=12)
def nll_loss(inputs, attrs, ctx):
    x, t = inputs[:2]
    w = inputs[2] if len(inputs) > 2 else None
    return _weighted_nll(x, t, w, attrs.get("reduction", "mean"), attrs.get("ignore_index"))


@onnx_op("SoftmaxCrossEntropyLoss", since=12)
def softmax_cross_entropy(inputs, attrs, ctx):
    x, t = inputs[:2]
    w = inputs[2] if len(inputs) > 2 else None
    logp = F.log_softmax(x, 1)
    loss = _weighted_nll(logp, t, w, attrs.get("reduction", "mean"), attrs.get("ignore_index"))
    return (loss, logp) if len(ctx.outputs) > 1 and ctx.outputs[1] else loss


@onnx_op("ReverseSequence", since=10)
def reverse_sequence(inputs, attrs, ctx):
    x, lens = inputs
    b_ax, t_ax = attrs.get("batch_axis", 1), attrs.get("time_axis", 0)
    lens = arr(lens).astype(np.int64)
    T = x.shape[t_ax]
    idx = np.tile(np.arange(T)[:, None], (1, len(lens)))  # (T, B)
    for b, n in enumerate(lens):
        idx[:n, b] = idx[:n, b][::-1]
    bi = np.arange(len(lens))[None, :]
    key = [slice(None)] * x.ndim
    key[t_ax], key[b_ax] = idx, bi
    out = x[tuple(key)] if isinstance(x, axonic.Tensor) else arr(x)[tuple(key)]
    # advanced indices on two axes move them to the front as (T, B)
    rest = [a for a in range(x.ndim) if a not in (t_ax, b_ax)]
    order = np.argsort([t_ax, b_ax] + rest)
    if isinstance(out, axonic.Tensor):
        return out.permute(*[int(o) for o in order])
    return to_value(np.transpose(out, order))


@onnx_op("CumProd", since=26)
def cumprod(inputs, attrs, ctx):
    x = arr(inputs[0])
    axis = axis_of(int(scalar(inputs[1])), x.ndim, ctx)
    a = np.flip(x, axis) if attrs.get("reverse", 0) else x
    out = np.cumprod(a, axis)
    if attrs.get("exclusive", 0):
        ones = np.ones_like(np.take(out, [0], axis))
        out = np.concatenate([ones, np.delete(out, -1, axis)], axis)
    out = np.flip(out, axis) if attrs.get("reverse", 0) else out
    return const(out.astype(x.dtype))


@onnx_op("MaxUnpool", since=9)
def max_unpool(inputs, attrs, ctx):
    x, idx = inputs[:2]
    d = x.ndim - 2
    kernel, strides = attrs["kernel_shape"], attrs.get("strides") or [1] * d
    pads = attrs.get("pads") or [0] * (2 * d)
    if len(inputs) > 2 and inputs[2] is not None:
        shape = [int(s) for s in arr(inputs[2])]
    else:
        shape = list(x.shape[:2]) + [(x.shape[2 + i] - 1) * strides[i] + kernel[i]
                                     - pads[i] - pads[d + i] for i in range(d)]
    out = np.zeros(int(np.prod(shape)), dtype=arr(x).dtype)
    out[arr(idx).reshape(-1)] = arr(x).reshape(-1)
    return const(out.reshape(shape))


@onnx_op("Unique", since=11)
def unique(inputs, attrs, ctx):
    x = arr(inputs[0])
    axis = attrs.get("axis")
    flat = x.reshape(-1) if axis is None else x
    values, first, inverse, counts = np.unique(flat, return_index=True, return_inverse=True,
                                               return_counts=True, axis=axis)
    if not attrs.get("sorted", 1):  # order of first occurrence
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        values = np.take(values, order, axis=0 if axis is None else axis)
        first, counts, inverse = first[order], counts[order], rank[inverse.reshape(-1)]
    return (to_value(values), to_value(first.astype(np.int64)),
            to_value(inverse.reshape(-1).astype(np.int64)), to_value(counts.astype(np.int64)))


@onnx_op("Det", since=11)
def det(inputs, attrs, ctx):
    x = arr(inputs[0])
    return const(np.linalg.det(x).astype(x.dtype))


@onnx_op("CenterCropPad", since=18)
def center_crop_pad(inputs, attrs, ctx):
    x = arr(inputs[0])
    shape = [int(s) for s in arr(inputs[1])]
    axes = [a % x.ndim for a in attrs.get("axes", range(x.ndim))]
    out_shape, crop, place = list(x.shape), [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for a, size in zip(axes, shape):
        dim = x.shape[a]
        out_shape[a] = size
        lo = abs(dim - size) // 2
        if size < dim:
            crop[a] = slice(lo, lo + size)
        elif size > dim:
            place[a] = slice(lo, lo + dim)
    out = np.zeros(out_shape, dtype=x.dtype)
    out[tuple(place)] = x[tuple(crop)]
    return const(out)


def _window(fn):
    def run(inputs, attrs, ctx):
        n = int(scalar(inputs[0]))
        periodic = attrs.get("periodic", 1)
        k = np.arange(n)
        denom = n if periodic else n - 1
        return to_value(fn(k, denom).astype(onnx_dtype(attrs.get("output_datatype", 1))))
    return run


onnx_op("HannWindow", since=17)(_window(
    lambda k, n: np.sin(np.pi * k / n) ** 2))
onnx_op("HammingWindow", since=17)(_window(
    lambda k, n: 25 / 46 - (1 - 25 / 46) * np.cos(2 * np.pi * k / n)))
onnx_op("BlackmanWindow", since=17)(_window(
    lambda k, n: 0.42 - 0.5 * np.cos(2 * np.pi * k / n) + 0.08 * np.cos(4 * np.pi * k / n)))
