"""The pruning methods of ``torch.nn.utils.prune``: which entries or channels each one
zeroes (``Identity``, ``RandomUnstructured``, ``L1Unstructured``, ``RandomStructured``,
``LnStructured``, ``CustomFromMask``), with PyTorch's checks of ``amount`` and ``dim``.

>>> import axonic
>>> L1Unstructured(amount=2).compute_mask(axonic.tensor([0.5, -3.0, 0.1, 2.0]),
...                                       axonic.ones(4)).tolist()
[0.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

import numbers

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.nn.utils.prune_base import BasePruningMethod


class Identity(BasePruningMethod):
    """Prunes nothing: a mask of ones (so the tensor is re-parametrised all the same)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _unstructured_mask(t, default_mask, amount, scores, largest: bool):
    """``default_mask`` with the ``amount`` entries of highest (``largest``) or lowest
    ``scores()`` zeroed; ``scores`` is called only when something is pruned."""
    size = t._data.size
    k = _nparams_toprune(amount, size)
    _validate_amount(k, size)
    mask = default_mask._data.copy()
    if k:
        mask.reshape(-1)[_top_k(scores(), k, largest=largest)] = 0
    return _make(mask)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` (a fraction, or a count) of the entries, chosen at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        def scores():
            from axonic.ops import rand

            return rand(*t.shape, dtype=np.float32)._data.reshape(-1)

        return _unstructured_mask(t, default_mask, self.amount, scores, largest=True)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` (a fraction, or a count) entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        def scores():
            return get_array_module(t._data).abs(t._data).reshape(-1)

        return _unstructured_mask(t, default_mask, self.amount, scores, largest=False)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` (whole slices), chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1):
        _validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _validate_structured(t, type(self).__name__)
        _validate_dim(t, self.dim, type(self).__name__)
        channels = t.shape[self.dim]
        k = _nparams_toprune(self.amount, channels)
        _validate_amount(k, channels)
        if k == 0:
            return default_mask
        from axonic.ops import rand

        prob = rand(channels, dtype=np.float32)._data
        keep = get_array_module(prob).ones(channels, dtype=bool)
        keep[_top_k(prob, k, largest=False)] = False
        return _make(_channel_mask(t._data, self.dim, keep) * default_mask._data)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm (``n``: an int,
    a float, ``inf``, ``-inf`` or 'fro')."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1):
        _validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        _validate_structured(t, type(self).__name__)
        _validate_dim(t, self.dim, type(self).__name__)
        channels = t.shape[self.dim]
        k = _nparams_toprune(self.amount, channels)
        _validate_amount(k, channels)
        if k == 0:
            return default_mask
        norm = _channel_norm(t._data, self.n, self.dim)
        keep = get_array_module(norm).zeros(channels, dtype=bool)
        keep[_top_k(norm, channels - k, largest=True)] = True
        return _make(_channel_mask(t._data, self.dim, keep) * default_mask._data)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        m = self.mask._data if isinstance(self.mask, Tensor) else np.asarray(self.mask)
        if tuple(m.shape) != tuple(default_mask.shape):
            raise ValueError(f"custom_from_mask: the mask has shape {tuple(m.shape)}, the "
                             f"tensor {tuple(default_mask.shape)}; they must be equal")
        return _make(default_mask._data * m.astype(default_mask._data.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def _top_k(values, k: int, largest: bool):
    """Indices of the ``k`` largest (smallest) of the 1-d ``values``; ties go to the lower
    index."""
    xp = get_array_module(values)
    order = xp.argsort(-values if largest else values, kind="stable")
    return order[:k]


def _channel_mask(t, dim: int, keep):
    xp = get_array_module(t)
    mask = xp.zeros_like(t)
    slc = [slice(None)] * t.ndim
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


def _channel_norm(t, n, dim: int):
    """The ``n``-norm of each slice of ``t`` along ``dim`` (``torch.norm`` over the others)."""
    xp = get_array_module(t)
    dim = dim % t.ndim
    a = xp.abs(xp.moveaxis(t, dim, 0).reshape(t.shape[dim], -1))
    if n == "fro" or n == 2:
        return xp.sqrt((a * a).sum(axis=1))
    if n == float("inf"):
        return a.max(axis=1)
    if n == float("-inf"):
        return a.min(axis=1)
    if n == 0:
        return (a != 0).sum(axis=1).astype(t.dtype)
    if isinstance(n, numbers.Real) and not isinstance(n, bool):
        return (a ** n).sum(axis=1) ** (1.0 / n)
    raise ValueError(f"ln_structured: n must be a number, inf, -inf or 'fro'; got {n!r}")


def _nparams_toprune(amount, size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * size)


def _validate_amount_init(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"prune: amount must be a float in [0, 1] or a non-negative int, "
                        f"got {amount!r} ({type(amount).__name__})")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= amount <= 1.0):
        raise ValueError(f"prune: amount={amount} should either be a float in the range "
                         "[0, 1] or a non-negative integer")


def _validate_amount(k: int, size: int) -> None:
    if k > size:
        raise ValueError(f"prune: amount={k} should be smaller than the number of "
                         f"parameters to prune={size}")


def _validate_structured(t, who: str) -> None:
    if t.ndim <= 1:
        raise ValueError(f"{who}: structured pruning can only be applied to tensors of at "
                         f"least 2 dimensions; got shape {tuple(t.shape)}")


def _validate_dim(t, dim, who: str) -> None:
    if not isinstance(dim, numbers.Integral) or not -t.ndim <= dim < t.ndim:
        raise IndexError(f"{who}: dim {dim!r} is out of range for a tensor of shape "
                         f"{tuple(t.shape)}")
