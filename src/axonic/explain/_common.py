"""What every attribution method shares: inputs as a tuple, targets as one index row per
example, the model's target outputs and their gradients with respect to the inputs."""

from __future__ import annotations

import numpy as np

from axonic.autograd.engine import grad
from axonic.autograd.grad_mode import enable_grad, no_grad
from axonic.autograd.tensor import Tensor, tensor


def as_tuple(inputs, who: str) -> tuple:
    """``inputs`` (a Tensor or a tuple of Tensors) as a tuple of Tensors."""
    items = inputs if isinstance(inputs, tuple) else (inputs,)
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: inputs must be a Tensor or a tuple of Tensors, "
                            f"got {type(t).__name__}")
    return items


def like_inputs(values, was_tuple: bool):
    """Return a tuple when the user passed a tuple, else the single value."""
    return tuple(values) if was_tuple else values[0]


def as_array(value) -> np.ndarray:
    return value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)


def fresh(array, requires_grad: bool = False) -> Tensor:
    """A new leaf Tensor holding ``array`` (the dtype kept)."""
    return tensor(np.ascontiguousarray(array), requires_grad=requires_grad)


def format_baselines(baselines, inputs: tuple, who: str) -> tuple:
    """Each input's baseline as an array broadcastable to it (Captum's default: zero)."""
    if baselines is None:
        return tuple(np.zeros((), dtype=as_array(x).dtype) for x in inputs)
    items = baselines if isinstance(baselines, tuple) else (baselines,)
    if len(items) != len(inputs):
        raise ValueError(f"{who}: got {len(items)} baselines for {len(inputs)} inputs; "
                         "give one per input")
    out = []
    for b, x in zip(items, inputs):
        arr = np.asarray(as_array(b), dtype=as_array(x).dtype)
        try:
            np.broadcast_shapes(arr.shape, x.shape)
        except ValueError:
            raise ValueError(f"{who}: baseline of shape {arr.shape} does not broadcast to the "
                             f"input of shape {tuple(x.shape)}") from None
        out.append(arr)
    return tuple(out)


def format_target(target, n: int, who: str):
    """``target`` as None or an int array of shape (n, k): one output index per example."""
    if target is None:
        return None
    if isinstance(target, Tensor):
        target = target.numpy()
    if isinstance(target, np.ndarray):
        target = target.item() if target.size == 1 else target.tolist()
    if isinstance(target, bool):
        raise TypeError(f"{who}: target must be an int, a tuple, a list or a Tensor, "
                        f"got {target!r}")
    if isinstance(target, int | np.integer):
        return np.full((n, 1), int(target), dtype=np.int64)
    if isinstance(target, tuple):
        return np.tile(np.asarray(target, dtype=np.int64), (n, 1))
    if isinstance(target, list):
        if len(target) != n:
            raise ValueError(f"{who}: a list target needs one entry per example ({n}), "
                             f"got {len(target)}")
        rows = [t if isinstance(t, tuple | list) else (t,) for t in target]
        return np.asarray(rows, dtype=np.int64)
    raise TypeError(f"{who}: target must be an int, a tuple, a list or a Tensor, "
                    f"got {type(target).__name__}")


def expand_target(targets, times: int, interleave: bool = False):
    """The targets of a batch repeated ``times``: tiled (a batch per step) or interleaved."""
    if targets is None:
        return None
    return np.repeat(targets, times, axis=0) if interleave else np.tile(targets, (times, 1))


def target_mask(out_shape: tuple, targets, who: str) -> np.ndarray:
    """A 0/1 array of the output's shape marking each example's target entry."""
    n = out_shape[0]
    if targets is None:
        if int(np.prod(out_shape[1:])) != 1:
            raise ValueError(f"{who}: the model returns {out_shape[1:]} values per example; "
                             "pass target= to choose which one to explain")
        return np.ones(out_shape)
    if targets.shape[1] != len(out_shape) - 1:
        raise ValueError(f"{who}: target indexes {targets.shape[1]} output dimension(s) but "
                         f"the output has shape {out_shape}")
    for d, size in enumerate(out_shape[1:]):
        bad = (targets[:, d] < 0) | (targets[:, d] >= size)
        if bad.any():
            raise IndexError(f"{who}: target {int(targets[bad, d][0])} is out of range for an "
                             f"output of shape {out_shape}")
    mask = np.zeros(out_shape)
    mask[(np.arange(n),) + tuple(targets.T)] = 1.0
    return mask


def run(forward_func, inputs: tuple, additional_forward_args=None):
    extra = additional_forward_args
    if extra is None:
        extra = ()
    elif not isinstance(extra, tuple):
        extra = (extra,)
    return forward_func(*inputs, *extra)


def target_outputs(forward_func, inputs: tuple, targets, who: str,
                   additional_forward_args=None) -> np.ndarray:
    """The model's target output per example, without building a graph: shape (n,)."""
    with no_grad():
        out = run(forward_func, inputs, additional_forward_args)
    arr = as_array(out)
    if arr.ndim == 0:
        raise ValueError(f"{who}: the model must return one row per example, got a scalar")
    mask = target_mask(arr.shape, targets, who)
    return (arr * mask).reshape(arr.shape[0], -1).sum(axis=1).astype(arr.dtype)


def gradients(forward_func, arrays, targets, who: str, additional_forward_args=None) -> list:
    """Gradients of each example's target output with respect to each input array."""
    leaves = tuple(fresh(a, requires_grad=True) for a in arrays)
    with enable_grad():
        out = run(forward_func, leaves, additional_forward_args)
        if not isinstance(out, Tensor) or out.ndim == 0:
            raise ValueError(f"{who}: the model must return a Tensor with one row per example")
        mask = target_mask(tuple(out.shape), targets, who).astype(as_array(out).dtype)
        grads = grad([out], list(leaves), [fresh(mask)], allow_unused=True)
    return [np.zeros_like(a) if g is None else g.detach().numpy() for g, a in zip(grads, arrays)]
