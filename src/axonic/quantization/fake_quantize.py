"""Fake quantisation for quantisation-aware training: the forward pass rounds values to
the int8 grid and back (``(clamp(round(x / s) + z) - z) * s``), so the network learns
around the rounding; the backward pass is the straight-through estimator, gradient 1
where the value fell inside the representable range and 0 where it was clamped.

>>> import axonic
>>> x = axonic.tensor([0.26, 9.0], requires_grad=True)
>>> y = fake_quantize_per_tensor_affine(x, 0.5, 0, -128, 127)
>>> y.tolist()
[0.5, 9.0]
>>> y.sum().backward(); x.grad.tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import functools

import numpy as np

from axonic.autograd.function import Function
from axonic.nn.module import Module
from axonic.quantization.observer import (
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
)
from axonic.quantization.qtypes import (
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qint8,
    quint8,
)


class FakeQuantizeSTE(Function):
    """Quantise-dequantise forward; straight-through (masked identity) backward.
    ``scale``/``zero_point`` broadcast against ``x`` (per channel: reshaped along the axis)."""

    def forward(self, x, scale, zero_point, quant_min, quant_max):
        xp = self.xp
        q = xp.rint(x / scale) + zero_point
        inside = (q >= quant_min) & (q <= quant_max)
        self.save_for_backward(inside)
        return ((xp.clip(q, quant_min, quant_max) - zero_point) * scale).astype(x.dtype)

    def backward(self, g):
        (inside,) = self.saved_tensors
        return g * inside


def _as_arrays(x, scale, zero_point, axis):
    scale = np.asarray(scale, x.dtype)
    zero_point = np.asarray(zero_point, x.dtype)
    if axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return scale, zero_point


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """PyTorch's ``torch.fake_quantize_per_tensor_affine`` (differentiable in ``input``)."""
    if not float(scale) > 0:
        raise ValueError(f"fake_quantize_per_tensor_affine: scale must be > 0, got {scale!r}")
    s, z = _as_arrays(input._data, scale, zero_point, None)
    return FakeQuantizeSTE.apply(input, scale=s, zero_point=z, quant_min=quant_min,
                                 quant_max=quant_max)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """PyTorch's ``torch.fake_quantize_per_channel_affine``."""
    scale = np.asarray(scale).reshape(-1)
    if scale.size != input.shape[axis]:
        raise ValueError(f"fake_quantize_per_channel_affine: {scale.size} scales for axis "
                         f"{axis} of size {input.shape[axis]} (input shape {input.shape})")
    s, z = _as_arrays(input._data, scale, np.asarray(zero_point).reshape(-1), axis)
    return FakeQuantizeSTE.apply(input, scale=s, zero_point=z, quant_min=quant_min,
                                 quant_max=quant_max)


class FakeQuantize(Module):
    """Observe (update the observer) and fake-quantise with its current qparams.

    ``enable_observer``/``disable_observer`` and ``enable_fake_quant``/``disable_fake_quant``
    switch the two parts, as in PyTorch (freeze the ranges late in training).
    """

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None,
                 **observer_kwargs):
        super().__init__()
        self.activation_post_process = observer(quant_min=quant_min, quant_max=quant_max,
                                                **observer_kwargs)
        obs = self.activation_post_process
        self.quant_min, self.quant_max = obs.quant_min, obs.quant_max
        self.dtype, self.qscheme = obs.dtype, obs.qscheme
        self.ch_axis = getattr(obs, "ch_axis", None) if obs.per_channel else None
        self.fake_quant_enabled, self.observer_enabled = True, True
        self.scale = np.ones(1, np.float32)
        self.zero_point = np.zeros(1, np.int64)

    def enable_fake_quant(self, enabled: bool = True):
        self.fake_quant_enabled = bool(enabled)
        return self

    def disable_fake_quant(self):
        return self.enable_fake_quant(False)

    def enable_observer(self, enabled: bool = True):
        self.observer_enabled = bool(enabled)
        return self

    def disable_observer(self):
        return self.enable_observer(False)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        if self.observer_enabled:
            self.activation_post_process(x)
            self.scale, self.zero_point = self.calculate_qparams()
        if not self.fake_quant_enabled:
            return x
        if self.ch_axis is not None:
            return fake_quantize_per_channel_affine(x, self.scale, self.zero_point,
                                                    self.ch_axis, self.quant_min, self.quant_max)
        return fake_quantize_per_tensor_affine(x, self.scale[0], self.zero_point[0],
                                               self.quant_min, self.quant_max)

    def extra_repr(self):
        return (f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled="
                f"{self.observer_enabled}, quant_min={self.quant_min}, quant_max="
                f"{self.quant_max}, scale={self.scale}, zero_point={self.zero_point}")

    @classmethod
    def with_args(cls, **kwargs):
        return functools.partial(cls, **kwargs)


def disable_observer(module):
    """For ``model.apply``: freeze the ranges of every FakeQuantize."""
    if isinstance(module, FakeQuantize):
        module.disable_observer()


def enable_observer(module):
    if isinstance(module, FakeQuantize):
        module.enable_observer()


default_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=quint8,
    qscheme=per_tensor_affine, reduce_range=True)
default_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=qint8,
    qscheme=per_tensor_symmetric)
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
    dtype=qint8, qscheme=per_channel_symmetric, ch_axis=0)
