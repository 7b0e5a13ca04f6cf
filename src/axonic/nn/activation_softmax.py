"""Normalising activations along a dim: ``Softmax``, ``LogSoftmax``, ``Softmin``,
``Softmax2d`` (over channels) and their functional forms (stable for large logits).

>>> import axonic
>>> Softmax(dim=0)(axonic.tensor([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from axonic.autograd.tensor import Tensor
from axonic.nn.activation_base import _check_dim, _dim_ok
from axonic.nn.module import Module
from axonic.ops.softmax import log_softmax as _log_softmax
from axonic.ops.softmax import softmax as _softmax_fn


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, stable for large logits."""
    return _softmax_fn(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``x - logsumexp(x, dim)``, stable for large logits."""
    return _log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    return _softmax_fn(-input, dim, dtype)


class Softmax(Module):
    """``exp(x) / exp(x).sum(dim)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("Softmax", dim)

    def forward(self, input):
        _check_dim(self, input)
        return _softmax_fn(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``x - logsumexp(x, dim)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("LogSoftmax", dim)

    def forward(self, input):
        _check_dim(self, input)
        return _log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("Softmin", dim)

    def forward(self, input):
        _check_dim(self, input)
        return softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of each position: ``Softmax(dim=-3)`` on a ``(C, H, W)``
    or ``(N, C, H, W)`` input."""

    def forward(self, input):
        if not isinstance(input, Tensor) or input.ndim not in (3, 4):
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise self.input_error(f"expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got "
                                   f"{shape}")
        return softmax(input, -3)
