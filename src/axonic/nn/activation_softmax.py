"""Normalising activations along a dim: ``Softmax``, ``LogSoftmax``, ``Softmin`` and their
functional forms (stable for large logits).

>>> import axonic
>>> Softmax(dim=0)(axonic.tensor([0.0, 0.0])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

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
