"""In-place ops: ``add_ sub_ mul_ div_ clamp_ relu_ sigmoid_ tanh_ masked_fill_ fill_ zero_
copy_``, ``x += y`` and ``x[index] = v``, with PyTorch's semantics.

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

>>> import axonic
>>> x = axonic.tensor([1.0, -2.0], requires_grad=True)
>>> y = x * 2
>>> alias = y
>>> y += 1
>>> alias.tolist(), y._version
([3.0, -3.0], 1)
>>> y.relu_().sum().backward()
>>> x.grad
tensor([2., 0.])
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from axonic.autograd.function import INPLACE_CLOCK, Function, sum_to
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, to_device, to_numpy
from axonic.ops import inplace_views as _views
from axonic.ops.indexing import IndexPut, _convert_index, _strip_leading_ones


# --- outside the graph: change the array, move the version ---------------------------
def _read_only(t: Tensor, op: str):
    return ValueError(
        f"{op}: this tensor is a read-only view (made by expand or broadcast_to), where "
        "several elements share one memory location; clone() it before changing it in place"
    )


def _ufunc_(t: Tensor, op: str, ufunc: str, other) -> Tensor:
    data = t.data
    if not data.flags.writeable:
        raise _read_only(t, op)
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
        raise _broadcast_error(op, other, t) from None
    t._vc[0] += 1
    return t


def _broadcast_error(op, other, t):
    return ValueError(f"{op}: operand of shape {tuple(np.shape(other))} does not broadcast "
                      f"to tensor of shape {tuple(t.shape)}")


def _assign(t: Tensor, op: str, value) -> Tensor:
    """Write ``value`` (an array or number) into ``t``'s array."""
    data = t.data
    if data.ndim == 0 and not data.flags.writeable:  # a NumPy scalar turned into an array
        t.data = get_array_module(data).array(value, dtype=data.dtype)
    elif not data.flags.writeable:
        raise _read_only(t, op)
    elif value is not data:
        try:
            data[...] = value
        except ValueError:
            raise _broadcast_error(op, value, t) from None
    t._vc[0] += 1
    return t


# --- in the graph ----------------------------------------------------------------------
def _tracked(t: Tensor, operands) -> bool:
    """Whether changing ``t`` may have to be recorded (decided exactly in ``_record``)."""
    if t._rg or t._base is not None:
        return True
    return any(isinstance(o, Tensor) and o._rg for o in operands)


def update_(t: Tensor, op: str, compute, operands=()) -> Tensor:
    """Change ``t`` in place to ``compute(old)``, where ``compute`` is out-of-place and
    ``old`` stands for ``t`` before the change; recorded for autograd when needed.

    >>> import axonic
    >>> y = axonic.tensor([1.0, 4.0], requires_grad=True) * 1
    >>> update_(y, "sqrt_", lambda old: old.sqrt())
    tensor([1., 2.], grad_fn=<SqrtBackward>)
    """
    if STATE.enabled and _tracked(t, operands):
        done = _record(t, op, compute, operands)
        if done is not None:
            return done
    r = compute(t)
    return _assign(t, op, r.data if isinstance(r, Tensor) else r)


def _record(t: Tensor, op: str, compute, operands):
    """The recorded change, or None when nothing involved requires grad."""
    if not t.data.flags.writeable and t.data.ndim:
        raise _read_only(t, op)
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
    old = _make(t.data, t._rg, t.grad_fn)  # the history so far, with its own versions
    r = _recorded_result(compute, old)
    _keep_old_values(r, old)
    _check_result(t, op, r)
    _assign(t, op, r.data)
    _take_history(t, r, old)
    return t


def _recorded_result(compute, old: Tensor) -> Tensor:
    """``compute(old)`` as a tensor whose ``grad_fn`` was recorded just now."""
    r = compute(old)
    if not isinstance(r, Tensor) or r.grad_fn is None or r.grad_fn._epoch != INPLACE_CLOCK[0]:
        r = _Alias.apply(r if isinstance(r, Tensor) else _make(r), old)
    return r


def _check_result(t: Tensor, op: str, r: Tensor) -> None:
    if r.shape != t.shape:
        raise RuntimeError(
            f"{op}: the result has shape {tuple(r.shape)}, which cannot be written in place "
            f"into the tensor of shape {tuple(t.shape)}")
    if not np.can_cast(r.dtype, t.dtype, "same_kind"):
        raise TypeError(
            f"{op}: the result has dtype {r.dtype.name}, which can't be stored in place in "
            f"a tensor of dtype {t.dtype.name}")


def _keep_old_values(r: Tensor, old: Tensor) -> None:
    """Ops recorded by ``compute`` that kept ``old``'s array get a copy: it is about to be
    overwritten. Legacy ops (reading their inputs' ``.data`` in backward) get it too."""
    arr, copy = old.data, None
    epoch = INPLACE_CLOCK[0]
    stack, seen = [r.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen or fn._epoch != epoch or fn.inputs is None:
            continue
        seen.add(fn)
        legacy = fn._saved is None and getattr(type(fn), "saves_inputs", False)
        if legacy and any(a is old for a in fn.inputs):
            copy = arr.copy() if copy is None else copy
        for k, v in list(fn.__dict__.items()):
            if v is arr or k == "_saved" and v is not None and any(a is arr for a in v):
                copy = arr.copy() if copy is None else copy
                fn.__dict__[k] = copy if v is arr else tuple(copy if a is arr else a for a in v)
        stack.extend(i.grad_fn for i in fn.inputs if isinstance(i, Tensor))
    if copy is not None:
        old.data = copy


def _take_history(t: Tensor, r: Tensor, old: Tensor) -> None:
    """``t`` continues the graph from ``r``'s op; a kept output is ``t`` itself now."""
    fn = r.grad_fn
    fn._prev = old
    if r.data is not t.data and r.dtype == t.dtype:
        d = fn.__dict__
        for k, v in list(d.items()):
            if v is r.data:
                d[k] = t.data
            elif k == "_saved" and v is not None:
                d[k] = tuple(t.data if a is r.data else a for a in v)
    if getattr(fn, "out_version", None) is not None:
        fn.out_version = (t._vc, t._vc[0])  # overwriting t again is caught at backward
    t.grad_fn, t._rg = fn, True


class _Alias(Function):
    """The result of an in-place op given its own node (the op returned an older tensor)."""

    saves_inputs = False

    def forward(self, x, old):
        return x

    def backward(self, g):
        return g, None


class _Fill(Function):
    """``fill_``/``zero_``/``copy_`` in the graph: the old values get a zero gradient,
    ``src`` the sum over where it was broadcast (PyTorch's FillBackward / CopyBackwards)."""

    saves_inputs = False

    def forward(self, old, src):
        xp = get_array_module(old)
        return xp.array(xp.broadcast_to(xp.asarray(src, dtype=old.dtype), old.shape))

    def backward(self, g):
        nx, ns = self.needs_input_grad
        _, src = self.inputs
        return (self.xp.zeros_like(g) if nx else None,
                sum_to(g, src.shape) if ns else None)


# --- the methods -----------------------------------------------------------------------
def _check_broadcast(op: str, other, t: Tensor) -> None:
    shape = np.shape(other.data if isinstance(other, Tensor) else other)
    try:
        fits = np.broadcast_shapes(shape, t.shape) == t.shape
    except ValueError:
        fits = False
    if not fits:
        raise _broadcast_error(op, np.empty(shape), t)


def _same_values(old: Tensor, t: Tensor) -> Tensor:
    """``t`` as an operand of its own in-place op (``y.mul_(y)``): its old history, and its
    versions, so an op that keeps it fails at backward as in PyTorch."""
    alias = _make(old.data[...], old._rg, old.grad_fn)  # its own array object: kept apart
    alias._vc = t._vc
    return alias


def _binary(op: str, method: str, ufunc: str):
    def inplace(self, other, alpha=1):
        if STATE.enabled and _tracked(self, (other,)):
            _check_broadcast(op, other, self)
            o = other if alpha == 1 else other * alpha
            done = _record(self, op, lambda old: getattr(old, method)(
                _same_values(old, self) if o is self else o), (o,))
            if done is not None:
                return done
        if isinstance(other, Tensor):
            other = other.data
        if alpha != 1:
            other = other * alpha
        return _ufunc_(self, op, ufunc, other)

    inplace.__name__ = op
    inplace.__doc__ = f"``self.{method}(other)`` written into ``self``."
    return inplace


add_ = _binary("add_", "add", "add")
sub_ = _binary("sub_", "sub", "subtract")
mul_ = _binary("mul_", "mul", "multiply")
div_ = _binary("div_", "div", "true_divide")


def clamp_(self, min=None, max=None):
    """``self.clamp(min, max)`` written into ``self``."""
    operands = (min, max)
    if STATE.enabled and _tracked(self, operands):
        done = _record(self, "clamp_", lambda old: old.clamp(min, max), operands)
        if done is not None:
            return done
    lo = min.data if isinstance(min, Tensor) else min
    hi = max.data if isinstance(max, Tensor) else max
    get_array_module(self.data).clip(self.data, lo, hi, out=self.data)
    self._vc[0] += 1
    return self


def _unary(op: str, method: str):
    def inplace(self):
        return update_(self, op, lambda old: getattr(old, method)())

    inplace.__name__ = op
    inplace.__doc__ = f"``self.{method}()`` written into ``self``."
    return inplace


relu_ = _unary("relu_", "relu")
sigmoid_ = _unary("sigmoid_", "sigmoid")
tanh_ = _unary("tanh_", "tanh")
exp_ = _unary("exp_", "exp")
neg_ = _unary("neg_", "neg")


def masked_fill_(self, mask, value):
    """``self.masked_fill(mask, value)`` written into ``self``."""
    return update_(self, "masked_fill_", lambda old: old.masked_fill(mask, value))


def _fill(self, op: str, src):
    if STATE.enabled and _tracked(self, (src,)):
        done = _record(self, op, lambda old: _Fill.apply(old, src), (src,))
        if done is not None:
            return done
    return _assign(self, op, src.data if isinstance(src, Tensor) else src)


def fill_(self, value):
    """Every element set to ``value`` (a number or a 0-d tensor)."""
    return _fill(self, "fill_", value)


def zero_(self):
    """Every element set to 0."""
    return _fill(self, "zero_", 0)


def copy_(self, src, non_blocking: bool = False):
    """The values of ``src`` (broadcast to this shape, cast to this dtype) copied in."""
    if not isinstance(src, Tensor | int | float | bool):
        src = _make(np.asarray(src))
    if isinstance(src, Tensor) and src.device != self.device:
        src = _make(to_device(src.data, self.device), src._rg, src.grad_fn)
    try:
        return _fill(self, "copy_", src)
    except ValueError:
        raise ValueError(
            f"copy_: source of shape {tuple(np.shape(getattr(src, 'data', src)))} does not "
            f"broadcast to destination of shape {tuple(self.shape)}"
        ) from None


def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None):
    """Values drawn uniformly from ``[a, b)``."""
    from axonic.backend.random import default_generator

    g = generator or default_generator
    return _fill(self, "uniform_", g.uniform(a, b, self.shape, self.dtype, self.device))


def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None):
    """Values drawn from ``N(mean, std**2)``."""
    from axonic.backend.random import default_generator

    g = generator or default_generator
    return _fill(self, "normal_", g.normal(mean, std, self.shape, self.dtype, self.device))


def setitem(self, index, value):
    """``x[index] = value`` in place; recorded by autograd when ``value`` or ``x`` requires
    grad: ``x`` then continues the graph from the write, as in PyTorch.

    >>> import axonic
    >>> a = axonic.tensor([1.0, 2.0], requires_grad=True)
    >>> out = axonic.zeros(3)
    >>> out[1:] = a * 3
    >>> out.sum().backward()
    >>> a.grad
    tensor([3., 3.])
    """
    idx, _ = _convert_index(index)
    try:
        if STATE.enabled and _tracked(self, (value,)):
            done = _record(self, "__setitem__",
                           lambda old: IndexPut.apply(old, value, index=idx), (value,))
            if done is not None:
                return
        if not self.data.flags.writeable:
            raise _read_only(self, "__setitem__")
        self.data[idx] = _strip_leading_ones(value.data if isinstance(value, Tensor) else value)
        self._vc[0] += 1
    except (IndexError, ValueError) as e:
        raise type(e)(
            f"setitem into tensor of shape {tuple(self.shape)} at {index!r}: {e}") from None


# --- activations' ``inplace=True`` -------------------------------------------------------
def honours_inplace(fn):
    """Make ``fn(input, ..., inplace=False)`` write its result into ``input`` when
    ``inplace`` is true (recorded as an in-place op), as PyTorch's functional forms do.

    >>> import axonic
    >>> @honours_inplace
    ... def double(input, inplace=False):
    ...     return input * 2
    >>> x = axonic.tensor([1.0])
    >>> double(x, inplace=True) is x, x.tolist()
    (True, [2.0])
    """
    params = list(inspect.signature(fn).parameters)
    position = params.index("inplace")

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        if len(args) >= position:
            inplace, args = args[position - 1], args[:position - 1] + args[position:]
        else:
            inplace = kwargs.pop("inplace", False)
        if not inplace:
            return fn(input, *args, **kwargs)
        return update_(input, f"{fn.__name__}(inplace=True)",
                       lambda old: fn(old, *args, **kwargs))

    return wrapper


def _install() -> None:
    T = Tensor
    for f in (add_, sub_, mul_, div_, clamp_, relu_, sigmoid_, tanh_, exp_, neg_,
              masked_fill_, fill_, zero_, copy_, uniform_, normal_):
        setattr(T, f.__name__, f)
    T.clamp_min_ = lambda self, min: clamp_(self, min, None)
    T.clamp_max_ = lambda self, max: clamp_(self, None, max)
    T.__iadd__ = lambda self, other: add_(self, other)
    T.__isub__ = lambda self, other: sub_(self, other)
    T.__imul__ = lambda self, other: mul_(self, other)
    T.__itruediv__ = lambda self, other: div_(self, other)
    T.__setitem__ = setitem


_install()
