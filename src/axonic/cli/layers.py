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


class _ResidualBase(nn.Module):
    """``x + body(x)``: ``layers`` are config tables (their input widths may be left out);
    when the body changes the width, ``x`` goes through a bias-free projection first."""

    _sample_rest = ()  # the sample's trailing shape after the width axis

    def __init__(self, layers: list, width: int):
        super().__init__()
        from axonic.cli.config import ConfigError
        from axonic.tune.widths import infer_widths

        name = type(self).__name__
        if not isinstance(layers, list) or not layers or not all(
                isinstance(t, dict) and "type" in t for t in layers):
            raise ValueError(f"layers must be a non-empty list of layer tables, got {layers!r}")
        sample = axonic.zeros(2, width, *self._sample_rest)
        try:
            tables = infer_widths(layers, sample)
        except ConfigError as e:
            raise ValueError(f"{name} body: {e}") from None
        from axonic.cli.builders import build_from_table, layer_types

        types = layer_types()
        self.body = nn.Sequential(*[build_from_table(f"{name}.layers[{i}]", t, types, "layer")
                                    for i, t in enumerate(tables)])
        with axonic.no_grad():
            out = self.body.eval()(sample)
        self.body.train()
        if out.shape[2:] != sample.shape[2:]:
            raise ValueError(f"the body maps shape {tuple(sample.shape[1:])} to "
                             f"{tuple(out.shape[1:])}; only the width may change (keep "
                             "pooling outside the residual block)")
        self.layers = tables  # the tables with their widths, for the repr and configs
        self.proj = None if out.shape[1] == width else self._projection(width, out.shape[1])

    def forward(self, x):
        skip = x if self.proj is None else self.proj(x)
        return skip + self.body(x)


class Residual(_ResidualBase):
    """``x + body(x)`` over feature vectors ``(B, F)``; a width change adds a bias-free
    ``Linear`` on the skip path.

    >>> r = Residual([{"type": "Linear", "out_features": 8}, {"type": "ReLU"}], in_features=4)
    >>> r(axonic.zeros(2, 4)).shape
    (2, 8)
    """

    def __init__(self, layers: list, in_features: int):
        super().__init__(layers, in_features)

    @staticmethod
    def _projection(a, b):
        return nn.Linear(a, b, bias=False)


class Residual2d(_ResidualBase):
    """``x + body(x)`` over images ``(B, C, H, W)`` (the body keeps H and W); a channel
    change adds a bias-free 1x1 ``Conv2d`` on the skip path.

    >>> r = Residual2d([{"type": "Conv2d", "out_channels": 4, "kernel_size": 3,
    ...                  "padding": 1}], in_channels=2)
    >>> r(axonic.zeros(1, 2, 5, 5)).shape
    (1, 4, 5, 5)
    """

    _sample_rest = (8, 8)

    def __init__(self, layers: list, in_channels: int):
        super().__init__(layers, in_channels)

    @staticmethod
    def _projection(a, b):
        return nn.Conv2d(a, b, 1, bias=False)


HELPERS = {c.__name__: c for c in (LastStep, MeanOverTime, Unsqueeze, PositionalEmbedding,
                                   Residual, Residual2d)}
