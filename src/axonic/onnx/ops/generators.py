"""ONNX ops that make tensors: Constant, ConstantOfShape, Range, EyeLike."""

from __future__ import annotations

import numpy as np

from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, ints, onnx_dtype, scalar, to_value


@onnx_op("Constant")
def constant(inputs, attrs, ctx):
    if "value" in attrs:
        return to_value(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return to_value(np.array(attrs[key], dtype=dtype))
    for key in ("value_string", "value_strings"):
        if key in attrs:
            return np.array(attrs[key], dtype=object)
    raise ValueError(f"ONNX import: {ctx}: Constant has no value attribute "
                     f"(got {sorted(attrs)})")


@onnx_op("ConstantOfShape", since=9)
def constant_of_shape(inputs, attrs, ctx):
    value = attrs.get("value", np.zeros(1, dtype=np.float32))
    return to_value(np.full(ints(inputs[0]), value.reshape(-1)[0], dtype=value.dtype))


@onnx_op("Range", since=11)
def range_(inputs, attrs, ctx):
    start, limit, delta = (arr(x) for x in inputs)
    n = max(int(np.ceil((scalar(inputs[1]) - scalar(inputs[0])) / scalar(inputs[2]))), 0)
    return to_value((start + np.arange(n) * delta).astype(start.dtype))


@onnx_op("EyeLike", since=9)
def eye_like(inputs, attrs, ctx):
    x = arr(inputs[0])
    dtype = onnx_dtype(attrs["dtype"]) if "dtype" in attrs else x.dtype
    return to_value(np.eye(x.shape[0], x.shape[1], k=attrs.get("k", 0), dtype=dtype))
