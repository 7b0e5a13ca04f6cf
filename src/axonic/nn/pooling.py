"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``.

Arguments, defaults and output sizes are PyTorch's (``stride`` defaults to the kernel
size; ``ceil_mode`` lets the last window run past the input). The computation is in
``axonic.ops.pooling``.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.nn.module import Module
from axonic.ops.adaptive_pooling import AdaptiveAvgPool2dFunction, adaptive_output_size
from axonic.ops.conv import ntuple
from axonic.ops.pooling import _avg_pool as _avg_pool_fn
from axonic.ops.pooling import _max_pool as _max_pool_fn
from axonic.ops.pooling import pool_problem


class _Pool(Module):
    _spatial = 2

    def _check(self, input) -> None:
        n = self._spatial
        dims = "(N, C, L)" if n == 1 else "(N, C, H, W)"
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got "
                            f"{type(input).__name__}")
        if input.ndim not in (n + 1, n + 2):
            raise self.input_error(
                f"expected a {n + 2}-d input {dims} or an unbatched {n + 1}-d input "
                f"{dims.replace('N, ', '')}, got shape {tuple(input.shape)}")

    def _args2d(self, kernel_size, stride, padding, dilation):
        """Validated per-dim arguments, with a leading height entry for the 1-d layers."""
        name, n = type(self).__name__, self._spatial
        k = ntuple(kernel_size, n, "kernel_size", name)
        s = k if stride is None else ntuple(stride, n, "stride", name)
        p = ntuple(padding, n, "padding", name, minimum=0)
        d = ntuple(dilation, n, "dilation", name)
        if any(pp > kk // 2 for pp, kk in zip(p, k)):
            raise ValueError(f"{name}: padding {padding!r} must be at most half of "
                             f"kernel_size {kernel_size!r}")
        if n == 1:
            return (1,) + k, (1,) + s, (0,) + p, (1,) + d
        return k, s, p, d

    def _problem(self, x, args, ceil_mode):
        """Why the pooling cannot run, in the layer's own (1-d or 2-d) terms."""
        n = self._spatial
        return pool_problem(x.shape[-n:], *(a[-n:] for a in args), ceil_mode)

    def _spatial_input(self, input):
        """The input as (..., H, W): 1-d layers pool over a height of 1."""
        return input.unsqueeze(-2) if self._spatial == 1 else input


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        self._args = self._args2d(kernel_size, stride, padding, dilation)

    def forward(self, input):
        self._check(input)
        x = self._spatial_input(input)
        problem = self._problem(x, self._args, self.ceil_mode)
        if problem:
            raise self.input_error(problem)
        out, idx = _max_pool_fn(type(self).__name__, x, *self._args, self.ceil_mode,
                                self.return_indices)
        if self._spatial == 1:
            out = out.squeeze(-2)
            idx = idx.squeeze(-2) if idx is not None else None
        return (out, idx) if self.return_indices else out

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over sliding windows of (N, C, L) inputs.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.MaxPool1d(2)(axonic.tensor([[[1.0, 4.0, 2.0, 3.0]]])).tolist()
    [[[4.0, 3.0]]]
    """

    _spatial = 1


class MaxPool2d(_MaxPool):
    """Max over sliding windows of (N, C, H, W) inputs; padding counts as -inf.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.MaxPool2d(2)(axonic.ones(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    """


class _AvgPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        if divisor_override is not None and (
                isinstance(divisor_override, bool)
                or not isinstance(divisor_override, int | np.integer) or divisor_override == 0):
            raise ValueError(f"{name}: divisor_override must be a non-zero int or None, "
                             f"got {divisor_override!r}")
        self.divisor_override = divisor_override
        self._args = self._args2d(kernel_size, stride, padding, 1)[:3]

    def forward(self, input):
        self._check(input)
        x = self._spatial_input(input)
        problem = self._problem(x, self._args + ((1, 1),), self.ceil_mode)
        if problem:
            raise self.input_error(problem)
        out = _avg_pool_fn(type(self).__name__, x, *self._args, self.ceil_mode,
                           self.count_include_pad, self.divisor_override)
        return out.squeeze(-2) if self._spatial == 1 else out

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPool):
    """Mean over sliding windows of (N, C, L) inputs.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.AvgPool1d(2)(axonic.tensor([[[1.0, 4.0, 2.0, 3.0]]])).tolist()
    [[[2.5, 2.5]]]
    """

    _spatial = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPool):
    """Mean over sliding windows of (N, C, H, W) inputs.

    ``count_include_pad`` counts zero padding in the divisor; ``divisor_override``
    replaces the divisor.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.AvgPool2d(3, stride=2, padding=1)(axonic.ones(1, 2, 9, 9)).shape
    (1, 2, 5, 5)
    """


class _AdaptiveAvgPool(_Pool):
    def __init__(self, output_size):
        super().__init__()
        n = self._spatial
        # validated against a stand-in size; None entries mean "as the input"
        adaptive_output_size(output_size, (1,) * n, type(self).__name__)
        self.output_size = output_size

    def forward(self, input):
        self._check(input)
        n = self._spatial
        if 0 in input.shape[-n:]:
            raise self.input_error(f"expected a non-empty input, got shape "
                                   f"{tuple(input.shape)}")
        out = adaptive_output_size(self.output_size, input.shape[-n:], type(self).__name__)
        x = self._spatial_input(input)
        out = AdaptiveAvgPool2dFunction.apply(x, out_hw=(1,) * (2 - n) + out)
        return out.squeeze(-2) if n == 1 else out

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Average (N, C, L) down to (N, C, output_size), PyTorch's bins.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.AdaptiveAvgPool1d(2)(axonic.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])).tolist()
    [[[2.0, 4.0]]]
    """

    _spatial = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Average (N, C, H, W) down to (N, C, *output_size), whatever H and W are.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.AdaptiveAvgPool2d((1, 1))(axonic.ones(2, 8, 7, 5)).shape
    (2, 8, 1, 1)
    """
