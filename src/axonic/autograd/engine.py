"""The backward engine: a topological sort of the graph and one reverse loop.

One traversal (``_traverse``) serves ``Tensor.backward``, ``autograd.backward`` and
``autograd.grad``; they differ only in where the gradients that reach the chosen
tensors go (``.grad`` of every leaf, ``.grad`` of the given ``inputs``, or returned:
``autograd/gradients.py``). Gradients accumulate with ``+``, so a tensor used twice
just works. Every gradient's shape is checked against its tensor.

With ``create_graph=True`` the same loop runs every op's backward on tensors, recorded
in the graph (see ``Function``), so the gradients can be differentiated again.
Nothing is left on the graph's nodes afterwards.
"""

from __future__ import annotations

import numpy as _np

from axonic.autograd.anomaly import check_finite
from axonic.autograd.function import INPLACE_CLOCK
from axonic.autograd.grad_mode import STATE
from axonic.autograd.gradients import (
    _grad_shape_error,
    _Gradients,
    _retain_into,
    _run_hooks,
)
from axonic.autograd.tensor import Tensor, _make
from axonic.autograd.views import stale_view
from axonic.backend import get_array_module

_ndarray, _generic = _np.ndarray, _np.generic


def _topological_order(roots, stale: dict):
    """Functions reachable from ``roots``, each after every function that consumes it."""
    order, seen = [], set()  # Functions hash by identity
    inplace = INPLACE_CLOCK[0] != 0  # else every op has epoch 0: no history to step back
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.inputs or ()))]
        while stack:
            fn, it = stack[-1]
            for inp in it:
                child = inp.grad_fn if isinstance(inp, Tensor) else None
                if inplace and child is not None and child._epoch != fn._epoch:
                    child = _edge(fn, inp, stale)[1]
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.inputs or ())))
                    break
            else:
                stack.pop()
                order.append(fn)
    order.reverse()
    return order


def _leading_to(order, sink, stale) -> set:
    """The functions whose backward can reach a wanted tensor (``grad``, ``backward(inputs=)``):
    the rest of the graph is neither run nor freed, as in PyTorch."""
    needed = set()
    for fn in reversed(order):  # inputs' functions come first
        if fn in sink.slot or fn.inputs is None:  # freed: the loop says so
            needed.add(fn)
            continue
        for inp in fn.inputs or ():
            if not isinstance(inp, Tensor):
                continue
            node = inp.grad_fn
            if node is not None and node._epoch != fn._epoch:
                inp, node = _edge(fn, inp, stale)
            if node is None:
                if id(inp) in sink.slot:
                    needed.add(fn)
                    break
            elif node in needed:
                needed.add(fn)
                break
    return needed


def _as_seen_by(fn, inp: Tensor) -> Tensor:
    """``inp`` with the history it had when ``fn`` took it: in-place ops recorded on it
    since then (a later in-place clock) are stepped back through."""
    node = inp.grad_fn
    while node is not None and node._epoch > fn._epoch:
        inp = node._prev
        node = inp.grad_fn
    return inp


def _edge(fn, inp: Tensor, stale: dict):
    """Where ``fn``'s gradient for ``inp`` goes when in-place ops happened in between: the
    history ``inp`` had when ``fn`` took it, or a view read again from its changed base."""
    if inp.grad_fn._epoch > fn._epoch:
        inp = _as_seen_by(fn, inp)
        return inp, inp.grad_fn
    if inp._base is not None:
        node = stale_view(fn, inp, stale)
        if node is not None:
            return inp, node
    return inp, inp.grad_fn


def _seed(root: Tensor, gradient, create_graph: bool):
    if not root._rg:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn; "
            "did you create the inputs with requires_grad=True, or run under no_grad()?"
        )
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(root.shape)}; call backward(gradient) with a tensor of that shape"
            )
        g = get_array_module(root._data).ones_like(root._data)
        return _make(g) if create_graph else g
    if isinstance(gradient, Tensor):
        if gradient.shape != root.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(gradient.shape)} but the output has "
                f"shape {tuple(root.shape)}; they must match"
            )
        if create_graph:
            return gradient  # a gradient with history is differentiated through
        gradient = gradient._data
    xp = get_array_module(root._data)
    g = xp.asarray(gradient, dtype=root._data.dtype)
    if g.shape != root._data.shape:
        raise RuntimeError(
            f"backward: gradient has shape {tuple(g.shape)} but the output has shape "
            f"{tuple(root.shape)}; they must match"
        )
    return _make(g) if create_graph else g


def _traverse(roots, gradients, retain_graph: bool, create_graph: bool, sink: _Gradients):
    pending = {}
    fns = []
    for root, gradient in zip(roots, gradients):
        g = _seed(root, gradient, create_graph)
        if root.grad_fn is None:
            sink.at_leaf(root, g, True)
            continue
        prev = pending.get(root.grad_fn)
        pending[root.grad_fn] = g if prev is None else prev + g
        fns.append(root.grad_fn)

    anomaly = STATE.anomaly
    at_node = sink.at_node if sink.wanted is not None else None
    inplace = INPLACE_CLOCK[0] != 0  # else no op has a history to step back through
    # id(leaf) -> [leaf, summed gradient, maybe shared]; only the wanted ones if any
    leaves, slot = sink.leaves, sink.slot if sink.wanted is not None else None
    saved_mode = STATE.enabled
    STATE.enabled = create_graph  # only a create_graph backward is itself recorded
    try:
        stale = {}  # views read again from a base changed in place, per consumer epoch
        order = _topological_order(fns, stale)
        needed = None if sink.wanted is None else _leading_to(order, sink, stale)
        for fn in order:
            g = pending.pop(fn, None)
            if g is None or (needed is not None and fn not in needed):
                continue
            inputs = fn.inputs
            if inputs is None:
                raise RuntimeError(
                    f"trying to backward through the graph a second time (at "
                    f"'{type(fn).__name__}'): its saved values were freed after the first "
                    "backward; pass retain_graph=True to the first backward() if you need "
                    "to go back twice"
                )
            hooks, retain = fn._hooks, fn._retain
            if hooks:
                g = _run_hooks(hooks, g, create_graph)
            if retain:
                t = retain()
                if t is not None:
                    _retain_into(t, g, create_graph)
            if at_node is not None:
                at_node(fn, g)
            if fn.versions or fn.out_version is not None:
                fn.check_versions()
            if create_graph:
                grads = _call_backward(fn, g, True)
            else:
                grads = fn.backward(g)
                if grads.__class__ is not tuple:
                    grads = (grads,)
            epoch = fn._epoch if inplace else None
            k = -1
            for inp, ig in zip(inputs, grads):
                k += 1
                if ig is None or not isinstance(inp, Tensor):
                    continue
                node = inp.grad_fn
                if epoch is not None and node is not None and node._epoch != epoch:
                    inp, node = _edge(fn, inp, stale)
                if not inp._rg:
                    continue
                data = inp._data
                if create_graph or ig.__class__ is not _ndarray:
                    ig = _checked(fn, k, inp, ig, create_graph)
                elif ig.shape != data.shape:
                    _shape_error(fn, k, ig, data)
                elif ig.dtype != data.dtype:
                    ig = ig.astype(data.dtype)
                if anomaly:
                    check_finite(ig._data if create_graph else ig, type(fn).__name__,
                                 f"backward gradient for input {k}")
                if node is not None:
                    prev = pending.get(node)
                    pending[node] = ig if prev is None else prev + ig
                elif slot is None or id(inp) in slot:
                    entry = leaves.get(id(inp))
                    if entry is None:
                        leaves[id(inp)] = [inp, ig, ig is g]
                    else:  # the sum is a new array, owned by nobody else
                        entry[1] = entry[1] + ig
                        entry[2] = False
            if not retain_graph:
                d = fn.__dict__
                if hooks is None and retain is None and "_prev" not in d:
                    d.clear()  # release(), inlined for the common case
                    fn.inputs = None
                else:
                    fn.release()
    except BaseException:
        _QUEUED.clear()  # a failed backward runs none of the callbacks it queued
        raise
    finally:
        STATE.enabled = saved_mode
    with _Mode(create_graph):
        result = sink.finish()
    _run_queued_callbacks()
    return result


_QUEUED: list = []


def queue_callback(callback) -> None:
    """Run ``callback()`` once the backward now running has given every leaf its gradient
    (PyTorch's ``Variable._execution_engine.queue_callback``). Called from a hook during
    backward; DistributedDataParallel averages gradients this way."""
    _QUEUED.append(callback)


def _run_queued_callbacks() -> None:
    while _QUEUED:
        todo = list(_QUEUED)
        _QUEUED.clear()
        for callback in todo:
            callback()


class _Mode:
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.prev, STATE.enabled = STATE.enabled, self.enabled

    def __exit__(self, *exc):
        STATE.enabled = self.prev


def _call_backward(fn, g, create_graph: bool) -> tuple:
    if not create_graph:
        grads = fn.backward(g)
        return grads if isinstance(grads, tuple) else (grads,)
    cls = type(fn)
    if not cls.double_backward:
        raise RuntimeError(
            f"'{cls.__name__}' has no second derivative in axonic yet: create_graph=True "
            "cannot differentiate through its backward"
        )
    fn._graph_mode = True
    try:
        grads = fn.backward(g)
    finally:
        fn._graph_mode = False
    return grads if isinstance(grads, tuple) else (grads,)


def _shape_error(fn, k, ig, data):
    raise RuntimeError(
        f"Function '{type(fn).__name__}' returned a gradient of shape {tuple(ig.shape)} "
        f"for its input {k}, which has shape {tuple(data.shape)}"
    )


def _checked(fn, k, inp, ig, create_graph):
    """The gradient for input ``k`` as the engine hands it on: shape checked, in the
    input's dtype, an array (or, under create_graph, a tensor)."""
    data = inp._data
    if create_graph:
        if not isinstance(ig, Tensor):
            ig = _make(get_array_module(data).asarray(ig))
    elif ig.__class__ is not _ndarray and isinstance(ig, _generic):
        ig = _np.asarray(ig)  # NumPy returns scalars from 0-d arithmetic
    if ig.shape != data.shape:
        _shape_error(fn, k, ig, data)
    if ig.dtype != data.dtype:
        ig = ig.to(data.dtype) if create_graph else ig.astype(data.dtype)
    return ig


def _as_list(x) -> list:
    return [x] if isinstance(x, Tensor) else list(x)


def _grad_list(grads, n: int) -> list:
    if grads is None:
        return [None] * n
    grads = [grads] if isinstance(grads, Tensor) else list(grads)
    if len(grads) != n:
        raise RuntimeError(f"got {len(grads)} gradients for {n} outputs; they must pair up")
    return grads


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    With ``create_graph=True`` the gradients are themselves differentiable.

    >>> import axonic
    >>> x = axonic.tensor([3.0], requires_grad=True)
    >>> (g,) = axonic.autograd.grad((x * x).sum(), [x])
    >>> g
    tensor([6.])
    """
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError("grad(): one of the inputs does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    got = _traverse(outputs, _grad_list(grad_outputs, len(outputs)), retain_graph,
                    create_graph, _Gradients(inputs, create_graph))
    result = []
    for g in got:
        if g is None and not allow_unused:
            raise RuntimeError(
                "grad(): one of the inputs was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(g if g is None or isinstance(g, Tensor) else _make(g))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into ``.grad``: of every leaf that
    requires grad, or with ``inputs`` only of those tensors (leaves or not)."""
    tensors = _as_list(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _grad_list(grad_tensors, len(tensors))
    if inputs is None:
        _traverse(tensors, grads, retain_graph, create_graph, _Gradients(None, create_graph))
        return
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("backward(): 'inputs' was given but is empty")
    for t in inputs:
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError("backward(): one of the inputs does not require grad")
    got = _traverse(tensors, grads, retain_graph, create_graph,
                    _Gradients(inputs, create_graph))
    for t, g in zip(inputs, got):
        if g is None:
            continue
        if create_graph:
            t.grad = g if t.grad is None else t.grad + g
        elif t.grad is None:
            t.grad = _make(g.copy())
        else:
            if t.grad.shape != g.shape:
                _grad_shape_error(t.grad, g)
            t.grad._data += g
            t.grad._vc[0] += 1
