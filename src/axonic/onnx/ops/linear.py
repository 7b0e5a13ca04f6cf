"""ONNX MatMul and Gemm on axonic's matmul (integer inputs in NumPy)."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, const, is_float


@onnx_op("MatMul")
def matmul(inputs, attrs, ctx):
    a, b = inputs
    if is_float(a):
        return axonic.matmul(a, b)
    return const(np.matmul(arr(a), arr(b)))


@onnx_op("Gemm")
def gemm(inputs, attrs, ctx):
    a, b, c = (list(inputs) + [None])[:3]
    if attrs.get("transA", 0):
        a = a.transpose(0, 1)
    if attrs.get("transB", 0):
        b = b.transpose(0, 1)
    if not is_float(a):
        y = const(np.matmul(arr(a), arr(b)) * attrs.get("alpha", 1.0), like=a)
        if c is not None:
            y = const(arr(y) + attrs.get("beta", 1.0) * arr(c), like=a)
        return y
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    y = axonic.matmul(a, b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y
