"""Observers: modules that watch the values passing through and choose a scale and zero
point for them (PyTorch's ``torch.ao.quantization.observer`` names and arithmetic).

>>> import axonic
>>> obs = MinMaxObserver()
>>> _ = obs(axonic.tensor([-1.0, 3.0]))
>>> scale, zp = obs.calculate_qparams()
>>> round(float(scale[0]), 6), int(zp[0])
(0.015686, 64)
"""

from __future__ import annotations

import functools

import numpy as np

from axonic.nn.module import Module
from axonic.quantization.qtypes import (
    check_qdtype,
    check_qscheme,
    per_channel_affine,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qint8,
    qrange,
    quint8,
)

_EPS = np.float32(np.finfo(np.float32).eps)
_SYMMETRIC = (per_tensor_symmetric, per_channel_symmetric)


def values(x) -> np.ndarray:
    """The float32 NumPy array of a Tensor (or array) an observer watches."""
    from axonic.autograd.tensor import Tensor
    from axonic.backend import to_numpy

    return np.asarray(to_numpy(x._data) if isinstance(x, Tensor) else x, np.float32)


class ObserverBase(Module):
    """The common part: dtype, qscheme, integer range; ``calculate_qparams`` from
    ``min_val``/``max_val`` as PyTorch's ``_calculate_qparams`` does it (float32)."""

    per_channel = False

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False):
        super().__init__()
        name = type(self).__name__
        self.dtype = check_qdtype(dtype, name)
        self.qscheme = check_qscheme(qscheme, name)
        if self.per_channel != qscheme.startswith("per_channel"):
            kind = "per_channel" if self.per_channel else "per_tensor"
            raise ValueError(f"{name}: qscheme must be a {kind}_* scheme, got {qscheme!r}")
        self.reduce_range, self.is_dynamic = bool(reduce_range), bool(is_dynamic)
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        self.quant_min, self.quant_max = qrange(self.dtype, reduce_range, quant_min, quant_max)
        self.eps = np.float32(eps)
        self.min_val = np.array(np.inf, np.float32)
        self.max_val = np.array(-np.inf, np.float32)

    def forward(self, x):
        v = values(x)
        if v.size:
            self.observe(v)
        return x

    def _qparams(self, min_val, max_val):
        min_val, max_val = np.asarray(min_val, np.float32), np.asarray(max_val, np.float32)
        if not np.all(np.isfinite(min_val)) or not np.all(min_val <= max_val):
            return np.ones(1, np.float32), np.zeros(1, np.int64)  # not observed yet
        qmin, qmax = self.quant_min, self.quant_max
        min_neg = np.minimum(min_val, np.float32(0))
        max_pos = np.maximum(max_val, np.float32(0))
        if self.qscheme in _SYMMETRIC:
            max_pos = np.maximum(-min_neg, max_pos)
            scale = np.maximum(max_pos / np.float32((qmax - qmin) / 2), self.eps)
            zp = np.zeros(scale.shape, np.int64)
            if self.dtype is quint8:
                zp[...] = (qmin + qmax) // 2 if self.has_customized_qrange else 128
        else:
            scale = np.maximum((max_pos - min_neg) / np.float32(qmax - qmin), self.eps)
            zp = qmin - np.rint(min_neg / scale).astype(np.int64)
            zp = np.clip(zp, qmin, qmax)
        return (np.atleast_1d(scale).astype(np.float32), np.atleast_1d(zp).astype(np.int64))

    def calculate_qparams(self):
        """(scale, zero_point): float32 and int64 arrays, one entry per channel."""
        return self._qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    @classmethod
    def with_args(cls, **kwargs):
        """A factory of this observer with these arguments (PyTorch's ``with_args``)."""
        return functools.partial(cls, **kwargs)


class MinMaxObserver(ObserverBase):
    """The running minimum and maximum of everything seen."""

    def observe(self, v):
        self.min_val = np.minimum(self.min_val, v.min())
        self.max_val = np.maximum(self.max_val, v.max())


class MovingAverageMinMaxObserver(ObserverBase):
    """``min <- min + c * (batch_min - min)`` (and max alike); the first batch sets them."""

    def __init__(self, averaging_constant=0.01, **kwargs):
        super().__init__(**kwargs)
        self.averaging_constant = np.float32(averaging_constant)

    def observe(self, v):
        lo, hi = v.min(), v.max()
        if not np.isfinite(self.min_val) or not np.isfinite(self.max_val):
            self.min_val, self.max_val = np.array(lo), np.array(hi)
            return
        c = self.averaging_constant
        self.min_val = self.min_val + c * (lo - self.min_val)
        self.max_val = self.max_val + c * (hi - self.max_val)


class PerChannelMinMaxObserver(ObserverBase):
    """The minimum and maximum of each slice along ``ch_axis`` (weights: output channels)."""

    per_channel = True

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=per_channel_affine, **kwargs):
        super().__init__(dtype=dtype, qscheme=qscheme, **kwargs)
        self.ch_axis = ch_axis

    def _batch_minmax(self, v):
        rows = np.moveaxis(v, self.ch_axis, 0).reshape(v.shape[self.ch_axis], -1)
        return rows.min(axis=1), rows.max(axis=1)

    def observe(self, v):
        lo, hi = self._batch_minmax(v)
        if self.min_val.ndim == 0:
            self.min_val, self.max_val = lo, hi
        else:
            self.min_val = np.minimum(self.min_val, lo)
            self.max_val = np.maximum(self.max_val, hi)


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per channel minimum and maximum as moving averages (QAT's weight observer)."""

    def __init__(self, averaging_constant=0.01, **kwargs):
        super().__init__(**kwargs)
        self.averaging_constant = np.float32(averaging_constant)

    def observe(self, v):
        lo, hi = self._batch_minmax(v)
        if self.min_val.ndim == 0:
            self.min_val, self.max_val = lo, hi
            return
        c = self.averaging_constant
        self.min_val = self.min_val + c * (lo - self.min_val)
        self.max_val = self.max_val + c * (hi - self.max_val)


class PlaceholderObserver(Module):
    """Records nothing: marks a dtype (dynamic activations are quantised per batch,
    float16 weights are just cast)."""

    def __init__(self, dtype=quint8, quant_min=None, quant_max=None, is_dynamic=False,
                 compute_dtype=None):
        super().__init__()
        self.dtype, self.is_dynamic = dtype, is_dynamic
        self.quant_min, self.quant_max = quant_min, quant_max

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise RuntimeError("PlaceholderObserver has no quantisation parameters: it only "
                           f"marks the dtype {self.dtype!r}")

    @classmethod
    def with_args(cls, **kwargs):
        return functools.partial(cls, **kwargs)


def choose_qparams_dynamic(v: np.ndarray, quant_min: int, quant_max: int):
    """Scale and zero point of one batch for dynamic quantisation: the range [min, max]
    (widened to hold 0), zero point picked from the end with the smaller rounding error, as
    fbgemm's ``ChooseQuantizationParams`` does (in double precision)."""
    lo = min(float(v.min()), 0.0) if v.size else 0.0
    hi = max(float(v.max()), 0.0) if v.size else 0.0
    s = (hi - lo) / (quant_max - quant_min)
    if np.float32(s) == 0 or not np.isfinite(1 / np.float32(s)):
        s = 0.1
    zp_min, zp_max = quant_min - lo / s, quant_max - hi / s
    err_min = abs(quant_min) - abs(lo / s)
    err_max = abs(quant_max) - abs(hi / s)
    initial = zp_min if err_min < err_max else zp_max
    zp = quant_min if initial < quant_min else quant_max if initial > quant_max else int(
        np.rint(initial))
    scale = np.float32(s)
    return scale, zp


default_observer = MinMaxObserver.with_args(dtype=quint8, quant_min=0, quant_max=127)
default_weight_observer = MinMaxObserver.with_args(dtype=qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=qint8, qscheme=per_channel_symmetric)
default_histogram_observer = None  # set in histogram.py (it imports this file)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=quint8, quant_min=0, quant_max=255, is_dynamic=True)
