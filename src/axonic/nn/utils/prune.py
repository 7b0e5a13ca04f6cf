"""Pruning with PyTorch's ``torch.nn.utils.prune`` API and semantics.

Pruning ``name`` of a module re-parametrises it: the original values move to the parameter
``name + '_orig'``, a 0/1 buffer ``name + '_mask'`` is registered, and a forward pre-hook
(the pruning method itself) sets ``module.<name> = <name>_orig * <name>_mask`` before every
forward. Pruning the same tensor again composes the masks (a ``PruningContainer``), each new
method acting only on what is still unpruned. ``remove`` makes the pruning permanent.

The masks equal PyTorch's for the same weights (ties in magnitude are broken towards the
lower flat index; PyTorch's ``topk`` leaves that order unspecified). The random methods
draw from axonic's generator (``axonic.manual_seed``), so their masks have PyTorch's
counts and structure but not its exact random choice.

Beyond PyTorch, ``shrink(model)`` physically removes pruned channels and units from Conv and
Linear stacks, giving a smaller dense model with the same outputs (see ``prune_shrink``).

>>> import axonic
>>> from axonic import nn
>>> from axonic.nn.utils import prune
>>> layer = nn.Linear(4, 3)
>>> _ = prune.l1_unstructured(layer, "weight", amount=0.5)
>>> sorted(k for k in layer.state_dict())
['bias', 'weight_mask', 'weight_orig']
>>> int(layer.weight_mask.sum().item())
6
>>> _ = prune.remove(layer, "weight")
>>> sorted(layer.state_dict())
['bias', 'weight']
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
    "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
    "custom_from_mask", "remove", "is_pruned", "shrink",
]


class BasePruningMethod(ABC):
    """The base of pruning methods: subclass it, set ``PRUNING_TYPE`` ('unstructured',
    'structured' (with a ``dim`` attribute) or 'global') and write ``compute_mask``.

    >>> import axonic
    >>> from axonic import nn
    >>> class KeepPositive(BasePruningMethod):
    ...     PRUNING_TYPE = "unstructured"
    ...     def compute_mask(self, t, default_mask):
    ...         return default_mask * (t > 0).to(default_mask.dtype)
    >>> layer = nn.Linear(3, 2)
    >>> _ = KeepPositive.apply(layer, "weight")
    >>> bool(((layer.weight >= 0)).all().item())
    True
    """

    _tensor_name: str | None = None
    PRUNING_TYPE: str = "unstructured"

    def __call__(self, module, inputs):
        """The forward pre-hook: recompute the pruned tensor from ``_orig`` and ``_mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for ``t`` (same shape), on top of ``default_mask`` (the mask so far)."""

    def apply_mask(self, module) -> Tensor:
        """``module.<name>_orig * module.<name>_mask`` (differentiable in ``_orig``)."""
        if self._tensor_name is None:
            raise ValueError(f"{type(self).__name__}: this pruning method has no tensor name; "
                             "it must be applied to a module first (Method.apply(module, name))")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` and return the method (a
        ``PruningContainer`` when the tensor was pruned before)."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name, None)
        if not isinstance(orig, Tensor):
            raise AttributeError(f"prune: {type(module).__name__} has no tensor {name!r} "
                                 f"to prune (got {type(orig).__name__})")
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(
                    f"prune: importance_scores should have the shape of parameter {name!r}, "
                    f"{tuple(orig.shape)}; got {tuple(importance_scores.shape)}")
        else:
            importance_scores = orig
        fresh = not isinstance(method, PruningContainer)
        if fresh:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = _make(get_array_module(orig._data).ones_like(orig._data))
        else:
            default_mask = _make(getattr(module, name + "_mask")._data.copy())
        try:
            with no_grad():
                mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", _make(_array(mask)))
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if fresh:  # put the parameter back as it was
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """The pruned version of ``t`` (``t * mask``), without touching any module."""
        scores = t if importance_scores is None else importance_scores
        if default_mask is None:
            default_mask = _make(get_array_module(t._data).ones_like(t._data))
        with no_grad():
            mask = self.compute_mask(scores.detach(), default_mask=default_mask)
        return t * mask

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a Parameter holding the pruned
        values; ``<name>_orig``, ``<name>_mask`` and the hook go."""
        if self._tensor_name is None:
            raise ValueError(f"{type(self).__name__}: not applied to any module; nothing to "
                             "remove")
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters.pop(name + "_orig")
        orig._data = weight._data
        orig._vc[0] += 1
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """The method to apply: ``cls(...)`` alone, or added to the tensor's earlier pruning
    (whose hook is taken off; the composite is registered again by ``apply``)."""
    old, keys = None, []
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old = hook
            keys.append(k)
    if len(keys) > 1:
        raise RuntimeError(f"prune: {type(module).__name__}.{name} has {len(keys)} pruning "
                           "hooks; at most one is expected")
    for k in keys:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if old is None:
        return method
    if isinstance(old, PruningContainer):
        old.add_pruning_method(method)
        return old
    container = PruningContainer(old)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """The pruning methods applied in turn to one tensor; each acts on what the ones
    before it left (an unstructured method on the unpruned entries, a structured one on
    the channels not yet entirely pruned)."""

    def __init__(self, *args):
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1:
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a "
                            "BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                "PruningContainer: can only add pruning methods acting on the parameter named "
                f"{self._tensor_name!r}; got one on {method._tensor_name!r}")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        method = self._pruning_methods[-1]
        mask = default_mask._data.astype(t._data.dtype, copy=True)
        slc = _unpruned_slice(method, mask)
        partial = method.compute_mask(_make(t._data[slc]), default_mask=_make(mask[slc]))
        mask[slc] = _array(partial).astype(mask.dtype)
        return _make(mask)


def _unpruned_slice(method, mask):
    """Where ``method`` may still act: the unpruned entries (unstructured), the channels
    along ``method.dim`` that are not all zero (structured), everything (global)."""
    kind = method.PRUNING_TYPE
    if kind == "unstructured":
        return mask == 1
    if kind == "global":
        return tuple(slice(None) for _ in mask.shape)
    if kind != "structured":
        raise ValueError(f"PruningContainer: unrecognised PRUNING_TYPE {kind!r} of "
                         f"{type(method).__name__}; expected 'unstructured', 'structured' or "
                         "'global'")
    if not hasattr(method, "dim"):
        raise AttributeError(f"{type(method).__name__}: pruning methods of PRUNING_TYPE "
                             "'structured' need the attribute `dim`")
    n, dim = mask.ndim, method.dim
    dim = dim + n if dim < 0 else dim
    if not 0 <= dim < n:
        raise IndexError(f"{type(method).__name__}: dim {method.dim} is out of range for a "
                         f"tensor with {n} dimensions")
    keep = mask.sum(axis=tuple(d for d in range(n) if d != dim)) != 0
    return tuple(keep if d == dim else slice(None) for d in range(n))


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


# --- the functional API ---------------------------------------------------------------------
def identity(module, name: str):
    """Re-parametrise ``module.<name>`` with a mask of ones (prunes nothing)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` (fraction in [0, 1] or count) of ``module.<name>``'s entries at
    random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest absolute value
    (of ``importance_scores`` when given)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prune ``amount`` of the channels of ``module.<name>`` along ``dim``, at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` with the smallest ``n``-norm
    (``ln_structured(conv, 'weight', 0.5, n=2, dim=0)`` drops half the filters)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name: str, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the ``(module, name)`` pairs of ``parameters`` together: ``pruning_method``
    (an unstructured method class such as ``L1Unstructured``) ranks all their entries at
    once, so ``amount=0.8`` removes 80 % of the entries of all of them, unevenly.

    >>> from axonic import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    >>> global_unstructured([(net[0], "weight"), (net[1], "weight")], L1Unstructured,
    ...                     amount=0.5)
    >>> int(net[0].weight_mask.sum().item() + net[1].weight_mask.sum().item())
    24
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable; expected "
                        "(module, name) pairs")
    parameters = list(parameters)
    scores = importance_scores if importance_scores is not None else {}
    if not isinstance(scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be a dict keyed by "
                        f"(module, name), got {type(scores).__name__}")
    xp = None
    flat_scores, flat_masks = [], []
    for module, name in parameters:
        t = getattr(module, name)
        xp = xp or get_array_module(t._data)
        s = scores.get((module, name), t)
        flat_scores.append(s._data.reshape(-1))
        m = getattr(module, name + "_mask", None)
        flat_masks.append(xp.ones(t._data.size, t._data.dtype) if m is None
                          else m._data.reshape(-1).astype(t._data.dtype))
    if not parameters:
        return
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError("global_unstructured(): only 'unstructured' pruning methods are "
                        f"supported; {type(method).__name__} is {method.PRUNING_TYPE!r}")
    container = PruningContainer(method)
    final = container.compute_mask(_make(xp.concatenate(flat_scores)),
                                   _make(xp.concatenate(flat_masks)))._data
    start = 0
    for module, name in parameters:
        t = getattr(module, name)
        custom_from_mask(module, name, mask=_make(final[start:start + t._data.size]
                                                  .reshape(t._data.shape)))
        start += t._data.size


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent (``<name>`` becomes a Parameter
    with the pruned values)."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"prune.remove: parameter {name!r} of {type(module).__name__} is not "
                     "pruned; nothing to remove")


def is_pruned(module) -> bool:
    """Whether ``module`` or any of its submodules has a pruned tensor."""
    return any(isinstance(hook, BasePruningMethod)
               for m in module.modules() for hook in m._forward_pre_hooks.values())


# --- helpers --------------------------------------------------------------------------------
def _array(mask):
    """The array of a mask that ``compute_mask`` returned (a Tensor or an array)."""
    return mask._data if isinstance(mask, Tensor) else mask


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


from axonic.nn.utils.prune_shrink import shrink  # noqa: E402  (it needs the methods above)
