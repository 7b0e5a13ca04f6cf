"""Margin and embedding losses: ``MarginRankingLoss``, ``HingeEmbeddingLoss``,
``SoftMarginLoss``, ``CosineEmbeddingLoss``, ``TripletMarginLoss`` (PyTorch's formulas)."""

from __future__ import annotations

import numpy as np

from axonic.nn.distance import pairwise_distance
from axonic.nn.loss import _as_tensor, _check_pair, _Loss, _reduce, _reduction
from axonic.ops.activations import softplus
from axonic.ops.arithmetic import minimum
from axonic.ops.elementwise import clamp
from axonic.ops.indexing import where


def _margin(layer, margin):
    if isinstance(margin, bool) or not isinstance(margin, int | float | np.floating):
        raise ValueError(f"{layer}: margin must be a number, got {margin!r}")
    return float(margin)


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1.

    >>> import axonic
    >>> margin_ranking_loss(axonic.tensor([2.0]), axonic.tensor([1.0]), axonic.tensor([1.0]))
    tensor(0.)
    """
    reduction = _reduction("margin_ranking_loss", reduction, size_average, reduce)
    target = _as_tensor(target, input1)
    _check_pair("margin_ranking_loss", input1 - input2, target)
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0.0), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1."""
    reduction = _reduction("hinge_embedding_loss", reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_pair("hinge_embedding_loss", input, target)
    below = where(target != 1, clamp(margin - input, min=0.0), 0.0)
    return _reduce(below + where(target != -1, input, 0.0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """``log(1 + exp(-y x))``, the logistic loss for labels y in {-1, 1}."""
    reduction = _reduction("soft_margin_loss", reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_pair("soft_margin_loss", input, target)
    return _reduce(softplus(-target * input), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ValueError(f"{op}: expected two inputs of the same shape (N, D) or (D,), got "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    target = _as_tensor(target, input1)
    dim = input1.ndim - 1
    eps = 1e-12  # PyTorch's: added to each squared norm
    prod = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod / mag.sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, clamp(cos - margin, min=0.0),
                                                    0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with the p-norm distance; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if not (anchor.shape == positive.shape == negative.shape):
        raise ValueError(f"{op}: anchor, positive and negative must have the same shape, got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)}, "
                         f"{tuple(negative.shape)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(margin + d_pos - d_neg, min=0.0), reduction)


class MarginRankingLoss(_Loss):
    """Ranking loss of two scores against y in {-1, 1}."""

    _fn = staticmethod(margin_ranking_loss)

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _margin("MarginRankingLoss", margin)

    def forward(self, input1, input2, target):
        return self._call(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge loss of distances against y in {-1, 1}."""

    _fn = staticmethod(hinge_embedding_loss)

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _margin("HingeEmbeddingLoss", margin)

    def forward(self, input, target):
        return self._call(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Logistic loss for labels in {-1, 1}."""

    _fn = staticmethod(soft_margin_loss)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Pull pairs together (y = 1) or push their cosine below ``margin`` (y = -1)."""

    _fn = staticmethod(cosine_embedding_loss)

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _margin("CosineEmbeddingLoss", margin)

    def forward(self, input1, input2, target):
        return self._call(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Anchor closer to the positive than to the negative by ``margin``."""

    _fn = staticmethod(triplet_margin_loss)

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _margin("TripletMarginLoss", margin)
        if not p > 0:
            raise ValueError(f"TripletMarginLoss: p must be positive, got {p!r}")
        self.p, self.eps, self.swap = p, eps, bool(swap)

    def forward(self, anchor, positive, negative):
        return self._call(anchor, positive, negative, margin=self.margin, p=self.p,
                          eps=self.eps, swap=self.swap, reduction=self.reduction)
