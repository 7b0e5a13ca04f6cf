"""How an in-place op changes a tensor, outside and inside the graph.

Outside the graph (under ``no_grad``, or when nothing involved requires grad) the array is
changed directly and the version counter moves: the optimizer's path, kept short.

In the graph the change is recorded: the op runs out of place on the tensor's previous
history (an old-history placeholder tensor), its result is written into the tensor's own
array (so aliases and views see it), and the tensor's ``grad_fn`` becomes that op, whose
``_prev`` is the placeholder. Ops recorded earlier that took the tensor still reach its old
history (the engine steps back through ``_prev``, see ``autograd.function.INPLACE_CLOCK``).
A value the op keeps for backward that the write would overwrite is copied first; a kept
output is the tensor itself, version-checked as in PyTorch. Changing a view also rewrites
its base's history (``inplace_views``, PyTorch's CopySlices).
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import INPLACE_CLOCK, Function, sum_to
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, to_numpy
from axonic.ops import inplace_views as _views


# --- outside the graph: change the array, move the version ---------------------------
def read_only_error(t: Tensor, op: str):
    return ValueError(
        f"{op}: this tensor is a read-only view (made by expand or broadcast_to), where "
        "several elements share one memory location; clone() it before changing it in place"
    )


def ufunc_inplace(t: Tensor, op: str, ufunc: str, other) -> Tensor:
    data = t._data
    try:
        getattr(get_array_module(data), ufunc)(data, other, out=data, casting="same_kind")
    except TypeError:  # NumPy's casting error: a float result into an integer tensor
        first = (to_numpy(data).reshape(-1)[:1], np.asarray(other).reshape(-1)[:1])
        result = getattr(np, ufunc)(*first).dtype  # what the op would produce
        raise TypeError(
            f"{op}: the result has dtype {result.name}, which can't be stored in place "
            f"in a tensor of dtype {data.dtype.name}"
        ) from None
    except ValueError:
        if not data.flags.writeable:
            raise read_only_error(t, op) from None
        raise broadcast_error(op, other, t) from None
    t._vc[0] += 1
    return t


def broadcast_error(op, other, t):
    return ValueError(f"{op}: operand of shape {tuple(np.shape(other))} does not broadcast "
                      f"to tensor of shape {tuple(t.shape)}")


def assign(t: Tensor, op: str, value) -> Tensor:
    """Write ``value`` (an array or number) into ``t``'s array."""
    data = t._data
    if value is not data:
        try:
            data[...] = value
        except ValueError:
            if data.ndim == 0 and not data.flags.writeable:  # a NumPy scalar made an array
                t._data = get_array_module(data).array(value, dtype=data.dtype)
            elif not data.flags.writeable:
                raise read_only_error(t, op) from None
            else:
                raise broadcast_error(op, value, t) from None
    t._vc[0] += 1
    return t


# --- in the graph ----------------------------------------------------------------------
def tracked(t: Tensor, operands) -> bool:
    """Whether changing ``t`` may have to be recorded (decided exactly in ``record``)."""
    if t._rg or t._base is not None:
        return True
    for o in operands:
        if isinstance(o, Tensor) and o._rg:
            return True
    return False


def update_(t: Tensor, op: str, compute, operands=()) -> Tensor:
    """Change ``t`` in place to ``compute(old)``, where ``compute`` is out-of-place and
    ``old`` stands for ``t`` before the change; recorded for autograd when needed.

    >>> import axonic
    >>> y = axonic.tensor([1.0, 4.0], requires_grad=True) * 1
    >>> update_(y, "sqrt_", lambda old: old.sqrt())
    tensor([1., 2.], grad_fn=<SqrtBackward>)
    """
    if STATE.enabled and tracked(t, operands):
        done = record(t, op, compute, operands)
        if done is not None:
            return done
    r = compute(t)
    return assign(t, op, r._data if isinstance(r, Tensor) else r)


def record(t: Tensor, op: str, compute, operands):
    """The recorded change, or None when nothing involved requires grad."""
    if not t._data.flags.writeable and t._data.ndim:
        raise read_only_error(t, op)
    root = _views.differentiable_base(t)
    if root is not None:
        if not (root._rg or any(isinstance(o, Tensor) and o._rg for o in operands)):
            return None
        _views.check_view(t, root)
        return _views.record_on_view(t, root, op, lambda old: _recorded_result(compute, old))
    if not (t._rg or any(isinstance(o, Tensor) and o._rg for o in operands)):
        return None
    if t.grad_fn is None and t._rg:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place "
            "operation; change it under `with axonic.no_grad():` (as optimizers do) or "
            "work on a clone()"
        )
    INPLACE_CLOCK[0] += 1
    old = _make(t._data, t._rg, t.grad_fn)  # the history so far, with its own versions
    r = _recorded_result(compute, old)
    keep_old_values(r, old)
    check_result(t, op, r)
    assign(t, op, r._data)
    _take_history(t, r, old)
    return t


def _recorded_result(compute, old: Tensor) -> Tensor:
    """``compute(old)`` as a tensor whose ``grad_fn`` was recorded just now."""
    r = compute(old)
    if not isinstance(r, Tensor) or r.grad_fn is None or r.grad_fn._epoch != INPLACE_CLOCK[0]:
        r = _Alias.apply(r if isinstance(r, Tensor) else _make(r), old)
    return r


def check_result(t: Tensor, op: str, r: Tensor) -> None:
    if r.shape != t.shape:
        raise RuntimeError(
            f"{op}: the result has shape {tuple(r.shape)}, which cannot be written in place "
            f"into the tensor of shape {tuple(t.shape)}")
    if r.dtype != t.dtype and not np.can_cast(r.dtype, t.dtype, "same_kind"):
        raise TypeError(
            f"{op}: the result has dtype {r.dtype.name}, which can't be stored in place in "
            f"a tensor of dtype {t.dtype.name}")


def keep_old_values(r: Tensor, old: Tensor) -> None:
    """Ops recorded by ``compute`` that kept ``old``'s array get a copy: it is about to be
    overwritten. Legacy ops (reading their inputs' ``.data`` in backward) get it too."""
    arr, copy = old._data, None
    epoch = INPLACE_CLOCK[0]
    stack, seen = [r.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen or fn._epoch != epoch or fn.inputs is None:
            continue
        seen.add(fn)
        for k, v in list(fn.__dict__.items()):
            if v is arr or k == "_saved" and v is not None and any(a is arr for a in v):
                copy = arr.copy() if copy is None else copy
                fn.__dict__[k] = copy if v is arr else tuple(copy if a is arr else a for a in v)
        stack.extend(i.grad_fn for i in fn.inputs if isinstance(i, Tensor))
    if copy is not None:
        old._data = copy


def _take_history(t: Tensor, r: Tensor, old: Tensor) -> None:
    """``t`` continues the graph from ``r``'s op; a kept output is ``t`` itself now."""
    fn = r.grad_fn
    fn._prev = old
    if r._data is not t._data and r.dtype == t.dtype:
        d = fn.__dict__
        for k, v in list(d.items()):
            if v is r._data:
                d[k] = t._data
            elif k == "_saved" and v is not None:
                d[k] = tuple(t._data if a is r._data else a for a in v)
    if getattr(fn, "out_version", None) is not None:
        fn.out_version = (t._vc, t._vc[0])  # overwriting t again is caught at backward
    before = old.grad_fn
    if before is not None and before._retain is not None and before._retain() is t:
        fn._retain, before._retain = before._retain, None  # retain_grad follows the tensor
    t.grad_fn, t._rg = fn, True


class _Alias(Function):
    """The result of an in-place op given its own node (the op returned an older tensor)."""


    def forward(self, x, old):
        return x

    def backward(self, g):
        return g, None


class Fill(Function):
    """``fill_``/``zero_``/``copy_`` in the graph: the old values get a zero gradient,
    ``src`` the sum over where it was broadcast (PyTorch's FillBackward / CopyBackwards)."""


    def forward(self, old, src):
        self.src_shape = getattr(src, "shape", ())
        xp = get_array_module(old)
        return xp.array(xp.broadcast_to(xp.asarray(src, dtype=old.dtype), old.shape))

    def backward(self, g):
        nx, ns = self.needs_input_grad
        return (self.xp.zeros_like(g) if nx else None,
                sum_to(g, self.src_shape) if ns else None)



def frozen(o, t: Tensor):
    """Operand ``o`` of an in-place op on ``t`` as the op reads it: before the change. The
    tensor itself (``y.mul_(y)``) or a view (``y[:2].add_(y[:2])``) is given as its current
    history without its base, sharing its versions (an op that keeps it fails at backward
    once the write changed it, as in PyTorch)."""
    if not isinstance(o, Tensor) or o is not t and o._base is None:
        return o
    alias = _make(o._data[...], o._rg, o.grad_fn)  # its own array object: kept apart
    alias._vc = o._vc
    return alias
