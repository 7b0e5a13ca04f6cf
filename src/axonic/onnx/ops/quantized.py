"""ONNX integer and quantised ops (8-bit): QuantizeLinear, DequantizeLinear, MatMulInteger,
ConvInteger, QLinearMatMul, QLinearConv, DynamicQuantizeLinear. Integer arithmetic is
exact; gradients flow only through DequantizeLinear's scale."""

from __future__ import annotations

import numpy as np

from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, is_float, to_value
from axonic.onnx.ops.conv import conv


def _zp(inputs, k, like):
    if len(inputs) > k and inputs[k] is not None:
        return np.asarray(arr(inputs[k])).astype(np.int32)
    return np.zeros((), np.int32)


def _col(zp, rank):
    """A per-row (per-output-channel) zero point or scale shaped to broadcast."""
    return zp.reshape(-1, *[1] * (rank - 1)) if zp.ndim == 1 and zp.size > 1 else zp


@onnx_op("MatMulInteger", since=10)
def matmul_integer(inputs, attrs, ctx):
    a = arr(inputs[0]).astype(np.int32) - _zp(inputs, 2, inputs[0])
    zb = _zp(inputs, 3, inputs[1])
    b = arr(inputs[1]).astype(np.int32) - (zb if zb.ndim == 0 else zb.reshape(1, -1))
    return to_value(np.matmul(a, b).astype(np.int32))


@onnx_op("ConvInteger", since=10)
def conv_integer(inputs, attrs, ctx):
    x = arr(inputs[0]).astype(np.int32) - _zp(inputs, 2, inputs[0])
    w = arr(inputs[1]).astype(np.int32) - _col(_zp(inputs, 3, inputs[1]), 4)
    # exact: integer products summed in float64 stay exact below 2**53
    y = conv([to_value(x.astype(np.float64)), to_value(w.astype(np.float64))], attrs, ctx)
    return to_value(np.rint(arr(y)).astype(np.int32))


def _requantize(acc, scale, zp, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.rint(acc / scale) + zp, info.min, info.max).astype(dtype)


@onnx_op("QLinearMatMul", since=10)
def qlinear_matmul(inputs, attrs, ctx):
    a, sa, za, b, sb, zb, sy, zy = (arr(v) for v in inputs)
    acc = np.matmul(a.astype(np.int32) - za.astype(np.int32),
                    b.astype(np.int32) - zb.astype(np.int32)).astype(np.float64)
    real = acc * sa.astype(np.float64) * sb.astype(np.float64)
    return to_value(_requantize(real, sy.astype(np.float64), zy.astype(np.int32), zy.dtype))


@onnx_op("QLinearConv", since=10)
def qlinear_conv(inputs, attrs, ctx):
    x, sx, zx, w, sw, zw, sy, zy = (arr(v) for v in inputs[:8])
    bias = arr(inputs[8]).astype(np.float64) if len(inputs) > 8 and inputs[8] is not None \
        else None
    xi = x.astype(np.float64) - zx.astype(np.float64)
    wi = w.astype(np.float64) - _col(zw.astype(np.float64), 4)
    acc = arr(conv([to_value(xi), to_value(wi)], attrs, ctx))
    if bias is not None:
        acc = acc + bias.reshape(1, -1, *[1] * (acc.ndim - 2))
    sw = sw.astype(np.float64)
    real = acc * sx.astype(np.float64) * (sw.reshape(1, -1, *[1] * (acc.ndim - 2))
                                          if sw.size > 1 else sw)
    return to_value(_requantize(real, sy.astype(np.float64), zy.astype(np.int32), zy.dtype))


@onnx_op("DynamicQuantizeLinear", since=11)
def dynamic_quantize_linear(inputs, attrs, ctx):
    x = arr(inputs[0])
    hi = np.float32(max(0.0, float(x.max()))) if x.size else np.float32(0)
    lo = np.float32(min(0.0, float(x.min()))) if x.size else np.float32(0)
    scale = np.float32(1.0 if hi == lo else (hi - lo)) / np.float32(255)
    zp = np.rint(np.clip(np.float32(0) - lo / scale, 0, 255))
    y = np.clip(np.rint(x / scale) + zp, 0, 255).astype(np.uint8)
    return (to_value(y), to_value(np.array(scale, dtype=x.dtype)),
            to_value(np.array(zp, dtype=np.uint8)))


def _per_axis(v, x, axis):
    a = np.asarray(arr(v))
    if a.ndim == 1 and a.size > 1:
        shape = [1] * x.ndim
        shape[axis % x.ndim] = -1
        return a.reshape(shape)
    return a


@onnx_op("QuantizeLinear", since=10)
def quantize_linear(inputs, attrs, ctx):
    x, scale = inputs[:2]
    zp = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    axis = attrs.get("axis", 1)
    dtype = np.dtype(arr(zp).dtype) if zp is not None else np.dtype(np.uint8)
    if dtype.kind not in "iu" or dtype.itemsize != 1:
        raise NotImplementedError(f"ONNX import: {ctx}: QuantizeLinear to {dtype} "
                                  "(int8 and uint8 are supported)")
    s = _per_axis(scale, x, axis)
    z = _per_axis(zp, x, axis).astype(np.int32) if zp is not None else 0
    info = np.iinfo(dtype)
    q = np.rint(arr(x) / s) + z
    return to_value(np.clip(q, info.min, info.max).astype(dtype))


@onnx_op("DequantizeLinear", since=10)
def dequantize_linear(inputs, attrs, ctx):
    x, scale = inputs[:2]
    zp = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    if arr(x).dtype.kind not in "iu" or arr(x).dtype.itemsize > 4:
        raise NotImplementedError(f"ONNX import: {ctx}: DequantizeLinear of "
                                  f"{arr(x).dtype} (8/16/32-bit integers are supported)")
    axis = attrs.get("axis", 1)
    z = _per_axis(zp, x, axis).astype(np.float64) if zp is not None else 0.0
    s = _per_axis(scale, x, axis)
    q = to_value(((arr(x).astype(np.float64) - z)).astype(s.dtype))
    return q * to_value(s) if is_float(scale) else q
