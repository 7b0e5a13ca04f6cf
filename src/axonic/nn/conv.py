"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

Weight shapes, ``state_dict`` keys and default initialisation are PyTorch's: a
convolution's weight is (out_channels, in_channels / groups, *kernel_size), a transposed
one's (in_channels, out_channels / groups, *kernel_size); weight ~ kaiming_uniform(a=sqrt(5))
and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in taken from the weight. The
computation is in ``axonic.ops.conv`` (im2col and one GEMM per layer).
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import resolve_dtype
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops.conv import Conv2dFunction, conv_padding, conv_size_problem, ntuple
from axonic.ops.conv_transpose import ConvTranspose2dFunction, conv_transpose_out_size
from axonic.ops.join import pad as _pad

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _empty(shape, dtype, device):
    from axonic.ops.creation import empty

    return empty(*shape, dtype=resolve_dtype(dtype), device=device)


class _ConvNd(Module):
    _spatial = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding, device, dtype):
        super().__init__()
        name, n = type(self).__name__, self._spatial
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels),
                       ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {v!r}")
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if v % groups:
                raise ValueError(f"{name}: {arg} ({v}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        self.stride = ntuple(stride, n, "stride", name)
        self.dilation = ntuple(dilation, n, "dilation", name)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        if self._transposed:
            if isinstance(padding, str):
                raise ValueError(f"{name}: padding must be an int or a tuple of {n} ints, "
                                 f"got {padding!r}")
            self.padding = ntuple(padding, n, "padding", name, minimum=0)
            self.output_padding = ntuple(output_padding, n, "output_padding", name, minimum=0)
            conv_transpose_out_size((1 << 20,) * n, self.kernel_size, self.stride,
                                    self.padding, self.output_padding, self.dilation, name)
            self._pads = tuple((p, p) for p in self.padding)
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            self._pads = conv_padding(padding, self.kernel_size, self.stride, self.dilation,
                                      name)
            self.padding = padding if isinstance(padding, str) else tuple(
                a for a, _ in self._pads)
            self.output_padding = (0,) * n
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        # F.pad order (last dim first) for the non-zero padding modes
        self._reversed_padding_repeated_twice = tuple(
            p for pair in reversed(self._pads) for p in pair)
        self.weight = Parameter(_empty(shape, dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = init.default_bound(fan_in)
            init.uniform_(self.bias, -bound, bound)

    # --- input checks, shared by the forward passes ----------------------------------
    def _batched(self, input: Tensor) -> tuple[Tensor, bool]:
        n = self._spatial
        dims = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}[n]
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got "
                            f"{type(input).__name__}")
        if input.ndim not in (n + 1, n + 2):
            raise self.input_error(
                f"expected a {n + 2}-d input {dims} or an unbatched {n + 1}-d input "
                f"{dims.replace('N, ', '')}, got shape {tuple(input.shape)}")
        if input.shape[-n - 1] != self.in_channels:
            raise self.input_error(f"expected {self.in_channels} input channels, got shape "
                                   f"{tuple(input.shape)}")
        if input.dtype != self.weight.dtype:
            raise self.input_error(
                f"expected input of dtype {self.weight.dtype} (the weight's), got "
                f"{input.dtype}; convert the input with .to() or the layer with .double()")
        batched = input.ndim == n + 2
        x = input if batched else input.unsqueeze(0)
        return (x.unsqueeze(2) if n == 1 else x), batched

    def _finish(self, out: Tensor, batched: bool) -> Tensor:
        if self._spatial == 1:
            out = out.squeeze(2)
        return out if batched else out.squeeze(0)

    def _weight2d(self) -> Tensor:
        return self.weight.unsqueeze(2) if self._spatial == 1 else self.weight

    def _as2d(self, values, fill):
        """A 1-d layer's per-dim values with a leading height entry ``fill``."""
        return (fill,) + tuple(values) if self._spatial == 1 else tuple(values)

    def extra_repr(self) -> str:
        n = self._spatial
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"  # PyTorch's: a string unquoted
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def forward(self, input: Tensor) -> Tensor:
        x, batched = self._batched(input)
        spatial = tuple(x.shape[2:])
        pads = self._as2d(self._pads, (0, 0))
        if self.padding_mode != "zeros":
            x = self._pad_input(x, spatial, pads)
            spatial = tuple(x.shape[2:])
            pads = ((0, 0), (0, 0))
        kernel, dilation = self._as2d(self.kernel_size, 1), self._as2d(self.dilation, 1)
        problem = conv_size_problem(spatial, pads, kernel, dilation)
        if problem:
            raise self.input_error(problem)
        out = Conv2dFunction.apply(x, self._weight2d(), self.bias,
                                   stride=self._as2d(self.stride, 1), pads=pads,
                                   dilation=dilation, groups=self.groups)
        return self._finish(out, batched)

    def _pad_input(self, x, spatial, pads):
        mode = self.padding_mode
        for size, (a, b) in zip(spatial, pads):
            if (mode == "reflect" and max(a, b) >= size) or (
                    mode == "circular" and max(a, b) > size):
                shape = tuple(x.shape) if self._spatial != 1 else tuple(x.squeeze(2).shape)
                raise self.input_error(
                    f"padding_mode={mode!r} with padding {self.padding!r} needs each spatial "
                    f"size larger than its padding, got input shape {shape}")
        widths = tuple(p for pair in reversed(pads) for p in pair)
        return _pad(x, widths, mode=mode)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        x, batched = self._batched(input)
        n = self._spatial
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(tuple(input.shape[-n:]), output_size)
        kernel, stride = self._as2d(self.kernel_size, 1), self._as2d(self.stride, 1)
        padding, dilation = self._as2d(self.padding, 0), self._as2d(self.dilation, 1)
        output_padding = self._as2d(output_padding, 0)
        try:
            out_hw = conv_transpose_out_size(tuple(x.shape[2:]), kernel, stride, padding,
                                             output_padding, dilation, type(self).__name__)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[1]) from None
        out = ConvTranspose2dFunction.apply(
            x, self._weight2d(), self.bias, stride=stride, padding=padding,
            output_padding=output_padding, dilation=dilation, groups=self.groups,
            out_hw=out_hw)
        return self._finish(out, batched)

    def _output_padding_for(self, spatial, output_size):
        n = self._spatial
        size = tuple(int(s) for s in output_size)[-n:]
        if len(size) != n:
            raise self.input_error(f"output_size must have {n} or {n + 2} elements, "
                                   f"got {tuple(output_size)!r}")
        base = tuple((s - 1) * st - 2 * p + d * (k - 1) + 1 for s, st, p, d, k in
                     zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size))
        extra = tuple(o - b for o, b in zip(size, base))
        if any(e < 0 or e >= max(st, d) for e, st, d in zip(extra, self.stride, self.dilation)):
            top = tuple(b + max(st, d) - 1 for b, st, d in zip(base, self.stride, self.dilation))
            raise self.input_error(f"requested output_size {size} is not reachable: "
                                   f"expected sizes between {base} and {top}")
        return extra


class Conv1d(_Conv):
    """1-d convolution over (N, C, L) inputs.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Conv1d(4, 8, 3, padding="same")(axonic.ones(2, 4, 10)).shape
    (2, 8, 10)
    """

    _spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)


class Conv2d(_Conv):
    """2-d convolution over (N, C, H, W) inputs.

    ``padding`` is an int, a pair, 'valid' or 'same'; ``padding_mode`` one of 'zeros',
    'reflect', 'replicate', 'circular'.

    >>> import axonic
    >>> from axonic import nn
    >>> conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
    >>> conv.weight.shape, conv(axonic.ones(2, 3, 32, 32)).shape
    ((16, 3, 3, 3), (2, 16, 16, 16))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution over (N, C, L) inputs.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(axonic.ones(1, 4, 5)).shape
    (1, 2, 11)
    """

    _spatial = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution (the adjoint of ``Conv2d``), e.g. for upsampling.

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that
    gives that size.

    >>> import axonic
    >>> from axonic import nn
    >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
    >>> up.weight.shape, up(axonic.ones(1, 16, 7, 7)).shape
    ((16, 8, 3, 3), (1, 8, 14, 14))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)
