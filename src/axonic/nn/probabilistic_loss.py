"""Negative log-likelihoods of parametric distributions: ``GaussianNLLLoss`` and
``PoissonNLLLoss`` (PyTorch's formulas, including the optional constant terms)."""

from __future__ import annotations

import math

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn.loss import _as_tensor, _check_pair, _Loss, _reduce, _reduction
from axonic.ops.indexing import where


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` if ``full``).
    ``var`` is clamped at ``eps`` for the value only; its gradient is that of ``var``.

    >>> import axonic
    >>> gaussian_nll_loss(axonic.zeros(2), axonic.zeros(2), axonic.ones(2))
    tensor(0.)
    """
    op = "gaussian_nll_loss"
    reduction = _reduction(op, reduction)
    target = _as_tensor(target, input)
    xp = get_array_module(input._data)
    var = var if isinstance(var, Tensor) else _make(xp.full(input.shape[:-1] + (1,) if
                                                            input.ndim else (), var,
                                                            input.dtype))
    if var.ndim == input.ndim - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = var.unsqueeze(-1)  # one variance per sample (PyTorch's homoscedastic case)
    _check_pair(op, input, var)
    _check_pair(op, input, target)
    if var._data.size and float(var._data.min()) < 0:
        raise ValueError(f"{op}: var has negative entries (min {float(var._data.min()):.4g})")
    # clamp the value, not the graph (PyTorch clamps in place under no_grad)
    shift = xp.maximum(var._data, input.dtype.type(eps)) - var._data
    var = var + _make(shift.astype(input.dtype, copy=False))
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """``exp(x) - t x`` for log-rates (``log_input``), else ``x - t log(x + eps)``; ``full``
    adds Stirling's approximation of ``log(t!)`` where t > 1."""
    op = "poisson_nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_pair(op, input, target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.detach()
        safe = where(t > 1, t, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of a predicted mean and variance."""

    _fn = staticmethod(gaussian_nll_loss)

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        if not eps > 0:
            raise ValueError(f"GaussianNLLLoss: eps must be positive, got {eps!r}")
        self.full, self.eps = bool(full), eps

    def forward(self, input, target, var):
        return self._call(input, target, var, full=self.full, eps=self.eps,
                          reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of predicted (log-)rates."""

    _fn = staticmethod(poisson_nll_loss)

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = bool(log_input), bool(full), eps

    def forward(self, log_input, target):
        return self._call(log_input, target, log_input=self.log_input, full=self.full,
                          eps=self.eps, reduction=self.reduction)
