"""Classification losses: ``cross_entropy``, ``nll_loss``, ``binary_cross_entropy``,
``binary_cross_entropy_with_logits`` and their modules.

Cross-entropy and BCE-with-logits are single fused ops (``axonic.ops.losses``) that
go through log-softmax / ``log1p(exp(-|x|))``, so logits of any size give finite losses.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn.loss_base import (
    _as_tensor,
    _check_float,
    _check_pair,
    _Loss,
    _opt_tensor,
    _reduction,
    _weight_array,
    _WeightedLoss,
    _xp,
)
from axonic.ops import losses as _fused
from axonic.ops.shape import permute, reshape


def _rows(op, input, target, probs):
    """Input (C,), (N, C) or (N, C, d1, ...) as rows (M, C); the target to match."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    out_shape = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    want = tuple(input.shape) if probs else out_shape
    if tuple(target.shape) != want:
        kind = "class probabilities" if probs else "class indices"
        raise ValueError(
            f"{op}: target of shape {tuple(target.shape)} does not fit input of shape "
            f"{tuple(input.shape)}: expected {kind} of shape {want}")
    if input.ndim == 1:
        x2 = reshape(input, 1, c)
    elif input.ndim == 2:
        x2 = input
    else:
        x2 = reshape(permute(input, 0, *range(2, input.ndim), 1), -1, c)
    t = target._data
    if probs:
        t = (get_array_module(t).moveaxis(t, 1, -1).reshape(-1, c) if input.ndim > 2 else
             t.reshape(-1, c))
    else:
        t = t.reshape(-1)
    return x2, t, c, out_shape


def _check_classes(op, t, c, ignore_index):
    if t.size == 0 or (int(t.min()) >= 0 and int(t.max()) < c):
        return
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        v = int(t[bad][0])
        raise ValueError(
            f"{op}: target {v} is out of range for {c} classes (expected class indices in "
            f"[0, {c - 1}] or ignore_index={ignore_index})")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy of logits against class indices or class probabilities, with
    optional class ``weight``, ``ignore_index`` and ``label_smoothing`` (PyTorch's rules).

    >>> import axonic
    >>> logits = axonic.tensor([[2.0, 0.0, 0.0]])
    >>> round(cross_entropy(logits, axonic.tensor([0])).item(), 4)
    0.2395
    """
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    target = _as_tensor(target, input)
    probs = target.dtype.kind == "f"
    if not probs and target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (int) or class probabilities "
                        f"(float), got dtype {target.dtype.name}")
    x2, t, c, out_shape = _rows(op, input, target, probs)
    if probs:
        t = t.astype(input.dtype, copy=False)
    else:
        _check_classes(op, t, c, ignore_index)
    w = _weight_array(op, weight, input, c)
    out = _fused.CrossEntropy.apply(x2, t, w, ignore_index=ignore_index,
                                    label_smoothing=float(label_smoothing), reduction=reduction)
    return reshape(out, out_shape) if reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities at class indices (use after
    ``log_softmax``)."""
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (int), got dtype "
                        f"{target.dtype.name}")
    x2, t, c, out_shape = _rows(op, input, target, False)
    _check_classes(op, t, c, ignore_index)
    w = _weight_array(op, weight, input, c)
    out = _fused.NLL.apply(x2, t, w, ignore_index=ignore_index, reduction=reduction)
    return reshape(out, out_shape) if reduction == "none" else out


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``-w (t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1]."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")
    _check_float(op, input=input, target=target)
    p = input._data
    if p.size and not (float(p.min()) >= 0 and float(p.max()) <= 1):  # NaN fails too
        raise ValueError(f"{op}: input must hold probabilities in [0, 1], got values in "
                         f"[{float(p.min()):.4g}, {float(p.max()):.4g}]; for logits use "
                         "binary_cross_entropy_with_logits")
    t = target._data
    if t.size and not (float(t.min()) >= 0 and float(t.max()) <= 1):
        raise ValueError(f"{op}: target must hold values in [0, 1], got values in "
                         f"[{float(t.min()):.4g}, {float(t.max()):.4g}]")
    w = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else _xp(input).asarray(weight)
        _check_pair(op, input, _make(w))
        w = w.astype(input.dtype, copy=False)
    return _fused.BCE.apply(input, target, w, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable op; ``pos_weight`` weighs the
    positive term per class (broadcast along the last dim)."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_float(op, input=input, target=target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")
    w = pw = None
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else _xp(input).asarray(weight)
        _check_pair(op, input, _make(w))
        w = w.astype(input.dtype, copy=False)
    if pos_weight is not None:
        pw = (pos_weight._data if isinstance(pos_weight, Tensor) else
              _xp(input).asarray(pos_weight))
        try:
            np.broadcast_shapes(pw.shape, input.shape)
        except ValueError:
            raise ValueError(f"{op}: pos_weight of shape {tuple(pw.shape)} does not broadcast "
                             f"to input of shape {tuple(input.shape)}") from None
        pw = pw.astype(input.dtype, copy=False)
    return _fused.BCEWithLogits.apply(input, target, w, pw, reduction=reduction)


def _check_ignore_index(layer, ignore_index) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int | np.integer):
        raise ValueError(f"{layer}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits against class indices or class probabilities.

    >>> import axonic
    >>> from axonic import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(axonic.zeros(4, 3), axonic.tensor([0, 1, 2, 0])).shape
    ()
    """

    _fn = staticmethod(cross_entropy)

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if isinstance(label_smoothing, bool) or not isinstance(
                label_smoothing, int | float) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.ignore_index = _check_ignore_index("CrossEntropyLoss", ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return self._call(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities."""

    _fn = staticmethod(nll_loss)

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _check_ignore_index("NLLLoss", ignore_index)

    def forward(self, input, target):
        return self._call(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities."""

    _fn = staticmethod(binary_cross_entropy)

    def forward(self, input, target):
        return self._call(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid included, stable for any logit)."""

    _fn = staticmethod(binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _opt_tensor(weight))
        self.register_buffer("pos_weight", _opt_tensor(pos_weight))

    def forward(self, input, target):
        return self._call(input, target, self.weight, reduction=self.reduction,
                          pos_weight=self.pos_weight)
