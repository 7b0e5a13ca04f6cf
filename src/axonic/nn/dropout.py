"""``Dropout`` (elementwise), ``Dropout1d`` / ``Dropout2d`` / ``Dropout3d`` (whole channels),
and ``AlphaDropout`` / ``FeatureAlphaDropout`` (for SELU networks: dropped values set to
SELU's negative saturation, then an affine map that keeps mean 0 and variance 1).

In training each element (or channel) is zeroed with probability ``p`` and the rest are
scaled by ``1 / (1 - p)``; in evaluation the layer is the identity. ``inplace=True``
writes the result into the input (recorded by autograd as an in-place op). Masks come from
axonic's default generator, so ``axonic.manual_seed`` makes them reproducible.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend.random import default_generator
from axonic.nn.module import Module
from axonic.ops.inplace import honours_inplace


def _check_p(name: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating) or not (
            0 <= p < 1):
        raise ValueError(f"{name}: p must be in [0, 1), got {p!r}")
    return float(p)


def _masked(input: Tensor, p: float, mask_shape) -> Tensor:
    keep = default_generator.bernoulli(1 - p, mask_shape, input.dtype, input.device)
    keep *= input.dtype.type(1 / (1 - p))
    return input * _make(keep)


@honours_inplace
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    >>> import axonic
    >>> dropout(axonic.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    p = _check_p("dropout", p)
    if not training or p == 0:
        return input
    return _masked(input, p, input.shape)


def _channel_dropout(name, input, p, training, batched_ndim, layout):
    p = _check_p(name, p)
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"{name}: expected a {batched_ndim}-d input {layout} or a "
                         f"{batched_ndim - 1}-d one without the batch dim, got shape "
                         f"{tuple(input.shape)}")
    if not training or p == 0:
        return input
    lead = 2 if input.ndim == batched_ndim else 1  # (N, C) or, unbatched, (C,)
    return _masked(input, p, input.shape[:lead] + (1,) * (input.ndim - lead))


@honours_inplace
def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    return _channel_dropout("dropout1d", input, p, training, 3, "(N, C, L)")


@honours_inplace
def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs."""
    return _channel_dropout("dropout2d", input, p, training, 4, "(N, C, H, W)")


@honours_inplace
def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _channel_dropout("dropout3d", input, p, training, 5, "(N, C, D, H, W)")


_SELU_SATURATION = 1.7580993408473766  # SELU's scale * alpha: its limit is minus this


def _alpha_masked(name: str, input, p: float, training: bool, mask_shape) -> Tensor:
    """PyTorch's alpha dropout: ``x * keep * a + (keep - 1) * s * a + s * a * p`` with
    ``a = 1 / sqrt((s^2 p + 1)(1 - p))`` and ``s`` SELU's saturation."""
    p = _check_p(name, p)
    if not training or p == 0:
        return input
    s = _SELU_SATURATION
    a = 1.0 / np.sqrt((s * s * p + 1) * (1 - p))
    keep = default_generator.bernoulli(1 - p, mask_shape, input.dtype, input.device)
    shift = (keep - 1) * (s * a) + s * a * p
    keep *= input.dtype.type(a)
    return input * _make(keep) + _make(shift.astype(input.dtype, copy=False))


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout of each element (``F.alpha_dropout``)."""
    return _alpha_masked("alpha_dropout", input, p, training, input.shape)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """Alpha dropout of whole channels (dim 1) of ``(N, C, *)`` inputs."""
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _alpha_masked("feature_alpha_dropout", input, p, training, shape)


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = _check_p(type(self).__name__, p)
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` while training.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Dropout(0.2).eval()(axonic.ones(2))
    tensor([1., 1.])
    """

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise self.input_error(f"expected a Tensor, got {type(input).__name__}")
        return dropout(input, self.p, self.training, self.inplace and self.training)


class _ChannelDropout(_DropoutNd):
    _fn = None

    def forward(self, input):
        try:
            return type(self)._fn(input, self.p, self.training,
                                  self.inplace and self.training)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[1]) from None


class Dropout1d(_ChannelDropout):
    """Zero whole channels of (N, C, L) or (C, L) inputs while training."""

    _fn = staticmethod(dropout1d)


class Dropout2d(_ChannelDropout):
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs while training."""

    _fn = staticmethod(dropout2d)


class Dropout3d(_ChannelDropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs while training."""

    _fn = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout while training (keeps SELU activations at mean 0, variance 1)."""

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels while training."""

    def forward(self, input):
        try:
            return feature_alpha_dropout(input, self.p, self.training)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[1]) from None
