"""The trace behind ``axonic.onnx.export``: the autograd graph of one forward pass.

The model runs once in eval mode with its floating inputs, parameters and buffers marked
as requiring grad, so every op that touches them is recorded; walking the graph back
from the outputs gives the ops in order, each a ``Function`` holding its attributes.
While it runs, each recorded op is also tagged with the keyword options it was applied
with, its output shape and the module it ran in (for error messages).

A second pass with every dynamic axis one (or more) longer and the input values shuffled
tells which dims of each value follow a dynamic axis (a dim that differs between the
passes is symbolic, so shape ops never bake the batch or sequence size in) and which
values the model computed from its inputs outside the graph (refused: they would be
baked in as constants).

>>> import axonic
>>> from axonic import nn
>>> t = trace(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), (axonic.randn(4, 3),))
>>> [type(n.fn).__name__ for n in t.nodes]
['Linear', 'Relu']
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.grad_mode import enable_grad
from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy


@dataclass
class Node:
    """One recorded op: its Function, keyword options, output shape and module path."""

    fn: Function
    kwargs: dict
    shape: tuple
    dtype: object
    path: str
    dims: tuple = ()  # the shape with dynamic dims as ``Sym`` (set by the exporter)


@dataclass
class Trace:
    nodes: list  # Node, in topological order (inputs before users)
    outputs: list  # the model's output tensors, flattened
    args: tuple  # the tensors the model was called with


def flatten(value) -> list:
    """The tensors of a model output: a tensor, or nested tuples/lists/dicts of them."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flatten(v)]
    return []


# ``trace`` swaps ``Function.apply`` for the whole process while the model runs: one trace
# at a time, so that exports from several threads each put back what they found (two
# overlapping swaps would leave one trace's recorder installed for good)
_TRACING = threading.RLock()


def trace(model, args: tuple) -> Trace:
    """Run ``model(*args)`` once, recording its ops (see the module docstring). Safe to
    call from several threads: traces run one at a time, and ops that other threads run
    meanwhile are not recorded."""
    with _TRACING:
        return _trace(model, args)


def _trace(model, args: tuple) -> Trace:
    tracked = _track(model, args)
    stack: list = []
    hooks = [_path_hooks(m, name, stack) for name, m in model.named_modules()]
    original = Function.__dict__["apply"]
    me = threading.get_ident()

    def apply(cls, *a, **kw):
        out = original.__func__(cls, *a, **kw)
        fn = getattr(out, "grad_fn", None)
        if (fn is not None and "_onnx_tag" not in fn.__dict__  # kept on the op (ids get reused)
                and threading.get_ident() == me):
            fn._onnx_tag = (kw, tuple(out.shape), out._data.dtype, stack[-1] if stack else "")
        return out

    Function.apply = classmethod(apply)
    try:
        with enable_grad():
            outputs = flatten(model(*args))
    finally:
        Function.apply = original
        for pre, post in hooks:
            pre.remove()
            post.remove()
        for t, rg in tracked:
            t._rg = rg
    nodes = []
    for fn in _topological(outputs):
        kw, shape, dtype, path = fn._onnx_tag
        nodes.append(Node(fn, kw, shape, dtype, path))
    return Trace(nodes, outputs, args)


def _track(model, args) -> list:
    """Mark the floating inputs, parameters and buffers as requiring grad (so the ops on
    them are recorded even when they are frozen); returns what to restore."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    tensors += [p for p in model.parameters()] + [b for _, b in model.named_buffers()]
    tracked = []
    for t in tensors:
        if isinstance(t, Tensor) and t.grad_fn is None and t._data.dtype.kind == "f":
            tracked.append((t, t._rg))
            t._rg = True
    return tracked


def _path_hooks(module, name, stack):
    label = f"{name} ({type(module).__name__})" if name else type(module).__name__

    def pre(m, inputs):
        stack.append(label)

    def post(m, inputs, output):
        stack.pop()

    return module.register_forward_pre_hook(pre), module.register_forward_hook(post)


def _topological(outputs) -> list:
    """The Functions behind ``outputs``, each after the ones it reads (depth first, in
    input order, so two traces of the same model list their ops in the same order)."""
    order, seen = [], set()
    for out in outputs:
        if out.grad_fn is None or id(out.grad_fn) in seen:
            continue
        stack = [(out.grad_fn, False)]
        while stack:
            fn, done = stack.pop()
            if done:
                order.append(fn)
                continue
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            stack.append((fn, True))
            for a in reversed(fn.inputs or ()):
                if isinstance(a, Tensor) and a.grad_fn is not None:
                    stack.append((a.grad_fn, False))
    return order


def resized_args(args: tuple, dynamic: dict, seed: int = 0) -> tuple:
    """The inputs of the second pass: each dynamic axis ``delta`` longer (repeating the
    data) and the values shuffled, so that a value computed from the inputs outside the
    graph shows up as a difference. ``dynamic`` maps (arg index, axis) -> delta."""
    rng = np.random.default_rng(seed)
    out = []
    for k, a in enumerate(args):
        if not isinstance(a, Tensor):
            out.append(a)
            continue
        arr = to_numpy(a._data)
        for (i, axis), delta in dynamic.items():
            if i == k:
                n = arr.shape[axis]
                arr = np.take(arr, np.arange(n + delta) % max(n, 1), axis=axis)
        # the same values in other places: anything computed from them outside the graph
        # (a mask, an index) changes, while every value stays one the model accepts
        arr = rng.permutation(arr.reshape(-1)).reshape(arr.shape)
        out.append(Tensor(arr, dtype=a.dtype))
    return tuple(out)
