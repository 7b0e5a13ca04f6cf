"""ONNX pooling: MaxPool (with indices), AveragePool, LpPool and their Global forms, N-d,
with ``pads``, ``auto_pad``, ``ceil_mode``, dilations and ``count_include_pad``."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, const, to_value
from axonic.onnx.ops._windows import pad_spatial, window_index, window_pads, windows


def _geometry(x, attrs, ceil=False):
    d = x.ndim - 2
    kernel = attrs["kernel_shape"]
    strides = attrs.get("strides") or [1] * d
    dil = attrs.get("dilations") or [1] * d
    begin, end, extra = window_pads(x.shape[2:], kernel, strides, dil, attrs, ceil)
    return d, kernel, strides, dil, begin, end, extra


def _axes(d):
    return tuple(range(-d, 0))


@onnx_op("MaxPool")
def max_pool(inputs, attrs, ctx):
    x = inputs[0]
    d, kernel, strides, dil, begin, end, extra = _geometry(x, attrs, attrs.get("ceil_mode", 0))
    a = arr(x)
    low = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    end = [e + x_ for e, x_ in zip(end, extra)]
    if a.dtype.kind == "f":
        win = windows(pad_spatial(x, begin, end, value=low), kernel, strides, dil)
        y = axonic.amax(win, _axes(d))
    else:
        padded = np.pad(a, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=low)
        win = padded[(slice(None), slice(None)) + tuple(
            window_index(padded.shape[2:], kernel, strides, dil))]
        y = const(win.max(axis=_axes(d)))
    if len(ctx.outputs) < 2 or not ctx.outputs[1]:
        return y
    return y, _indices(a, d, kernel, strides, dil, begin, end, low, attrs)


def _indices(a, d, kernel, strides, dil, begin, end, low, attrs):
    padded = np.pad(a, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=low)
    index = window_index(padded.shape[2:], kernel, strides, dil)
    win = padded[(slice(None), slice(None)) + tuple(index)]
    out_sp = win.shape[2:2 + d]
    best = win.reshape(*win.shape[:2 + d], -1).argmax(-1)
    k_pos = np.unravel_index(best, kernel)
    spatial = a.shape[2:]
    coords = []
    for i in range(d):
        shape = [1] * d
        shape[i] = out_sp[i]
        start = (np.arange(out_sp[i]) * strides[i]).reshape(shape)
        coords.append(start + k_pos[i] * dil[i] - begin[i])
    if attrs.get("storage_order", 0):
        flat = np.ravel_multi_index(coords[::-1], spatial[::-1])
    else:
        flat = np.ravel_multi_index(coords, spatial)
    n, c = a.shape[:2]
    base = (np.arange(n * c).reshape(n, c) * int(np.prod(spatial))).reshape(n, c, *[1] * d)
    return to_value((base + flat).astype(np.int64))


def _window_sum(x, kernel, strides, dil, begin, end, extra, d):
    padded = pad_spatial(x, begin, [e + x_ for e, x_ in zip(end, extra)])
    return axonic.sum(windows(padded, kernel, strides, dil), _axes(d))


@onnx_op("AveragePool")
def average_pool(inputs, attrs, ctx):
    x = inputs[0]
    d, kernel, strides, dil, begin, end, extra = _geometry(x, attrs, attrs.get("ceil_mode", 0))
    total = _window_sum(x, kernel, strides, dil, begin, end, extra, d)
    a = arr(x)
    ones = np.ones((1, 1) + a.shape[2:], dtype=a.dtype)
    if attrs.get("count_include_pad", 0):
        ones = np.pad(ones, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=1)
        ones = np.pad(ones, [(0, 0), (0, 0)] + [(0, e) for e in extra])
    else:
        ones = np.pad(ones, [(0, 0), (0, 0)] + [(b, e + x_) for b, e, x_ in
                                                zip(begin, end, extra)])
    idx = window_index(ones.shape[2:], kernel, strides, dil)
    count = ones[(slice(None), slice(None)) + tuple(idx)].sum(axis=_axes(d))
    return total / to_value(count.astype(a.dtype))


@onnx_op("LpPool")
def lp_pool(inputs, attrs, ctx):
    x = inputs[0]
    p = attrs.get("p", 2)
    d, kernel, strides, dil, begin, end, extra = _geometry(x, attrs, attrs.get("ceil_mode", 0))
    total = _window_sum(axonic.abs(x) ** p, kernel, strides, dil, begin, end, extra, d)
    return total ** (1.0 / p)


@onnx_op("GlobalAveragePool")
def global_average_pool(inputs, attrs, ctx):
    x = inputs[0]
    return axonic.mean(x, tuple(range(2, x.ndim)), keepdim=True)


@onnx_op("GlobalMaxPool")
def global_max_pool(inputs, attrs, ctx):
    x = inputs[0]
    return axonic.amax(x, tuple(range(2, x.ndim)), keepdim=True)


@onnx_op("GlobalLpPool", since=2)
def global_lp_pool(inputs, attrs, ctx):
    x, p = inputs[0], attrs.get("p", 2)
    return axonic.sum(axonic.abs(x) ** p, tuple(range(2, x.ndim)), keepdim=True) ** (1.0 / p)
