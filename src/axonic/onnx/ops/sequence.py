"""ONNX sequence ops, a sequence being a Python list of graph values."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, axis_of, scalar, to_value

onnx_op("SequenceConstruct", since=11)(lambda i, a, c: list(i))
onnx_op("SequenceLength", since=11)(
    lambda i, a, c: to_value(np.array(len(i[0]), dtype=np.int64)))


@onnx_op("SequenceEmpty", since=11)
def sequence_empty(inputs, attrs, ctx):
    return []


@onnx_op("SequenceAt", since=11)
def sequence_at(inputs, attrs, ctx):
    return inputs[0][int(scalar(inputs[1]))]


@onnx_op("SequenceInsert", since=11)
def sequence_insert(inputs, attrs, ctx):
    seq = list(inputs[0])
    pos = len(seq) if len(inputs) < 3 or inputs[2] is None else int(scalar(inputs[2]))
    seq.insert(pos if pos >= 0 else pos + len(seq), inputs[1])
    return seq


@onnx_op("SequenceErase", since=11)
def sequence_erase(inputs, attrs, ctx):
    seq = list(inputs[0])
    pos = -1 if len(inputs) < 2 or inputs[1] is None else int(scalar(inputs[1]))
    del seq[pos]
    return seq


@onnx_op("ConcatFromSequence", since=11)
def concat_from_sequence(inputs, attrs, ctx):
    seq = inputs[0]
    axis = attrs["axis"]
    if attrs.get("new_axis", 0):
        axis = axis_of(axis, seq[0].ndim + 1, ctx)
        return axonic.stack(seq, axis)
    return axonic.cat(seq, axis_of(axis, seq[0].ndim, ctx))


@onnx_op("SplitToSequence", since=11)
def split_to_sequence(inputs, attrs, ctx):
    x = inputs[0]
    axis = axis_of(attrs.get("axis", 0), x.ndim, ctx)
    dim = x.shape[axis]
    if len(inputs) < 2 or inputs[1] is None:
        sizes = [1] * dim
    else:
        s = np.asarray(arr(inputs[1]))
        sizes = [int(v) for v in s] if s.ndim else \
            [int(s)] * (dim // int(s)) + ([dim % int(s)] if dim % int(s) else [])
    parts, start = [], 0
    for n in sizes:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + n)
        parts.append(x[tuple(index)])
        start += n
    if (len(inputs) < 2 or inputs[1] is None) and not attrs.get("keepdims", 1):
        parts = [p.squeeze(axis) for p in parts]
    return parts




# --- optionals: an empty optional is None --------------------------------------------------

@onnx_op("Optional", since=15)
def optional(inputs, attrs, ctx):
    return inputs[0] if inputs else None


@onnx_op("OptionalHasElement", since=15)
def optional_has_element(inputs, attrs, ctx):
    return to_value(np.array(bool(inputs) and inputs[0] is not None))


@onnx_op("OptionalGetElement", since=15)
def optional_get_element(inputs, attrs, ctx):
    if inputs[0] is None:
        raise ValueError(f"ONNX import: {ctx}: OptionalGetElement of an empty optional")
    return inputs[0]
