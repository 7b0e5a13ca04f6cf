"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (PyTorch's
``torch.nn.utils``), applied in place to ``p.grad`` after ``backward()``."""

from __future__ import annotations

import math

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(xp, a, norm_type: float):
    """The ``norm_type``-norm of the array ``a`` (flattened), in its own dtype."""
    if norm_type == math.inf:
        return xp.max(xp.abs(a)) if a.size else xp.zeros((), a.dtype)
    if norm_type == -math.inf:
        return xp.min(xp.abs(a)) if a.size else xp.asarray(math.inf, a.dtype)
    if norm_type == 0:
        return xp.asarray(xp.count_nonzero(a), a.dtype)
    if norm_type == 2:
        return xp.sqrt(xp.vdot(a.ravel(), a.ravel()).astype(a.dtype))
    if norm_type == 1:
        return xp.sum(xp.abs(a))
    return xp.sum(xp.abs(a) ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale the gradients of ``parameters`` in place so that their total norm (the norm of
    the per-parameter norms) is at most ``max_norm``. Returns the total norm before
    clipping, as a tensor.

    ``norm_type`` is any positive number, ``0``, ``float('inf')`` or ``float('-inf')``;
    ``foreach`` is accepted for PyTorch compatibility (the update is one NumPy path).

    >>> import axonic
    >>> from axonic.nn.utils import clip_grad_norm_
    >>> w = axonic.nn.Parameter(axonic.zeros(2))
    >>> w.grad = axonic.tensor([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> [round(v, 4) for v in w.grad.tolist()]
    [0.6, 0.8]
    """
    norm_type = float(norm_type)
    if not (norm_type >= 0 or norm_type == -math.inf):
        raise ValueError(
            f"clip_grad_norm_: norm_type must be >= 0, inf or -inf, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        import numpy as np

        return _make(np.zeros((), np.float32))
    xp = get_array_module(grads[0]._data)
    dtype = grads[0]._data.dtype
    norms = xp.stack([_norm(xp, g._data, norm_type).astype(dtype) for g in grads])
    total = _norm(xp, norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} for gradients from "
            f"`parameters` is non-finite ({float(total)}), so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`")
    # The same float32 arithmetic as PyTorch: max_norm / (total + 1e-6), clamped at 1.
    coef = xp.minimum(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    for g in grads:
        g._data *= coef.astype(g._data.dtype)
        g._vc[0] += 1
    return _make(total)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``.

    >>> import axonic
    >>> from axonic.nn.utils import clip_grad_value_
    >>> w = axonic.nn.Parameter(axonic.zeros(3))
    >>> w.grad = axonic.tensor([-2.0, 0.5, 3.0])
    >>> clip_grad_value_([w], 1.0)
    >>> w.grad
    tensor([-1.0000,  0.5000,  1.0000])
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = get_array_module(g._data)
        xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._vc[0] += 1


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable).

    >>> import axonic
    >>> from axonic.nn.utils import parameters_to_vector
    >>> parameters_to_vector([axonic.ones(2, 2), axonic.zeros(1)])
    tensor([1., 1., 1., 1., 0.])
    """
    from axonic.ops import cat

    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy slices of the 1-D ``vec`` into ``parameters`` (the inverse of
    ``parameters_to_vector``); each parameter's data becomes a view of ``vec``'s.

    >>> import axonic
    >>> from axonic.nn.utils import vector_to_parameters
    >>> a, b = axonic.zeros(2, 2), axonic.zeros(1)
    >>> vector_to_parameters(axonic.arange(5.0), [a, b])
    >>> b
    tensor([4.])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec of type Tensor, got "
                        f"{type(vec).__name__}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, the parameters need a "
            f"1-D vector of {total} elements")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p._data = vec._data[pointer:pointer + n].reshape(p.shape)
        p._vc[0] += 1
        pointer += n
