"""Statically quantised modules (what ``convert`` puts in a calibrated model): they take
and return ``QTensor`` activations and compute with int8 weights and exact integer
GEMMs (``kernels.py``). PyTorch's ``torch.ao.nn.quantized`` names.

>>> import numpy as np
>>> from axonic.quantization.qtypes import quantize_per_tensor, quint8
>>> q = quantize_per_tensor(np.array([[-1.0, 2.0]], np.float32), 0.1, 50, quint8)
>>> PassThrough(__import__("axonic").nn.ReLU())(q).dequantize().tolist()
[[0.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make, tensor
from axonic.nn.activation import ReLU
from axonic.nn.containers import Sequential
from axonic.nn.dropout import Dropout
from axonic.nn.flatten import Flatten
from axonic.nn.linear import Identity
from axonic.nn.module import Module
from axonic.quantization import kernels
from axonic.quantization.qtypes import QTensor, qint8, quantize_array, quint8


def _buffer(array, dtype):
    return _make(np.array(array, dtype=dtype))


def _input_error(module, x):
    return module.input_error(
        f"expected a quantised input (QTensor), got {type(x).__name__}; put a QuantStub "
        "before the quantised part of the model (or wrap it: QuantWrapper(model))")


def output_qparams(module):
    """(scale, zero_point) of a prepared module's output observer."""
    obs = getattr(module, "activation_post_process", None)
    if obs is None:
        raise ValueError(f"convert: {type(module).__name__} has no output observer; run "
                         "prepare() and calibrate before convert()")
    scale, zp = obs.calculate_qparams()
    return float(scale[0]), int(zp[0]), obs.dtype


def quantized_weight(module, weight):
    """int8 weights and their per-row scales and zero points, from the qconfig's observer
    (per channel along the output axis, or one value repeated per row)."""
    wobs = getattr(module, "weight_fake_quant", None)
    if wobs is None:
        wobs = module.qconfig.weight()
        wobs(weight)
    w = weight._data.astype(np.float32)
    scale, zp = wobs.calculate_qparams()
    per_channel = scale.size > 1 or getattr(wobs, "ch_axis", None) is not None and \
        wobs.qscheme.startswith("per_channel")
    dtype = wobs.dtype
    rows = w.shape[0]
    scale = np.broadcast_to(scale, (rows,)).astype(np.float32)
    zp = np.broadcast_to(zp, (rows,)).astype(np.int64)
    ints = quantize_array(w, scale, zp, dtype.quant_min, dtype.quant_max, dtype.storage, 0)
    return ints, scale, zp, per_channel


class Quantize(Module):
    """Float Tensor -> QTensor with fixed scale and zero point (a converted QuantStub)."""

    def __init__(self, scale, zero_point, dtype=quint8):
        super().__init__()
        self.dtype = dtype
        self.register_buffer("scale", _buffer(scale, np.float32))
        self.register_buffer("zero_point", _buffer(zero_point, np.int64))

    def forward(self, x):
        if isinstance(x, QTensor):
            return x
        ints = quantize_array(x._data, self.scale._data, self.zero_point._data,
                              self.dtype.quant_min, self.dtype.quant_max, self.dtype.storage)
        return QTensor(ints, self.scale._data, self.zero_point._data, self.dtype)

    @classmethod
    def from_float(cls, stub):
        scale, zp, dtype = output_qparams(stub)
        return cls(scale, zp, dtype)

    def extra_repr(self):
        return f"scale={float(self.scale._data):.6g}, zero_point={int(self.zero_point._data)}"


class DeQuantize(Module):
    """QTensor -> float32 Tensor (a converted DeQuantStub)."""

    def forward(self, x):
        return x.dequantize() if isinstance(x, QTensor) else x


class _QuantizedWeighted(Module):
    """The weights, qparams and integer GEMM cache shared by Linear and Conv2d."""

    relu = False

    def _init_buffers(self, ints, wscale, wzp, bias, scale, zp, per_channel, out_dtype):
        self.register_buffer("weight", _make(ints))
        self.register_buffer("weight_scale", _buffer(wscale, np.float32))
        self.register_buffer("weight_zero_point", _buffer(wzp, np.int64))
        self.register_buffer("bias", None if bias is None else _buffer(bias, np.float32))
        self.register_buffer("scale", _buffer(scale, np.float32))
        self.register_buffer("zero_point", _buffer(zp, np.int64))
        self.per_channel, self.dtype, self._cache = per_channel, out_dtype, None

    def _centred_weight(self):
        """(int weights - zero points) as float32 and their largest magnitude, recomputed
        when the weights change (load_state_dict)."""
        version = (self.weight._vc[0], self.weight_zero_point._vc[0])
        if self._cache is None or self._cache[0] != version:
            shape = (-1,) + (1,) * (self.weight.ndim - 1)
            w = self.weight._data.astype(np.float32) - self.weight_zero_point._data.reshape(
                shape).astype(np.float32)
            self._cache = (version, self._prepare(w), int(np.abs(w).max(initial=1)))
        return self._cache[1], self._cache[2]

    def _finish(self, acc, x, channel_axis):
        shape = [1] * acc.ndim
        shape[channel_axis] = -1
        mult = (np.float32(x.q_scale()) * self.weight_scale._data).reshape(shape)
        y = acc.astype(np.float32) * mult
        if self.bias is not None:
            y += self.bias._data.reshape(shape)
        q = kernels.requantize(y, self.scale._data, int(self.zero_point._data), self.dtype)
        if self.relu:
            q = np.maximum(q, self.dtype.storage.type(int(self.zero_point._data)))
        return QTensor(q, self.scale._data, self.zero_point._data, self.dtype)

    def weight_float(self) -> np.ndarray:
        """The dequantised weights (float32)."""
        shape = (-1,) + (1,) * (self.weight.ndim - 1)
        return ((self.weight._data.astype(np.float32)
                 - self.weight_zero_point._data.reshape(shape))
                * self.weight_scale._data.reshape(shape)).astype(np.float32)


class Linear(_QuantizedWeighted):
    """Quantised ``y = x @ W.T + b``: uint8 in, int8 weights, uint8 out."""

    def __init__(self, in_features, out_features, ints, wscale, wzp, bias, scale, zero_point,
                 per_channel=True, dtype=quint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._init_buffers(ints, wscale, wzp, bias, scale, zero_point, per_channel, dtype)

    def _prepare(self, w):
        return np.ascontiguousarray(w.T)

    def forward(self, x):
        if not isinstance(x, QTensor):
            raise _input_error(self, x)
        if x.shape[-1] != self.in_features:
            raise self.input_error(f"expected input with last dimension {self.in_features}, "
                                   f"got shape {x.shape}")
        w_t, w_bound = self._centred_weight()
        acc = kernels.qlinear_acc(x.int_repr(), x.q_zero_point(),
                                  kernels.int_bound(x.dtype, x.q_zero_point()), w_t, w_bound)
        return self._finish(acc, x, -1)

    @classmethod
    def from_float(cls, mod):
        lin = mod[0] if isinstance(mod, Sequential) else mod
        ints, ws, wz, pc = quantized_weight(mod, lin.weight)
        scale, zp, dtype = output_qparams(mod)
        bias = None if lin.bias is None else lin.bias._data
        out = cls(lin.in_features, lin.out_features, ints, ws, wz, bias, scale, zp, pc, dtype)
        out.relu = getattr(mod, "fused_relu", False)
        return out

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={float(self.scale._data):.6g}, zero_point={int(self.zero_point._data)}"
                f"{', relu' if self.relu else ''}")


class Conv2d(_QuantizedWeighted):
    """Quantised 2-d convolution (zero padding): uint8 in, int8 weights, uint8 out."""

    def __init__(self, conv, ints, wscale, wzp, bias, scale, zero_point, per_channel=True,
                 dtype=quint8):
        super().__init__()
        for k in ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups",
                  "padding"):
            setattr(self, k, getattr(conv, k))
        self._pads = conv._pads
        self._init_buffers(ints, wscale, wzp, bias, scale, zero_point, per_channel, dtype)

    def _prepare(self, w):
        return kernels.conv_weight_rows(w, self.groups)

    def forward(self, x):
        if not isinstance(x, QTensor):
            raise _input_error(self, x)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise self.input_error(f"expected input (N, {self.in_channels}, H, W), got shape "
                                   f"{x.shape}")
        wm, w_bound = self._centred_weight()
        acc = kernels.qconv_acc(x.int_repr(), x.q_zero_point(),
                                kernels.int_bound(x.dtype, x.q_zero_point()), wm, w_bound,
                                self.kernel_size, self.stride, self._pads, self.dilation)
        return self._finish(acc, x, 1)

    @classmethod
    def from_float(cls, mod):
        conv = mod[0] if isinstance(mod, Sequential) else mod
        if conv.padding_mode != "zeros":
            raise ValueError(f"convert: quantised Conv2d supports padding_mode='zeros' only, "
                             f"got {conv.padding_mode!r}")
        ints, ws, wz, pc = quantized_weight(mod, conv.weight)
        scale, zp, dtype = output_qparams(mod)
        bias = None if conv.bias is None else conv.bias._data
        out = cls(conv, ints, ws, wz, bias, scale, zp, pc, dtype)
        out.relu = getattr(mod, "fused_relu", False)
        return out

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, scale={float(self.scale._data):.6g}, "
                f"zero_point={int(self.zero_point._data)}{', relu' if self.relu else ''}")


class PassThrough(Module):
    """Runs a float module that commutes with the affine map (ReLU, max/avg pooling,
    Flatten, Dropout in eval, Identity) on ``q - zero_point`` and keeps the qparams: exact
    for ReLU, max pooling and reshapes; averages are rounded to the grid."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        if not isinstance(x, QTensor):
            return self.module(x)
        m, zp = self.module, x.q_zero_point()
        # the exact cases straight on the integers (no float round trip)
        if isinstance(m, Dropout | Identity):
            return x
        if isinstance(m, Flatten):
            return x.flatten(m.start_dim, m.end_dim)
        if isinstance(m, ReLU):
            return x.with_ints(np.maximum(x.int_repr(), x.dtype.storage.type(zp)))
        y = m(tensor(kernels.centred(x.int_repr(), zp)))
        y = y._data if isinstance(y, Tensor) else y
        d = x.dtype
        return x.with_ints(np.clip(np.rint(y) + zp, d.quant_min, d.quant_max).astype(d.storage))


__all__ = ["Quantize", "DeQuantize", "Linear", "Conv2d", "PassThrough", "qint8"]
