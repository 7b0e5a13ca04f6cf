"""Power-average pooling, PyTorch's ``LPPool1d`` / ``LPPool2d``: each window's
``(sum of x^p) ^ (1 / p)`` (``p = 1``: sum pooling; large ``p`` tends to max pooling),
computed as PyTorch does, from average pooling of ``x^p``.

>>> import axonic
>>> lp_pool1d(axonic.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2).tolist()
[[[5.0, 1.4142135381698608]]]
"""

from __future__ import annotations

from axonic.nn.module import Module
from axonic.ops.activations import relu
from axonic.ops.conv import ntuple
from axonic.ops.pooling import avg_pool1d, avg_pool2d


def _norm(name: str, norm_type):
    if isinstance(norm_type, bool) or not isinstance(norm_type, int | float) or norm_type <= 0:
        raise ValueError(f"{name}: norm_type must be a positive number, got {norm_type!r}")
    return norm_type


def lp_pool1d(input, norm_type: float, kernel_size: int, stride=None, ceil_mode: bool = False):
    """``(sum over each window of x^p) ^ (1 / p)`` over (N, C, L)."""
    p = float(_norm("lp_pool1d", norm_type))
    (k,) = ntuple(kernel_size, 1, "kernel_size", "lp_pool1d")
    out = avg_pool1d(input ** p, k, stride, 0, ceil_mode)
    return ((out.sign() * relu(out.abs())) * k) ** (1.0 / p)


def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """``(sum over each window of x^p) ^ (1 / p)`` over (N, C, H, W)."""
    p = float(_norm("lp_pool2d", norm_type))
    kh, kw = ntuple(kernel_size, 2, "kernel_size", "lp_pool2d")
    out = avg_pool2d(input ** p, (kh, kw), stride, 0, ceil_mode)
    return ((out.sign() * relu(out.abs())) * (kh * kw)) ** (1.0 / p)


class _LPPool(Module):
    _fn = None

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type = _norm(type(self).__name__, norm_type)
        self.kernel_size, self.stride, self.ceil_mode = kernel_size, stride, bool(ceil_mode)

    def forward(self, input):
        try:
            return type(self)._fn(input, self.norm_type, self.kernel_size, self.stride,
                                  self.ceil_mode)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """Power-average pooling over (N, C, L) or (C, L)."""

    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPool):
    """Power-average pooling over (N, C, H, W) or (C, H, W)."""

    _fn = staticmethod(lp_pool2d)
