"""The backward engine: a topological sort of the graph and one reverse loop.

Gradients accumulate with ``+``, so a tensor used twice just works. Every gradient's
shape is checked against its tensor; leaves receive an array they own, so in-place
changes to ``.grad`` (clipping, optimizers) never reach another tensor's gradient.
"""

from __future__ import annotations

import numpy as _np

from axonic.autograd.anomaly import check_finite
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module

_ndarray, _generic = _np.ndarray, _np.generic


def _topological_order(roots):
    """Functions reachable from ``roots``, each after every function that consumes it."""
    order, seen = [], set()  # Functions hash by identity
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.inputs or ()))]
        while stack:
            fn, it = stack[-1]
            for inp in it:
                child = inp.grad_fn if isinstance(inp, Tensor) else None
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.inputs or ())))
                    break
            else:
                stack.pop()
                order.append(fn)
    order.reverse()
    return order


def _seed(root: Tensor, gradient):
    if not root._rg:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn; "
            "did you create the inputs with requires_grad=True, or run under no_grad()?"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(root.shape)}; call backward(gradient) with a tensor of that shape"
            )
        return get_array_module(root.data).ones_like(root.data)
    g = gradient.data if isinstance(gradient, Tensor) else gradient
    xp = get_array_module(root.data)
    g = xp.asarray(g, dtype=root.data.dtype)
    if g.shape != root.data.shape:
        raise RuntimeError(
            f"backward: gradient has shape {tuple(g.shape)} but the output has shape "
            f"{tuple(root.shape)}; they must match"
        )
    return g


def run_backward(roots, gradients, retain_graph=False, create_graph=False, inputs=None):
    """Backpropagate from ``roots``; accumulate into leaves' ``.grad`` or, with ``inputs``,
    return the gradients of those tensors (as ``axonic.autograd.grad`` does)."""
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported yet; "
            "gradients are computed on arrays, outside the graph"
        )
    pending = {}
    # Leaves' gradients are summed over all their uses first, then hooked and accumulated
    # once (as PyTorch's AccumulateGrad): id(leaf) -> [leaf, gradient, maybe shared]
    leaf_pending = {}
    capture = None
    if inputs is not None:
        capture = {id(t): i for i, t in enumerate(inputs)}
        captured = [None] * len(inputs)
    fns = []
    for root, gradient in zip(roots, gradients):
        g = _seed(root, gradient)
        if root.grad_fn is None:
            if capture is not None:
                if id(root) in capture:
                    i = capture[id(root)]
                    captured[i] = g if captured[i] is None else captured[i] + g
            else:
                _add_leaf_grad(leaf_pending, root, g, True)
            continue
        prev = pending.get(root.grad_fn)
        pending[root.grad_fn] = g if prev is None else prev + g
        fns.append(root.grad_fn)

    anomaly = STATE.anomaly
    for fn in _topological_order(fns):
        g = pending.pop(fn, None)
        if g is None:
            continue
        if fn.inputs is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time (at '{type(fn).__name__}'): "
                "its saved values were freed after the first backward; "
                "pass retain_graph=True to the first backward() if you need to go back twice"
            )
        if fn._hooks:
            g = _run_hooks(fn._hooks, g)
        if fn._retain:
            t = fn._retain()
            if t is not None:
                t.grad = _make(g.copy()) if t.grad is None else _make(t.grad.data + g)
        if capture is not None and fn._out_id in capture:
            i = capture[fn._out_id]
            captured[i] = g if captured[i] is None else captured[i] + g
        if fn.saves_inputs or fn.saves_output:
            fn.check_versions()
        grads = fn.backward(g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        name = None
        for k, (inp, ig) in enumerate(zip(fn.inputs, grads)):
            if ig is None or not isinstance(inp, Tensor) or not inp._rg:
                continue
            data = inp.data
            if ig.__class__ is not _ndarray and isinstance(ig, _generic):
                ig = _np.asarray(ig)  # NumPy returns scalars from 0-d arithmetic
            if ig.shape != data.shape:
                name = type(fn).__name__
                raise RuntimeError(
                    f"Function '{name}' returned a gradient of shape {tuple(ig.shape)} for its "
                    f"input {k}, which has shape {tuple(data.shape)}"
                )
            if ig.dtype != data.dtype:
                ig = ig.astype(data.dtype)
            if anomaly:
                check_finite(ig, type(fn).__name__, f"backward gradient for input {k}")
            node = inp.grad_fn
            if node is None:
                if capture is None:
                    _add_leaf_grad(leaf_pending, inp, ig, ig is g)
                elif id(inp) in capture:
                    i = capture[id(inp)]
                    captured[i] = ig if captured[i] is None else captured[i] + ig
            else:
                prev = pending.get(node)
                pending[node] = ig if prev is None else prev + ig
        if not retain_graph:  # free the saved arrays; keep hooks for a later backward's error
            hooks = fn._hooks
            fn.__dict__.clear()
            fn.inputs = None
            if hooks:
                fn._hooks = hooks
    leaves_done = set()
    for t, g, maybe_shared in leaf_pending.values():
        _accumulate_leaf(t, g, maybe_shared, leaves_done)
    if capture is not None:
        for i, t in enumerate(inputs):  # a leaf's hooks see its total gradient here too
            if t.grad_fn is None and t._hooks and captured[i] is not None:
                captured[i] = _run_hooks(t._hooks, captured[i])
        return captured
    return None


def _run_hooks(hooks, g):
    for hook in hooks:
        r = hook(_make(g))
        if r is not None:
            g = r.data if isinstance(r, Tensor) else r
    return g


def _add_leaf_grad(leaf_pending: dict, t: Tensor, g, maybe_shared: bool) -> None:
    entry = leaf_pending.get(id(t))
    if entry is None:
        leaf_pending[id(t)] = [t, g, maybe_shared]
    else:  # the sum is a new array, owned by nobody else
        entry[1] = entry[1] + g
        entry[2] = False


def _accumulate_leaf(t: Tensor, g, maybe_shared: bool, leaves_done: set) -> None:
    if t._hooks:
        hooked = _run_hooks(t._hooks, g)
        maybe_shared = maybe_shared or hooked is not g  # a hook may return anything
        g = hooked
    if t.grad is None:
        # The leaf must own its gradient: a pass-through op (add, reshape, expand) hands the
        # same array or a view of it to several inputs.
        if maybe_shared or g.base is not None or id(g) in leaves_done or not g.flags.writeable:
            g = g.copy()
        leaves_done.add(id(g))
        t.grad = _make(g)
    else:
        gd = t.grad.data
        if gd.shape != g.shape:
            raise RuntimeError(
                f"existing .grad has shape {tuple(gd.shape)} but the new gradient has shape "
                f"{tuple(g.shape)}"
            )
        gd += g
        t.grad._vc[0] += 1


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    >>> import axonic
    >>> x = axonic.tensor([3.0], requires_grad=True)
    >>> (g,) = axonic.autograd.grad((x * x).sum(), [x])
    >>> g
    tensor([6.])
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t._rg:
            raise RuntimeError("grad(): one of the inputs does not require grad")
        if t.grad_fn is not None:
            t.grad_fn._out_id = id(t)
    got = run_backward(outputs, grad_outputs, retain_graph=bool(retain_graph),
                       create_graph=create_graph, inputs=inputs)
    result = []
    for g in got:
        if g is None and not allow_unused:
            raise RuntimeError(
                "grad(): one of the inputs was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else _make(g))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=False, create_graph=False, inputs=None):
    """Backpropagate from several outputs at once (``axonic.autograd.backward``)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph, inputs)
