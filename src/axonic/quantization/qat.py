"""Modules for quantisation-aware training (``prepare_qat`` swaps them in): the float
layer whose weight passes through its ``weight_fake_quant`` on every forward, so training
sees the int8 rounding and the straight-through estimator carries the gradient.

>>> import axonic
>>> from axonic import nn
>>> from axonic.quantization import get_default_qat_qconfig
>>> lin = nn.Linear(3, 2); lin.qconfig = get_default_qat_qconfig()
>>> Linear.from_float(lin)(axonic.ones(1, 3)).shape
(1, 2)
"""

from __future__ import annotations

from axonic.nn import conv as _conv
from axonic.nn import linear as _linear
from axonic.ops.conv import Conv2dFunction


class Linear(_linear.Linear):
    """``Linear`` with fake-quantised weights."""

    fused_relu = False

    def forward(self, input):
        w = self.weight_fake_quant(self.weight)
        out = _linear.linear(input, w, self.bias)
        return out.relu() if self.fused_relu else out

    @classmethod
    def from_float(cls, mod):
        lin = mod[0] if getattr(mod, "fused_relu", False) else mod
        out = cls.__new__(cls)
        _linear.Linear.__init__(out, lin.in_features, lin.out_features, lin.bias is not None)
        out.weight, out.bias = lin.weight, lin.bias  # the same Parameters: optimisers keep them
        out.qconfig = mod.qconfig
        out.weight_fake_quant = mod.qconfig.weight()
        return out


class LinearReLU(Linear):
    """``relu(Linear)`` with fake-quantised weights (from a fused ``LinearReLU``)."""

    fused_relu = True


class Conv2d(_conv.Conv2d):
    """``Conv2d`` (zero padding) with fake-quantised weights."""

    fused_relu = False

    def forward(self, input):
        w = self.weight_fake_quant(self.weight)
        x, batched = self._batched(input)
        out = self._finish(Conv2dFunction.apply(x, w, self.bias, stride=self.stride,
                                                pads=self._pads, dilation=self.dilation,
                                                groups=self.groups), batched)
        return out.relu() if self.fused_relu else out

    @classmethod
    def from_float(cls, mod):
        c = mod[0] if getattr(mod, "fused_relu", False) else mod
        if c.padding_mode != "zeros":
            raise ValueError(f"prepare_qat: Conv2d supports padding_mode='zeros' only, got "
                             f"{c.padding_mode!r}")
        out = cls(c.in_channels, c.out_channels, c.kernel_size, stride=c.stride,
                  padding=c.padding, dilation=c.dilation, groups=c.groups,
                  bias=c.bias is not None)
        out.weight, out.bias = c.weight, c.bias
        out.qconfig = mod.qconfig
        out.weight_fake_quant = mod.qconfig.weight()
        return out


class ConvReLU2d(Conv2d):
    """``relu(Conv2d)`` with fake-quantised weights (from a fused ``ConvReLU2d``)."""

    fused_relu = True
