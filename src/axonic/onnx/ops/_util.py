"""Conversions shared by the op families: graph values are axonic Tensors, except tensors
of a dtype axonic's Tensor does not hold (strings, uint16/32/64, bfloat16 ...), which stay
NumPy arrays."""

from __future__ import annotations

import numpy as np

from axonic.autograd import Tensor

_HELD = {"bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8"}


def from_onnx_tensor(proto) -> np.ndarray:
    """An onnx ``TensorProto`` as a NumPy array."""
    from onnx import numpy_helper

    return numpy_helper.to_array(proto)


def to_value(x):
    """``x`` (Tensor, NumPy array or Python scalar) as a graph value."""
    if x is None or isinstance(x, Tensor) or isinstance(x, list):
        return x
    a = np.asarray(x)
    if a.dtype.name in _HELD:
        return Tensor(a if a.flags.c_contiguous else a.copy())
    return a


def arr(v) -> np.ndarray:
    """The NumPy (or CuPy) array of a graph value."""
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def ints(v) -> list[int]:
    """A 1-D (or scalar) integer value as a list of Python ints."""
    return [int(i) for i in np.asarray(arr(v)).reshape(-1)]


def scalar(v):
    """A one-element value as a Python number."""
    return np.asarray(arr(v)).reshape(-1)[0].item()


def is_float(v) -> bool:
    return isinstance(v, Tensor) and v._data.dtype.kind == "f"


def const(a, like=None):
    """A NumPy result as a graph value (no gradient flows through it)."""
    a = np.asarray(a)
    if like is not None and a.dtype != arr(like).dtype:
        a = a.astype(arr(like).dtype)
    return to_value(a)


def tensor_of(x, like):
    """A Python number or array as a Tensor of ``like``'s dtype."""
    return Tensor(np.asarray(x, dtype=arr(like).dtype))


def axis_of(axis: int, rank: int, ctx) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"ONNX import: {ctx}: axis {axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


def onnx_dtype(code: int) -> np.dtype:
    """The NumPy dtype of an ONNX ``TensorProto`` element type."""
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(code))
