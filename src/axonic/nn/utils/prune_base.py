"""The machinery of pruning: ``BasePruningMethod`` re-parametrises a tensor as ``_orig``
times ``_mask`` with a forward pre-hook, and ``PruningContainer`` composes the methods
applied to one tensor in turn (each acting on what the ones before it left).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module


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


def _array(mask):
    """The array of a mask that ``compute_mask`` returned (a Tensor or an array)."""
    return mask._data if isinstance(mask, Tensor) else mask
