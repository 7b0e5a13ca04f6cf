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

This file holds the functional API; the re-parametrisation is in ``prune_base`` and the
methods in ``prune_methods``; every name is importable from here, as in PyTorch.

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

from collections.abc import Iterable

from axonic.autograd.tensor import _make
from axonic.backend import get_array_module
from axonic.nn.utils.prune_base import BasePruningMethod, PruningContainer
from axonic.nn.utils.prune_methods import (
    CustomFromMask,
    Identity,
    L1Unstructured,
    LnStructured,
    RandomStructured,
    RandomUnstructured,
)

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
    "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
    "custom_from_mask", "remove", "is_pruned", "shrink",
]


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


from axonic.nn.utils.prune_shrink import shrink  # noqa: E402  (it needs the methods above)
