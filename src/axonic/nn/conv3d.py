"""Volumes (video clips, scans): PyTorch's ``Conv3d`` / ``F.conv3d``, ``MaxPool3d`` /
``F.max_pool3d``, ``AvgPool3d`` / ``F.avg_pool3d`` and ``AdaptiveAvgPool3d`` /
``F.adaptive_avg_pool3d`` over ``(N, C, D, H, W)``.

Composed of differentiable ops: one gather of every ``kd x kh x kw`` block of the padded
volume (``x[:, :, d, h, w]`` with broadcast index arrays), then a batched matrix product
with the grouped weight (convolution), an ``amax`` or a sum (pooling); adaptive average
pooling is one ``einsum`` with a window-averaging matrix per axis. Their gradients are
those ops'. The block tensor holds ``C * kd * kh * kw`` values per output position: meant
for the small volumes of teaching and tests, not for large 3-d networks.

>>> import axonic
>>> from axonic import nn
>>> nn.Conv3d(2, 4, 3, padding=1)(axonic.ones(1, 2, 5, 6, 7)).shape
(1, 4, 5, 6, 7)
>>> nn.MaxPool3d(2)(axonic.ones(1, 2, 4, 4, 4)).shape
(1, 2, 2, 2, 2)
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.nn.conv import _Conv
from axonic.nn.module import Module
from axonic.ops._pool_windows import pool_out_size, pool_problem
from axonic.ops.conv import conv_padding, conv_size_problem, ntuple
from axonic.ops.join import pad
from axonic.ops.pooling import _avg_divisor, _pool_args


def _check(op: str, input) -> tuple:
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 5-d input (N, C, D, H, W) or an unbatched 4-d "
                         f"one, got shape {tuple(input.shape)}")
    return (input, True) if input.ndim == 5 else (input.unsqueeze(0), False)


def _blocks(x, kernel, dilation, stride, outs):
    """``(N, C, kd, kh, kw, od, oh, ow)``: every block of ``x`` (already padded)."""
    index = []
    for axis, (k, d, s, o) in enumerate(zip(kernel, dilation, stride, outs)):
        at = (np.arange(k) * d)[:, None] + (np.arange(o) * s)[None, :]  # (k, o)
        shape = [1] * 6
        shape[axis], shape[axis + 3] = k, o
        index.append(at.reshape(shape))
    return x[(slice(None), slice(None), *index)]


def _out_sizes(spatial, kernel, dilation, stride):
    return tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, d, s in zip(spatial, kernel, dilation, stride))


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """3-d convolution (cross-correlation) of ``(N, C, D, H, W)`` with ``weight``
    ``(O, C / groups, kd, kh, kw)``; ``padding`` an int, a triple, 'valid' or 'same'."""
    op = "conv3d"
    x, batched = _check(op, input)
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-d (out, in / groups, kd, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    o, cg = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    stride, dilation = ntuple(stride, 3, "stride", op), ntuple(dilation, 3, "dilation", op)
    pads = conv_padding(padding, kernel, stride, dilation, op)
    n, c = x.shape[:2]
    if c != cg * groups or o % groups:
        raise ValueError(f"{op}: expected {cg * groups} input channels ({cg} per group x "
                         f"{groups} groups) and out channels divisible by groups, got input "
                         f"shape {tuple(input.shape)} and weight {tuple(weight.shape)}")
    problem = conv_size_problem(tuple(x.shape[2:]), pads, kernel, dilation)
    if problem:
        raise ValueError(f"{op}: {problem}")
    if any(a or b for a, b in pads):
        x = pad(x, tuple(p for pair in reversed(pads) for p in pair))
    outs = _out_sizes(x.shape[2:], kernel, dilation, stride)
    cols = _blocks(x, kernel, dilation, stride, outs).reshape(
        n, groups, cg * math.prod(kernel), math.prod(outs))
    w = weight.reshape(1, groups, o // groups, cg * math.prod(kernel))
    out = (w @ cols).reshape(n, o, *outs)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1, 1)
    return out if batched else out.squeeze(0)


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The 2-d pooling's argument checks and output sizes, in three dims, and the extra
    room on the right that the windows ``ceil_mode`` adds need."""
    kernel, stride, padding, dilation = _pool_args(op, kernel_size, stride, padding,
                                                   dilation, 3)
    problem = pool_problem(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    if problem:
        raise ValueError(f"{op}: {problem}")
    geometry = list(zip(x.shape[2:], kernel, stride, padding, dilation))
    outs = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in geometry)
    extra = [max((o - 1) * s + d * (k - 1) + 1 - (n + 2 * p), 0)
             for o, (n, k, s, p, d) in zip(outs, geometry)]
    return kernel, stride, padding, dilation, outs, extra


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The maximum of each (dilated) window of ``(N, C, D, H, W)``; padding is -inf."""
    op = "max_pool3d"
    if return_indices:
        raise ValueError(f"{op}: return_indices=True is not implemented in axonic")
    x, batched = _check(op, input)
    kernel, stride, padding, dilation, outs, extra = _pool_geometry(
        op, x, kernel_size, stride, padding, dilation, ceil_mode)
    widths = tuple(w for p, e in zip(reversed(padding), reversed(extra)) for w in (p, p + e))
    if any(widths):
        x = pad(x, widths, value=-np.inf)
    out = _blocks(x, kernel, dilation, stride, outs).amax((2, 3, 4))
    return out if batched else out.squeeze(0)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """The mean of each window of ``(N, C, D, H, W)`` (PyTorch's divisors: padding counted
    when ``count_include_pad``, never the room ``ceil_mode`` adds past it)."""
    op = "avg_pool3d"
    x, batched = _check(op, input)
    kernel, stride, padding, dilation, outs, extra = _pool_geometry(
        op, x, kernel_size, stride, padding, 1, ceil_mode)
    counts = [_avg_divisor(n, o, k, s, p, count_include_pad)
              for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, outs)]
    widths = tuple(w for p, e in zip(reversed(padding), reversed(extra)) for w in (p, p + e))
    if any(widths):
        x = pad(x, widths)
    total = _blocks(x, kernel, dilation, stride, outs).sum((2, 3, 4))
    if divisor_override:
        out = total / divisor_override
    else:
        divisor = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
        out = total / Tensor(divisor.astype(x.dtype))
    return out if batched else out.squeeze(0)


def _averaging(n: int, o: int) -> np.ndarray:
    """``(o, n)``: row i averages PyTorch's adaptive window i."""
    m = np.zeros((o, n))
    for i in range(o):
        a, b = (i * n) // o, -(-((i + 1) * n) // o)
        m[i, a:b] = 1.0 / (b - a)
    return m


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of ``(N, C, D, H, W)`` to ``output_size`` (PyTorch's windows)."""
    from axonic.ops.adaptive_pooling import adaptive_output_size
    from axonic.ops.linalg import einsum

    op = "adaptive_avg_pool3d"
    x, batched = _check(op, input)
    outs = adaptive_output_size(output_size, tuple(x.shape[2:]), op)
    if 0 in x.shape[2:]:
        raise ValueError(f"{op}: expected a non-empty input, got shape {tuple(input.shape)}")
    md, mh, mw = (Tensor(_averaging(n, o).astype(x.dtype))
                  for n, o in zip(x.shape[2:], outs))
    out = einsum("ncdhw,ad,bh,ew->ncabe", x, md, mh, mw)
    return out if batched else out.squeeze(0)


class Conv3d(_Conv):
    """3-d convolution over (N, C, D, H, W) inputs (``padding`` an int, a triple, 'valid'
    or 'same'; every ``padding_mode``)."""

    _spatial = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        x, batched = self._batched(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            x = self._pad_input(x, tuple(x.shape[2:]), self._pads)
            padding = 0
        try:
            out = conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                         self.groups)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None
        return out if batched else out.squeeze(0)


class _Pool3d(Module):
    _fn = None
    _names = ()

    def forward(self, input):
        try:
            return type(self)._fn(input, *(getattr(self, n) for n in self._names))
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={getattr(self, n)}" for n in self._names)


class MaxPool3d(_Pool3d):
    """Max pooling over (N, C, D, H, W) or (C, D, H, W)."""

    _fn = staticmethod(max_pool3d)
    _names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        if return_indices:
            raise ValueError("MaxPool3d: return_indices=True is not implemented in axonic")
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode = bool(ceil_mode)


class AvgPool3d(_Pool3d):
    """Average pooling over (N, C, D, H, W) or (C, D, H, W)."""

    _fn = staticmethod(avg_pool3d)
    _names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
              "divisor_override")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class AdaptiveAvgPool3d(_Pool3d):
    """Average pooling of (N, C, D, H, W) to a fixed (OD, OH, OW)."""

    _fn = staticmethod(adaptive_avg_pool3d)
    _names = ("output_size",)

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size
