"""ONNX normalisation: BatchNormalization (every version, inference and training mode),
InstanceNormalization, LayerNormalization, GroupNormalization, LpNormalization,
MeanVarianceNormalization, LRN."""

from __future__ import annotations

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import axis_of, tensor_of


def _channel(v, x):
    """A per-channel (or, for spatial=0, per-feature) parameter shaped to broadcast."""
    if v.ndim == 1:
        return v.reshape(1, -1, *[1] * (x.ndim - 2))
    return v.reshape(1, *v.shape)


@onnx_op("BatchNormalization")
def batch_norm(inputs, attrs, ctx):
    x, scale, bias, mean, var = inputs[:5]
    eps = attrs.get("epsilon", 1e-5)
    training = attrs.get("training_mode", 0) if ctx.opset >= 14 else (
        len(ctx.outputs) > 1 and ctx.opset >= 6 and not attrs.get("is_test", 0))
    if not training:
        inv = axonic.rsqrt(_channel(var, x) + eps)
        return (x - _channel(mean, x)) * inv * _channel(scale, x) + _channel(bias, x)
    axes = (0,) + tuple(range(2, x.ndim))
    m = axonic.mean(x, axes, keepdim=True)
    v = axonic.mean((x - m) ** 2, axes, keepdim=True)
    y = (x - m) * axonic.rsqrt(v + eps) * _channel(scale, x) + _channel(bias, x)
    momentum = attrs.get("momentum", 0.9)
    run_mean = mean * momentum + m.reshape(-1) * (1 - momentum)
    run_var = var * momentum + v.reshape(-1) * (1 - momentum)
    return y, run_mean, run_var


@onnx_op("InstanceNormalization", since=6)
def instance_norm(inputs, attrs, ctx):
    x, scale, bias = inputs
    axes = tuple(range(2, x.ndim))
    m = axonic.mean(x, axes, keepdim=True)
    v = axonic.mean((x - m) ** 2, axes, keepdim=True)
    y = (x - m) * axonic.rsqrt(v + attrs.get("epsilon", 1e-5))
    return y * _channel(scale, x) + _channel(bias, x)


@onnx_op("LayerNormalization", since=17)
def layer_norm(inputs, attrs, ctx):
    x, scale, bias = (list(inputs) + [None])[:3]
    axis = axis_of(attrs.get("axis", -1), x.ndim, ctx)
    axes = tuple(range(axis, x.ndim))
    xs = x.to(axonic.float32) if x.dtype != axonic.float64 and \
        attrs.get("stash_type", 1) == 1 else x
    m = axonic.mean(xs, axes, keepdim=True)
    inv = axonic.rsqrt(axonic.mean((xs - m) ** 2, axes, keepdim=True)
                       + attrs.get("epsilon", 1e-5))
    y = ((xs - m) * inv).to(x.dtype) * scale
    if bias is not None:
        y = y + bias
    return y, m, inv


@onnx_op("GroupNormalization", since=18)
def group_norm(inputs, attrs, ctx):
    x, scale, bias = inputs
    g = attrs["num_groups"]
    n, c = x.shape[:2]
    xs = x.reshape(n, g, -1)
    m = axonic.mean(xs, (2,), keepdim=True)
    v = axonic.mean((xs - m) ** 2, (2,), keepdim=True)
    y = ((xs - m) * axonic.rsqrt(v + attrs.get("epsilon", 1e-5))).reshape(*x.shape)
    if ctx.opset < 21:  # one scale and bias per group before opset 21
        scale = scale.reshape(g, 1).expand(g, c // g).reshape(c)
        bias = bias.reshape(g, 1).expand(g, c // g).reshape(c)
    return y * _channel(scale, x) + _channel(bias, x)


@onnx_op("LpNormalization")
def lp_normalization(inputs, attrs, ctx):
    x = inputs[0]
    axis = axis_of(attrs.get("axis", -1), x.ndim, ctx)
    p = attrs.get("p", 2)
    if p == 1:
        norm = axonic.sum(axonic.abs(x), (axis,), keepdim=True)
    else:
        norm = axonic.sqrt(axonic.sum(x * x, (axis,), keepdim=True))
    # a zero vector stays zero (as the reference does) instead of becoming NaN
    return x / axonic.where(norm == 0, tensor_of(1, norm), norm)


@onnx_op("MeanVarianceNormalization", since=9)
def mean_variance_normalization(inputs, attrs, ctx):
    x = inputs[0]
    axes = tuple(attrs.get("axes", [0, 2, 3]))
    m = axonic.mean(x, axes, keepdim=True)
    v = axonic.mean(x * x, axes, keepdim=True) - m * m
    return (x - m) / (axonic.sqrt(v) + 1e-9)


@onnx_op("LRN")
def lrn(inputs, attrs, ctx):
    x = inputs[0]
    size = attrs["size"]
    alpha, beta, bias = attrs.get("alpha", 1e-4), attrs.get("beta", 0.75), attrs.get("bias", 1.0)
    sq = x * x
    c = x.shape[1]
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    flat = [0, 0] * (x.ndim - 2) + [lo, hi]
    padded = F.pad(sq, tuple(flat))
    total = sum(padded[:, i:i + c] for i in range(size))
    return x / (tensor_of(bias, x) + (alpha / size) * total) ** beta




@onnx_op("RMSNormalization", since=23)
def rms_norm(inputs, attrs, ctx):
    x, scale = inputs
    axis = axis_of(attrs.get("axis", -1), x.ndim, ctx)
    axes = tuple(range(axis, x.ndim))
    xs = x.to(axonic.float32) if x.dtype != axonic.float64 and \
        attrs.get("stash_type", 1) == 1 else x
    inv = axonic.rsqrt(axonic.mean(xs * xs, axes, keepdim=True) + attrs.get("epsilon", 1e-5))
    return (xs * inv).to(x.dtype) * scale
