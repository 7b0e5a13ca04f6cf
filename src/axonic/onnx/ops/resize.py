"""ONNX Resize (opsets 10-19) and Upsample: nearest, linear and cubic interpolation, one
axis at a time as weighted gathers (so gradients flow to the input), with every
coordinate transformation mode. Antialiased downsampling is not supported."""

from __future__ import annotations

import numpy as np

from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, to_value


def _source(i, scale, n_in, n_out, mode, roi):
    """The input coordinate of each output index ``i`` (ONNX's coordinate transformations)."""
    if mode == "half_pixel":
        return (i + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = n_out / (scale * n_in)
        offset = n_in / 2 * (1 - adjustment)
        return offset + (i + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (i + 0.5) / scale - 0.5 if n_out > 1 else np.zeros_like(i)
    if mode == "align_corners":
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(i)
    if mode == "asymmetric":
        return i / scale
    if mode == "tf_crop_and_resize":
        start, end = roi
        if n_out > 1:
            return start * (n_in - 1) + i * (end - start) * (n_in - 1) / (n_out - 1)
        return np.full_like(i, 0.5 * (start + end) * (n_in - 1))
    raise ValueError(f"coordinate_transformation_mode {mode!r} is not one of half_pixel, "
                     "half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, "
                     "tf_crop_and_resize")


def _nearest(x, mode):
    if mode == "round_prefer_ceil":
        return np.floor(x + 0.5)
    if mode == "floor":
        return np.floor(x)
    if mode == "ceil":
        return np.ceil(x)
    return np.ceil(x - 0.5)  # round_prefer_floor


def _cubic_weights(t, a):
    d = np.stack([1 + t, t, 1 - t, 2 - t], -1)
    ad = np.abs(d)
    return np.where(ad <= 1, ((a + 2) * ad - (a + 3)) * ad * ad + 1,
                    np.where(ad < 2, ((a * ad - 5 * a) * ad + 8 * a) * ad - 4 * a, 0.0))


def _taps(src, n_in, attrs, mode):
    """Indices ``(n_out, taps)`` into the input and their weights."""
    if mode == "nearest":
        idx = _nearest(src, attrs.get("nearest_mode", "round_prefer_floor"))
        return np.clip(idx, 0, n_in - 1).astype(np.int64)[:, None], np.ones((len(src), 1))
    if mode == "linear":
        s = np.clip(src, 0, n_in - 1)
        lo = np.floor(s)
        w = s - lo
        idx = np.stack([lo, np.minimum(lo + 1, n_in - 1)], -1).astype(np.int64)
        return idx, np.stack([1 - w, w], -1)
    lo = np.floor(src)
    w = _cubic_weights(src - lo, attrs.get("cubic_coeff_a", -0.75))
    idx = lo[:, None] + np.arange(-1, 3)[None, :]
    if attrs.get("exclude_outside", 0):
        w = np.where((idx < 0) | (idx >= n_in), 0.0, w)
        w = w / w.sum(-1, keepdims=True)
    return np.clip(idx, 0, n_in - 1).astype(np.int64), w


def _resize_axis(x, axis, n_out, scale, attrs, roi):
    n_in = x.shape[axis]
    mode = attrs.get("mode", "nearest")
    coord = attrs.get("coordinate_transformation_mode", "half_pixel")
    i = np.arange(n_out, dtype=np.float64)
    src = _source(i, scale, n_in, n_out, coord, roi)
    idx, w = _taps(src, n_in, attrs, mode)
    dtype = arr(x).dtype
    shape = [1] * x.ndim
    shape[axis] = n_out
    out = None
    for k in range(idx.shape[1]):
        part = x[(slice(None),) * axis + (idx[:, k],)]
        if idx.shape[1] > 1 or mode != "nearest":
            part = part * to_value(w[:, k].reshape(shape).astype(dtype))
        out = part if out is None else out + part
    if coord == "tf_crop_and_resize":
        outside = (src < 0) | (src > n_in - 1)
        if outside.any():
            keep = to_value((~outside).reshape(shape).astype(dtype))
            fill = to_value((outside * attrs.get("extrapolation_value", 0.0))
                            .reshape(shape).astype(dtype))
            out = out * keep + fill
    return out


def _resize(x, scales, sizes, roi, attrs, ctx):
    rank = x.ndim
    axes = [a % rank for a in attrs.get("axes", range(rank))]
    if attrs.get("antialias", 0):
        raise NotImplementedError(f"ONNX import: {ctx}: antialiased Resize is not supported")
    if sizes is not None:
        sizes = [int(s) for s in sizes]
        ratios = [sizes[k] / x.shape[a] for k, a in enumerate(axes)]
        policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            r = min(ratios) if policy == "not_larger" else max(ratios)
            ratios = [r] * len(axes)
            sizes = [int(np.floor(r * x.shape[a] + 0.5)) for a in axes]
        scales = ratios
    else:
        scales = [float(s) for s in scales]
        sizes = [int(np.floor(x.shape[a] * s)) for a, s in zip(axes, scales)]
    rois = [(0.0, 1.0)] * len(axes)
    if roi is not None and len(roi):
        n = len(roi) // 2
        rois = [(float(roi[k]), float(roi[n + k])) for k in range(n)]
    out = x
    for k, a in enumerate(axes):
        if sizes[k] != x.shape[a] or scales[k] != 1.0 or \
                attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize":
            out = _resize_axis(out, a, sizes[k], scales[k], attrs, rois[k])
    return out


def _opt(inputs, k):
    if len(inputs) > k and inputs[k] is not None and arr(inputs[k]).size:
        return np.asarray(arr(inputs[k])).reshape(-1)
    return None


@onnx_op("Resize", since=10, until=10)
def resize10(inputs, attrs, ctx):
    attrs = dict(attrs, coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return _resize(inputs[0], _opt(inputs, 1), None, None, attrs, ctx)


@onnx_op("Resize", since=11)
def resize(inputs, attrs, ctx):
    attrs = dict(attrs)
    if attrs.get("mode") == "cubic" and ctx.opset < 13:
        attrs.setdefault("cubic_coeff_a", -0.75)
    return _resize(inputs[0], _opt(inputs, 2), _opt(inputs, 3), _opt(inputs, 1), attrs, ctx)


@onnx_op("Upsample", since=7, until=9)
def upsample(inputs, attrs, ctx):
    scales = attrs.get("scales") if "scales" in attrs else _opt(inputs, 1)
    mode = attrs.get("mode", "nearest")
    attrs = dict(mode="linear" if mode in ("linear", "bilinear") else "nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    return _resize(inputs[0], scales, None, None, attrs, ctx)
