"""Losses: ``MSELoss``, ``L1Loss``, ``HuberLoss``, ``SmoothL1Loss``, ``CrossEntropyLoss``,
``NLLLoss``, ``BCELoss``, ``BCEWithLogitsLoss``, and their functional forms.

Cross-entropy and BCE-with-logits are single fused ops (``axonic.ops.losses``) that
go through log-softmax / ``log1p(exp(-|x|))``, so logits of any size give finite losses.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn.module import LayerInputError, Module
from axonic.ops import losses as _fused
from axonic.ops.indexing import where
from axonic.ops.shape import permute, reshape

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(op: str, reduction, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:  # PyTorch's legacy arguments
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x) if like is None else _xp(like).asarray(x)
    if like is not None and arr.dtype.kind == "f":
        arr = arr.astype(like.dtype)
    return _make(arr)


def _check_pair(op: str, input: Tensor, target: Tensor) -> None:
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(target.shape)} cannot be broadcast together") from None


def _check_float(op: str, **tensors) -> None:
    """Losses are defined on floating point (PyTorch raises for integer tensors too)."""
    for name, t in tensors.items():
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point {name}, got dtype {t.dtype}; "
                            "convert it with .float()")


def _check_target(op: str, input: Tensor, target: Tensor) -> None:
    """A regression target: floating point, broadcastable, and warned about when it has
    another shape (the (N, 1) vs (N,) mistake silently makes an (N, N) loss)."""
    _check_float(op, input=input, target=target)
    _check_pair(op, input, target)
    if tuple(input.shape) != tuple(target.shape):
        import warnings

        warnings.warn(f"{op}: using a target of shape {tuple(target.shape)} that differs from "
                      f"the input's shape {tuple(input.shape)}; they broadcast to "
                      f"{np.broadcast_shapes(input.shape, target.shape)}, which is likely not "
                      "what you want", UserWarning, stacklevel=3)


def _xp(t: Tensor):
    """The array module of ``t``'s data: values given as lists join it on its device."""
    return get_array_module(t._data)


def _weight_array(op, weight, like, size, what="weight"):
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else _xp(like).asarray(weight)
    if size is not None and tuple(w.shape) != (size,):
        raise ValueError(f"{op}: {what} must have shape ({size},) (one per class), "
                         f"got shape {tuple(w.shape)}")
    return w.astype(like.dtype, copy=False)


def _weighted(op, loss, weight, input, reduction, mean_over_weight):
    """``loss * weight`` reduced; PyTorch's weighted mse/l1 'mean' divides by sum(weight)."""
    if weight is None:
        return _reduce(loss, reduction)
    w = _as_tensor(weight, input)
    if tuple(w.shape) != tuple(input.shape):
        raise ValueError(f"{op}: weight must have the input's shape {tuple(input.shape)}, "
                         f"got {tuple(w.shape)}")
    loss = loss * w
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


# --- regression losses -----------------------------------------------------------------------
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


# --- classification losses ------------------------------------------------------------------
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


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """``target * (log(target) - input)`` for log-probabilities ``input`` (0 where the
    target is 0); ``reduction='batchmean'`` divides the sum by the batch size, which is
    the KL divergence proper."""
    op = "kl_div"
    if reduction != "batchmean":
        reduction = _reduction(op, reduction, size_average, reduce)
    target = _as_tensor(target, input)
    _check_pair(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)  # 0 * log 0 counts as 0
        loss = where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# --- modules ---------------------------------------------------------------------------------
class _Loss(Module):
    _fn = None

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction, size_average, reduce)

    def _call(self, *args, **kwargs):
        # a bad input is reported with this loss's name and place in the model
        try:
            return type(self)._fn(*args, **kwargs)
        except LayerInputError:
            raise
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _opt_tensor(weight))


def _opt_tensor(x):
    if x is None or isinstance(x, Tensor):
        return x
    return _make(np.asarray(x, dtype=np.float32))


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities from a target distribution; use
    ``reduction='batchmean'`` for the true KL divergence."""

    _fn = staticmethod(kl_div)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        Module.__init__(self)
        self.reduction = reduction if reduction == "batchmean" else _reduction(
            "KLDivLoss", reduction, size_average, reduce)
        self.log_target = bool(log_target)

    def forward(self, input, target):
        return self._call(input, target, reduction=self.reduction, log_target=self.log_target)


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
