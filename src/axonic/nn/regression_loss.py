"""Regression losses: ``mse_loss``, ``l1_loss``, ``huber_loss``, ``smooth_l1_loss`` and
their modules ``MSELoss``, ``L1Loss``, ``HuberLoss``, ``SmoothL1Loss``."""

from __future__ import annotations

from axonic.nn.loss_base import (
    _as_tensor,
    _check_target,
    _Loss,
    _reduce,
    _reduction,
    _weighted,
)
from axonic.ops.indexing import where


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean squared error ``(input - target)^2``, reduced.

    >>> import axonic
    >>> mse_loss(axonic.tensor([1.0, 3.0]), axonic.tensor([1.0, 1.0]))
    tensor(2.)
    """
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_target("mse_loss", input, target)
    d = input - target
    return _weighted("mse_loss", d * d, weight, input, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean absolute error ``|input - target|``, reduced."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_target("l1_loss", input, target)
    return _weighted("l1_loss", (input - target).abs(), weight, input, reduction, True)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - delta / 2)`` elsewhere."""
    reduction = _reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    target = _as_tensor(target, input)
    _check_target("huber_loss", input, target)
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, input, reduction, False)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - beta / 2`` elsewhere."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta!r}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    target = _as_tensor(target, input)
    _check_target("smooth_l1_loss", input, target)
    d = input - target
    ad = d.abs()
    return _reduce(where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta), reduction)


class MSELoss(_Loss):
    """Mean squared error.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.MSELoss()(axonic.tensor([1.0, 3.0]), axonic.tensor([1.0, 1.0]))
    tensor(2.)
    """

    _fn = staticmethod(mse_loss)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    _fn = staticmethod(l1_loss)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above."""

    _fn = staticmethod(huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        if isinstance(delta, bool) or not isinstance(delta, int | float) or not delta > 0:
            raise ValueError(f"HuberLoss: delta must be a positive number, got {delta!r}")
        self.delta = delta

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Huber loss divided by ``beta``."""

    _fn = staticmethod(smooth_l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if isinstance(beta, bool) or not isinstance(beta, int | float) or beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be a non-negative number, got {beta!r}")
        self.beta = beta

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction, beta=self.beta)
