"""Small layers that let a plain list of layers describe sequence models in a config:
picking the output of a recurrent layer, pooling over time, adding positions."""

from __future__ import annotations

import axonic
from axonic import nn


def _first(x):
    """The output sequence of layers that return ``(output, state)`` (LSTM, GRU, RNN)."""
    return x[0] if isinstance(x, tuple) else x


class LastStep(nn.Module):
    """``x[:, -1]`` of a batch-first sequence ``(B, T, F)`` (an RNN's ``(output, h)`` too).

    >>> LastStep()(axonic.zeros(2, 5, 3)).shape
    (2, 3)
    """

    def forward(self, x):
        x = _first(x)
        if x.ndim != 3:
            raise self.input_error(f"expected a (batch, time, features) sequence, got shape "
                                   f"{tuple(x.shape)}")
        return x[:, -1]


class MeanOverTime(nn.Module):
    """The mean over the time axis of a batch-first sequence ``(B, T, F)`` -> ``(B, F)``.

    >>> MeanOverTime()(axonic.ones(2, 5, 3)).shape
    (2, 3)
    """

    def forward(self, x):
        x = _first(x)
        if x.ndim != 3:
            raise self.input_error(f"expected a (batch, time, features) sequence, got shape "
                                   f"{tuple(x.shape)}")
        return x.mean(dim=1)


class Unsqueeze(nn.Module):
    """Insert an axis of size one at ``dim`` (e.g. ``(B, T)`` -> ``(B, T, 1)`` for an RNN).

    >>> Unsqueeze(-1)(axonic.zeros(2, 5)).shape
    (2, 5, 1)
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.unsqueeze(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PositionalEmbedding(nn.Module):
    """Add a learned embedding of each position: ``x + P[:T]`` for ``x`` of ``(B, T, D)``.

    >>> PositionalEmbedding(16, 4)(axonic.zeros(2, 5, 4)).shape
    (2, 5, 4)
    """

    def __init__(self, max_len: int, embedding_dim: int):
        super().__init__()
        self.max_len, self.embedding_dim = max_len, embedding_dim
        self.weight = nn.Parameter(axonic.randn(max_len, embedding_dim) * 0.02)

    def forward(self, x):
        if x.ndim != 3 or x.shape[2] != self.embedding_dim or x.shape[1] > self.max_len:
            raise self.input_error(f"expected (batch, time <= {self.max_len}, "
                                   f"{self.embedding_dim}), got {tuple(x.shape)}")
        return x + self.weight[: x.shape[1]]

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.embedding_dim}"


HELPERS = {c.__name__: c for c in (LastStep, MeanOverTime, Unsqueeze, PositionalEmbedding)}
