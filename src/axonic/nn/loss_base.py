"""What every loss shares: the reduction (with PyTorch's legacy ``size_average`` and
``reduce``), checks of input and target that name the loss, and the module bases
``_Loss`` and ``_WeightedLoss`` (a bad input is reported with the loss's place in the model).

>>> _reduction("mse_loss", "mean", size_average=False)  # PyTorch's legacy arguments
'sum'
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn.module import LayerInputError, Module

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
