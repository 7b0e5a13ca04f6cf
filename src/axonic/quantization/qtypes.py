"""Quantised dtypes (``qint8``, ``quint8``, ``qint32``), quantisation schemes, and
``QTensor``: integer values with the scale and zero point that map them back to reals,
``real = scale * (q - zero_point)``.

>>> import numpy as np
>>> q = quantize_per_tensor(np.array([0.0, 0.5, 1.0], np.float32), 0.5, 10, quint8)
>>> q.int_repr().tolist(), q.dequantize().tolist()
([10, 11, 12], [0.0, 0.5, 1.0])
"""

from __future__ import annotations

import numpy as np


class QDtype:
    """A quantised integer dtype: its storage dtype and its full range."""

    def __init__(self, name: str, storage: str, quant_min: int, quant_max: int):
        self.name, self.storage = name, np.dtype(storage)
        self.quant_min, self.quant_max = quant_min, quant_max
        self.bits = self.storage.itemsize * 8

    def __repr__(self):
        return f"axonic.{self.name}"

    def __reduce__(self):
        return self.name


qint8 = QDtype("qint8", "int8", -128, 127)
quint8 = QDtype("quint8", "uint8", 0, 255)
qint32 = QDtype("qint32", "int32", -(2 ** 31), 2 ** 31 - 1)
QDTYPES = {d.name: d for d in (qint8, quint8, qint32)}

# PyTorch's qscheme names (torch.per_tensor_affine, ...), as strings
per_tensor_affine = "per_tensor_affine"
per_tensor_symmetric = "per_tensor_symmetric"
per_channel_affine = "per_channel_affine"
per_channel_symmetric = "per_channel_symmetric"
QSCHEMES = (per_tensor_affine, per_tensor_symmetric, per_channel_affine, per_channel_symmetric)


def check_qdtype(dtype, where: str) -> QDtype:
    if isinstance(dtype, QDtype):
        return dtype
    if isinstance(dtype, str) and dtype in QDTYPES:
        return QDTYPES[dtype]
    raise TypeError(f"{where}: dtype must be one of axonic.qint8, axonic.quint8, "
                    f"axonic.qint32, got {dtype!r}")


def check_qscheme(qscheme, where: str) -> str:
    if qscheme not in QSCHEMES:
        raise ValueError(f"{where}: qscheme must be one of {list(QSCHEMES)}, got {qscheme!r}")
    return qscheme


def qrange(dtype: QDtype, reduce_range: bool, quant_min=None, quant_max=None) -> tuple:
    """The integer range an observer uses: the dtype's, one bit less with ``reduce_range``
    (room for the x86 kernels' 16-bit pair sums), or a custom one (halved likewise)."""
    if quant_min is not None and quant_max is not None:
        if not quant_min <= 0 <= quant_max:
            raise ValueError(f"quant_min ({quant_min}) must be <= 0 <= quant_max ({quant_max})")
        if quant_max - quant_min >= 2 ** dtype.bits:
            raise ValueError(f"quant_max - quant_min ({quant_max - quant_min}) does not fit in "
                             f"{dtype.bits} bits ({dtype!r})")
        if reduce_range:
            return int(quant_min) // 2, int(quant_max) // 2
        return int(quant_min), int(quant_max)
    if reduce_range and dtype is not qint32:
        return (dtype.quant_min // 2, dtype.quant_max // 2)
    return dtype.quant_min, dtype.quant_max


def bfloat16():
    """NumPy's bfloat16 dtype (from ``ml_dtypes``)."""
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError("bfloat16 weights need the 'ml_dtypes' package: "
                          "pip install 'axonic[quant]'") from None
    return np.dtype(ml_dtypes.bfloat16)


def _round_clamp(scaled, zero_point, lo, hi, storage):
    """``clamp(round(scaled) + zero_point)`` as ``storage``, in place on ``scaled`` (a
    temporary): one pass per step, no further arrays."""
    np.rint(scaled, out=scaled)
    scaled += zero_point
    np.clip(scaled, lo, hi, out=scaled)
    return scaled.astype(storage)


def quantize_array(x, scale, zero_point, quant_min, quant_max, storage, axis=None):
    """``clamp(round(x * (1 / scale)) + zero_point)`` (round half to even; the float32
    reciprocal, as PyTorch's kernels) as ``storage`` ints; per channel along ``axis``."""
    x = np.asarray(x)
    scale = np.asarray(scale, np.float32)
    zero_point = np.asarray(zero_point, np.int64)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    scaled = np.multiply(x, np.float32(1) / scale, dtype=np.float32)
    return _round_clamp(scaled, zero_point.astype(np.float32), quant_min, quant_max, storage)


class QTensor:
    """Quantised values: ``int_repr()`` integers, ``q_scale()``/``q_zero_point()`` (or the
    per-channel arrays along ``q_per_channel_axis()``), ``dequantize()`` to float32.

    Not part of autograd: quantised models run inference only.
    """

    __slots__ = ("_int", "_scale", "_zero_point", "dtype", "_axis")

    def __init__(self, ints, scale, zero_point, dtype: QDtype, axis=None):
        self._int, self.dtype, self._axis = ints, dtype, axis
        self._scale = np.float32(scale) if axis is None else np.asarray(scale, np.float32)
        self._zero_point = int(zero_point) if axis is None else np.asarray(zero_point, np.int64)

    shape = property(lambda self: self._int.shape)
    ndim = property(lambda self: self._int.ndim)
    is_quantized = True

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def int_repr(self) -> np.ndarray:
        return self._int

    def q_scale(self) -> float:
        return float(self._scale)

    def q_zero_point(self) -> int:
        return self._zero_point

    def q_per_channel_scales(self) -> np.ndarray:
        return self._scale

    def q_per_channel_zero_points(self) -> np.ndarray:
        return self._zero_point

    def q_per_channel_axis(self):
        return self._axis

    def dequantize(self):
        """The real values as an axonic float32 Tensor."""
        from axonic.autograd.tensor import tensor

        return tensor(self.dequantize_array())

    def dequantize_array(self) -> np.ndarray:
        if self._axis is None:
            return (self._int.astype(np.float32) - np.float32(self._zero_point)) * self._scale
        shape = [1] * self._int.ndim
        shape[self._axis] = -1
        zp = self._zero_point.reshape(shape).astype(np.float32)
        return (self._int.astype(np.float32) - zp) * self._scale.reshape(shape)

    def with_ints(self, ints) -> QTensor:
        """The same quantisation parameters over new integers (pooling, reshaping)."""
        return QTensor(ints, self._scale, self._zero_point, self.dtype, self._axis)

    def reshape(self, *shape):
        return self.with_ints(self._int.reshape(*shape))

    def flatten(self, start_dim=0, end_dim=-1):
        s = self.shape
        end = end_dim % len(s) if s else 0
        return self.reshape(*s[:start_dim], -1, *s[end + 1:])

    def __repr__(self):
        qp = (f"scale={self.q_scale():.6g}, zero_point={self._zero_point}" if self._axis is None
              else f"per-channel axis={self._axis}")
        return f"QTensor(shape={self.shape}, dtype={self.dtype!r}, {qp})"


def _array(x):
    from axonic.autograd.tensor import Tensor

    if isinstance(x, Tensor):
        from axonic.backend import to_numpy

        return to_numpy(x._data)
    return np.asarray(x)


def quantize_per_tensor(input, scale, zero_point, dtype) -> QTensor:
    """PyTorch's ``torch.quantize_per_tensor``: one scale and zero point for all values.

    >>> quantize_per_tensor(np.array([-1.0, 1.0]), 0.1, 0, qint8).int_repr().tolist()
    [-10, 10]
    """
    dtype = check_qdtype(dtype, "quantize_per_tensor")
    if not float(scale) > 0:
        raise ValueError(f"quantize_per_tensor: scale must be > 0, got {scale!r}")
    ints = quantize_array(_array(input), scale, zero_point, dtype.quant_min, dtype.quant_max,
                          dtype.storage)
    return QTensor(ints, scale, zero_point, dtype)


def quantize_per_channel(input, scales, zero_points, axis, dtype) -> QTensor:
    """PyTorch's ``torch.quantize_per_channel``: one scale and zero point per slice along
    ``axis``.

    >>> q = quantize_per_channel(np.array([[1.0], [1.0]]), [0.5, 0.25], [0, 0], 0, qint8)
    >>> q.int_repr().ravel().tolist()
    [2, 4]
    """
    dtype = check_qdtype(dtype, "quantize_per_channel")
    x = _array(input)
    scales = np.asarray(_array(scales), np.float32).reshape(-1)
    if scales.size != x.shape[axis]:
        raise ValueError(f"quantize_per_channel: {scales.size} scales for axis {axis} of "
                         f"size {x.shape[axis]} (input shape {x.shape})")
    if not (scales > 0).all():
        raise ValueError(f"quantize_per_channel: scales must be > 0, got {scales.tolist()}")
    zps = np.asarray(_array(zero_points), np.int64).reshape(-1)
    ints = quantize_array(x, scales, zps, dtype.quant_min, dtype.quant_max, dtype.storage, axis)
    return QTensor(ints, scales, zps, dtype, axis)
