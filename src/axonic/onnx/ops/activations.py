"""ONNX activations and the softmax family."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, axis_of, const, tensor_of


def _simple(fn):
    return lambda inputs, attrs, ctx: fn(inputs[0], attrs)


onnx_op("Relu")(_simple(lambda x, a: F.relu(x) if x._data.dtype.kind == "f"
                        else const(np.maximum(arr(x), 0))))
onnx_op("Sigmoid")(_simple(lambda x, a: axonic.sigmoid(x)))
onnx_op("Tanh")(_simple(lambda x, a: axonic.tanh(x)))
onnx_op("LeakyRelu")(_simple(lambda x, a: F.leaky_relu(x, a.get("alpha", 0.01))))
onnx_op("Elu")(_simple(lambda x, a: F.elu(x, a.get("alpha", 1.0))))
onnx_op("Celu", since=12)(_simple(lambda x, a: F.celu(x, a.get("alpha", 1.0))))
onnx_op("Softsign")(_simple(lambda x, a: x / (1 + axonic.abs(x))))
onnx_op("Mish", since=18)(_simple(lambda x, a: x * axonic.tanh(F.softplus(x))))
onnx_op("Softplus")(_simple(lambda x, a: axonic.log(1 + axonic.exp(x))))


@onnx_op("Selu")
def selu(inputs, attrs, ctx):
    x = inputs[0]
    alpha = attrs.get("alpha", 1.67326319217681884765625)
    gamma = attrs.get("gamma", 1.05070102214813232421875)
    return gamma * axonic.where(x > 0, x, alpha * (axonic.exp(x) - 1))


@onnx_op("HardSigmoid")
def hard_sigmoid(inputs, attrs, ctx):
    x = inputs[0]
    return axonic.clamp(attrs.get("alpha", 0.2) * x + attrs.get("beta", 0.5), 0.0, 1.0)


@onnx_op("HardSwish", since=14)
def hard_swish(inputs, attrs, ctx):
    x = inputs[0]
    return x * axonic.clamp(x / 6 + 0.5, 0.0, 1.0)


@onnx_op("ThresholdedRelu", since=10)
def thresholded_relu(inputs, attrs, ctx):
    x = inputs[0]
    return axonic.where(x > attrs.get("alpha", 1.0), x, tensor_of(0, x))


@onnx_op("Shrink", since=9)
def shrink(inputs, attrs, ctx):
    x = inputs[0]
    lambd, bias = attrs.get("lambd", 0.5), attrs.get("bias", 0.0)
    if x._data.dtype.kind != "f":
        a = arr(x)
        return const(np.where(a < -lambd, a + bias, np.where(a > lambd, a - bias, 0)), like=x)
    zero = tensor_of(0, x)
    return axonic.where(x < -lambd, x + bias, axonic.where(x > lambd, x - bias, zero))


@onnx_op("PRelu")
def prelu(inputs, attrs, ctx):
    x, slope = inputs
    return axonic.where(x < 0, x * slope, x)


@onnx_op("Gelu", since=20)
def gelu(inputs, attrs, ctx):
    return F.gelu(inputs[0], approximate=attrs.get("approximate", "none"))


def _coerced(fn):
    """Softmax before opset 13: the input is seen as 2-D, split at ``axis``."""
    def run(inputs, attrs, ctx):
        x = inputs[0]
        axis = axis_of(attrs.get("axis", 1), x.ndim, ctx)
        shape = x.shape
        flat = x.reshape(int(np.prod(shape[:axis], dtype=np.int64)), -1)
        return fn(flat, 1).reshape(shape)
    return run


def _single_axis(fn):
    def run(inputs, attrs, ctx):
        x = inputs[0]
        return fn(x, axis_of(attrs.get("axis", -1), x.ndim, ctx))
    return run


def _hardmax(x, dim):
    a = arr(x)
    idx = np.argmax(a, axis=dim)
    out = np.zeros_like(a)
    np.put_along_axis(out, np.expand_dims(idx, dim), 1, axis=dim)
    return const(out)


for _name, _fn in {"Softmax": F.softmax, "LogSoftmax": F.log_softmax,
                   "Hardmax": _hardmax}.items():
    onnx_op(_name, until=12)(_coerced(lambda x, d, _fn=_fn: _fn(x, d)))
    onnx_op(_name, since=13)(_single_axis(lambda x, d, _fn=_fn: _fn(x, d)))


@onnx_op("SwiGLU", since=26)
def swiglu(inputs, attrs, ctx):
    a, b = inputs
    return a * axonic.sigmoid(attrs.get("alpha", 1.0) * a) * b
