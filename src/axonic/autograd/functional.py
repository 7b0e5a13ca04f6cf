"""Derivatives of whole functions, with PyTorch's names (``torch.autograd.functional``):
``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp`` and ``hvp``.

Each takes ``func(*inputs) -> tensor(s)`` and a tensor or a tuple of tensors. The inputs
are used through fresh leaves that require grad (the caller's tensors are untouched);
results are detached unless ``create_graph=True``. Second-order ones (``hessian``,
``hvp``, ``vhp``, ``jvp``) run on ``create_graph``.

>>> import axonic
>>> from axonic.autograd.functional import hessian, hvp
>>> x = axonic.tensor([1.0, 2.0], dtype=axonic.float64)
>>> hessian(lambda t: (t ** 3).sum(), x)
tensor([[ 6.,  0.],
        [ 0., 12.]], dtype=axonic.float64)
>>> hvp(lambda t: (t ** 3).sum(), x, axonic.ones(2, dtype=axonic.float64))[1]
tensor([ 6., 12.], dtype=axonic.float64)
"""

from __future__ import annotations

from axonic.autograd.engine import grad
from axonic.autograd.grad_mode import enable_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, what: str, fn_name: str) -> tuple[bool, tuple]:
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, tuple | list) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(f"{fn_name}: {what} must be a Tensor or a tuple of Tensors, "
                    f"got {type(x).__name__}")


def _leaves(inputs, create_graph: bool) -> tuple:
    """Fresh tensors that require grad: detached copies, or (create_graph) views that keep
    the caller's history so the result can be differentiated further."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t * 1)  # same values, connected to the caller's graph
        else:
            leaf = _make(t._data)
            leaf.requires_grad = True
            out.append(leaf)
    return tuple(out)


def _zeros(t: Tensor) -> Tensor:
    return _make(get_array_module(t._data).zeros_like(t._data))


def _finish(values, create_graph: bool, like=None, strict: bool = False, fn_name: str = ""):
    """None -> zeros of the matching input (or an error under strict); detach unless
    create_graph."""
    res = []
    for i, g in enumerate(values):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn_name}: the output is independent of input {i}; strict=True "
                    "refuses that (pass strict=False for zeros)")
            g = _zeros(like[i])
        elif not create_graph:
            g = g.detach()
        res.append(g)
    return tuple(res)


def _outputs(func, inputs, fn_name: str):
    out = func(*inputs)
    tup, outs = _as_tuple(out, "the function's output", fn_name)
    return tup, outs


def _check_v(v, like, fn_name: str):
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            raise RuntimeError(
                f"{fn_name}: v[{i}] has shape {tuple(a.shape)} but it must match "
                f"{tuple(b.shape)}")
    if len(v) != len(like):
        raise RuntimeError(f"{fn_name}: got {len(v)} tensors in v for {len(like)} expected")


def _scalar_v(outs, fn_name: str):
    for o in outs:
        if o._data.size != 1:
            raise RuntimeError(
                f"{fn_name}: v can be omitted only when the function's output has one "
                f"element, got shape {tuple(o.shape)}")
    return tuple(_make(get_array_module(o._data).ones_like(o._data)) for o in outs)


def _unwrap(tup: bool, values: tuple):
    return values if tup else values[0]


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    tup_in, inputs = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        xs = _leaves(inputs, create_graph)
        tup_out, outs = _outputs(func, xs, "vjp")
        if v is None:
            v = _scalar_v(outs, "vjp")
        else:
            _, v = _as_tuple(v, "v", "vjp")
            _check_v(v, outs, "vjp")
        pairs = [(o, g) for o, g in zip(outs, v) if o.requires_grad]
        got = (grad([p[0] for p in pairs], xs, [p[1] for p in pairs],
                    create_graph=create_graph, allow_unused=True)
               if pairs else (None,) * len(xs))
    result = _finish(got, create_graph, xs, strict, "vjp")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _unwrap(tup_out, outs), _unwrap(tup_in, result)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by differentiating a
    vector-Jacobian product with respect to its vector (the double-backward trick)."""
    tup_in, inputs = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        v = _scalar_v(inputs, "jvp")
    else:
        _, v = _as_tuple(v, "v", "jvp")
        _check_v(v, inputs, "jvp")
    with enable_grad():
        xs = _leaves(inputs, True)
        tup_out, outs = _outputs(func, xs, "jvp")
        us = []
        for o in outs:
            u = _zeros(o)
            u.requires_grad = True
            us.append(u)
        live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
        if live:
            gx = grad([p[0] for p in live], xs, [p[1] for p in live], create_graph=True,
                      allow_unused=True)
            pairs = [(g, w) for g, w in zip(gx, v) if g is not None and g.requires_grad]
        else:
            pairs = []
        got = (grad([p[0] for p in pairs], us, [p[1] for p in pairs],
                    create_graph=create_graph, allow_unused=True)
               if pairs else (None,) * len(us))
    result = _finish(got, create_graph, outs, strict, "jvp")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _unwrap(tup_out, outs), _unwrap(tup_out, result)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``, one backward per output element.

    A single output and a single input give a tensor of shape ``out.shape + in.shape``;
    tuples give a tuple (per output) of tuples (per input).
    """
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: strategy={strategy!r} is not supported; axonic computes "
                         "Jacobians in 'reverse-mode'")
    tup_in, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        xs = _leaves(inputs, create_graph)
        tup_out, outs = _outputs(func, xs, "jacobian")
        rows = []
        for o in outs:
            per_input = [[] for _ in xs]
            xp = get_array_module(o._data)
            for j in range(o._data.size):
                if o.requires_grad:
                    e = xp.zeros(o._data.size, dtype=o._data.dtype)
                    e[j] = 1
                    got = grad([o], xs, [_make(e.reshape(o.shape))], retain_graph=True,
                               create_graph=create_graph, allow_unused=True)
                else:
                    got = (None,) * len(xs)
                for k, g in enumerate(_finish(got, create_graph, xs, strict, "jacobian")):
                    per_input[k].append(g)
            rows.append(tuple(_stack_rows(gs, o, x) for gs, x in zip(per_input, xs)))
    if not tup_out:
        return rows[0] if tup_in else rows[0][0]
    return tuple(r if tup_in else r[0] for r in rows)


def _stack_rows(grads, out, x):
    from axonic.ops import stack  # ops sit above autograd: import at call time

    if not grads:
        return _make(get_array_module(x._data).zeros(tuple(out.shape) + tuple(x.shape),
                                                     dtype=x._data.dtype))
    return stack(grads).reshape(tuple(out.shape) + tuple(x.shape))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs``: the Jacobian of its gradient."""
    tup_in, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out._data.size != 1:
            raise RuntimeError("hessian: the function must return a tensor with one element, "
                               f"got {getattr(out, 'shape', type(out).__name__)}")
        got = grad([out], xs, create_graph=True, allow_unused=True)
        return tuple(_zeros(x) if g is None else g for g, x in zip(got, xs))

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   strategy=outer_jacobian_strategy)
    return res if tup_in else res[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)`` for a scalar ``func``."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar ``func`` (H is symmetric for twice
    continuously differentiable functions, so this equals ``vhp``)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph, strict, fn_name):
    tup_in, inputs = _as_tuple(inputs, "inputs", fn_name)
    if v is None:
        v = _scalar_v(inputs, fn_name)
    else:
        _, v = _as_tuple(v, "v", fn_name)
        _check_v(v, inputs, fn_name)
    with enable_grad():
        xs = _leaves(inputs, create_graph)
        out = func(*xs)
        if not isinstance(out, Tensor) or out._data.size != 1:
            raise RuntimeError(f"{fn_name}: the function must return a tensor with one "
                               f"element, got {getattr(out, 'shape', type(out).__name__)}")
        gx = grad([out], xs, create_graph=True, allow_unused=True)
        pairs = [(g, w) for g, w in zip(gx, v) if g is not None and g.requires_grad]
        got = (grad([p[0] for p in pairs], xs, [p[1] for p in pairs],
                    create_graph=create_graph, allow_unused=True)
               if pairs else (None,) * len(xs))
    result = _finish(got, create_graph, xs, strict, fn_name)
    return (out if create_graph else out.detach()), _unwrap(tup_in, result)
