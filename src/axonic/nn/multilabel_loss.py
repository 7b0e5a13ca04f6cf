"""Multi-class and multi-label margin losses, PyTorch's formulas: ``MultiMarginLoss`` (a
hinge per wrong class), ``MultiLabelMarginLoss`` (a hinge per pair of a target and a
non-target class), ``MultiLabelSoftMarginLoss`` (logistic loss per class, averaged) and
``TripletMarginWithDistanceLoss`` (a triplet loss with any distance).

>>> import axonic
>>> x = axonic.tensor([[0.1, 0.2, 0.4, 0.8]])
>>> round(multilabel_margin_loss(x, axonic.tensor([[3, 0, -1, 1]])).item(), 4)
0.85
>>> round(multi_margin_loss(x, axonic.tensor([3])).item(), 4)
0.325
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import _make
from axonic.backend import to_numpy
from axonic.nn.distance import pairwise_distance
from axonic.nn.loss_base import _check_float, _Loss, _opt_tensor, _reduce, _reduction
from axonic.nn.margin_loss import _margin
from axonic.ops.activations import softplus
from axonic.ops.arithmetic import minimum
from axonic.ops.elementwise import clamp


def _rows(op: str, input, target, target_rank: int):
    """``input`` as (N, C) and the target as an int array of rank ``target_rank`` + 1."""
    _check_float(op, input=input)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got "
                         f"{tuple(input.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    y = np.asarray(to_numpy(target._data) if hasattr(target, "_data") else target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer target, got {y.dtype}")
    want = (x.shape[0],) + ((x.shape[1],) if target_rank else ())
    expected = want if input.ndim == 2 else want[1:]
    if tuple(y.shape) != expected and not (input.ndim == 1 and y.size == np.prod(want)):
        raise ValueError(f"{op}: expected a target of shape {expected} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(y.shape)}")
    return x, y.reshape(want).astype(np.int64)


def _unbatched(loss, input, reduction):
    if reduction == "none" and input.ndim == 1:
        return loss[0]
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """``sum over i != y of max(0, margin - x[y] + x[i]) ^ p / C`` per sample (times
    ``weight[y]``)."""
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: p must be 1 or 2, got {p!r}")
    x, y = _rows(op, input, target, 0)
    n, c = x.shape
    if y.size and (y.min() < 0 or y.max() >= c):
        raise IndexError(f"{op}: target {int(y.max() if y.max() >= c else y.min())} is out of "
                         f"range for {c} classes")
    rows = np.arange(n)
    h = clamp(x - x[rows, y].unsqueeze(1) + margin, min=0.0)
    if p == 2:
        h = h * h
    others = np.ones((n, c), dtype=bool)
    others[rows, y] = False
    h = h * _make(others.astype(x._data.dtype))
    if weight is not None:
        h = h * weight[y].unsqueeze(1)
    return _unbatched(h.sum(1) / c, input, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean"):
    """``sum over targets j and non-targets i of max(0, 1 - (x[j] - x[i])) / C`` per sample;
    each target row lists class indices up to its first -1."""
    op = "multilabel_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _rows(op, input, target, 1)
    n, c = x.shape
    if y.size and (y.min() < -1 or y.max() >= c):
        raise IndexError(f"{op}: target values must be class indices in [0, {c}) or -1 "
                         f"(the end of a row's list), got {int(y.min())} .. {int(y.max())}")
    is_target = np.zeros((n, c), dtype=bool)
    for r in range(n):
        stop = np.flatnonzero(y[r] == -1)
        listed = y[r, : stop[0] if len(stop) else c]
        is_target[r, listed] = True
    pairs = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype)
    h = clamp(1 - (x.unsqueeze(2) - x.unsqueeze(1)), min=0.0) * _make(pairs)
    return _unbatched(h.sum((1, 2)) / c, input, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """``-mean over classes of (y log sigmoid(x) + (1 - y) log sigmoid(-x))`` per sample
    (each class times ``weight``)."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_float(op, input=input)
    if tuple(target.shape) != tuple(input.shape) or input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input (N, C) or (C,) and a target of the same shape, "
                         f"got {tuple(input.shape)} and {tuple(target.shape)}")
    target = target.to(input.dtype)
    loss = target * softplus(-input) + (1 - target) * softplus(input)
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1)
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``distance_function`` (by default the
    Euclidean ``pairwise_distance``); ``swap`` uses ``min(d(a, n), d(p, n))``."""
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, reduction)
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin!r}")
    d = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, d(positive, negative))
    return _reduce(clamp(margin + d_pos - d_neg, min=0.0), reduction)


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss (``p`` 1 or 2, optional per-class ``weight``)."""

    _fn = staticmethod(multi_margin_loss)

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p, self.margin = p, _margin("MultiMarginLoss", margin)
        self.register_buffer("weight", _opt_tensor(weight))

    def forward(self, input, target):
        return self._call(input, target, p=self.p, margin=self.margin, weight=self.weight,
                          reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss over (target, non-target) pairs of classes."""

    _fn = staticmethod(multilabel_margin_loss)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Logistic loss per class for 0/1 multi-label targets, averaged over the classes."""

    _fn = staticmethod(multilabel_soft_margin_loss)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _opt_tensor(weight))

    def forward(self, input, target):
        return self._call(input, target, weight=self.weight, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any ``distance_function(x, y) -> (N,)`` (Euclidean by default)."""

    _fn = staticmethod(triplet_margin_with_distance_loss)

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean"):
        super().__init__(reduction=reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, "
                             f"got {margin!r}")
        self.distance_function, self.margin, self.swap = distance_function, margin, bool(swap)

    def forward(self, anchor, positive, negative):
        return self._call(anchor, positive, negative, distance_function=self.distance_function,
                          margin=self.margin, swap=self.swap, reduction=self.reduction)
