"""In-place ops: ``add_ sub_ mul_ div_ clamp_ relu_ sigmoid_ tanh_ masked_fill_ fill_ zero_
copy_``, ``x += y`` and ``x[index] = v``, with PyTorch's semantics, and ``inplace=True`` of
the activations (``honours_inplace``).

Outside the graph the array changes and the version counter moves; in the graph the change
is recorded and the tensor continues the graph from it (``inplace_graph``); through a view
the base's history changes too (``inplace_views``).

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

from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, to_device
from axonic.ops.indexing import IndexPut, _convert_index, _strip_leading_ones
from axonic.ops.inplace_graph import (
    Fill,
    assign,
    broadcast_error,
    frozen,
    read_only_error,
    record,
    tracked,
    ufunc_inplace,
    update_,
)


# --- the methods -----------------------------------------------------------------------
def _check_broadcast(op: str, other, t: Tensor) -> None:
    if isinstance(other, int | float | bool):
        return
    shape = np.shape(other._data if isinstance(other, Tensor) else other)
    if shape == t.shape:
        return
    try:
        fits = np.broadcast_shapes(shape, t.shape) == t.shape
    except ValueError:
        fits = False
    if not fits:
        raise broadcast_error(op, np.empty(shape), t)


def _binary(op: str, method: str, ufunc: str):
    def inplace(self, other, alpha=1):
        if STATE.enabled and (self._rg or self._base is not None
                              or isinstance(other, Tensor) and other._rg):
            _check_broadcast(op, other, self)
            o = other if alpha == 1 else other * alpha
            done = record(self, op, lambda old: getattr(old, method)(frozen(o, self)), (o,))
            if done is not None:
                return done
        if isinstance(other, Tensor):
            other = other._data
        if alpha != 1:
            other = other * alpha
        return ufunc_inplace(self, op, ufunc, other)

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
    if STATE.enabled and tracked(self, operands):
        done = record(self, "clamp_", lambda old: old.clamp(frozen(min, self),
                                                             frozen(max, self)), operands)
        if done is not None:
            return done
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    get_array_module(self._data).clip(self._data, lo, hi, out=self._data)
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
    if STATE.enabled and (self._rg or self._base is not None
                          or isinstance(src, Tensor) and src._rg):
        done = record(self, op, lambda old: Fill.apply(old, frozen(src, self)), (src,))
        if done is not None:
            return done
    return assign(self, op, src._data if isinstance(src, Tensor) else src)


def fill_(self, value):
    """Every element set to ``value`` (a number or a 0-d tensor)."""
    return _fill(self, "fill_", value)


def zero_(self):
    """Every element set to 0."""
    return _fill(self, "zero_", 0)


def copy_(self, src, non_blocking: bool = False):
    """The values of ``src`` (broadcast to this shape, cast to this dtype) copied in."""
    try:
        if STATE.enabled and tracked(self, (src,)):
            if isinstance(src, Tensor) and src._data.__class__ is not self._data.__class__:
                src = _make(to_device(src._data, self.device), src._rg, src.grad_fn)
            done = record(self, "copy_", lambda old: Fill.apply(old, frozen(src, self)),
                           (src,))
            if done is not None:
                return done
        data = src._data if isinstance(src, Tensor) else src
        if data.__class__ is not self._data.__class__ and not isinstance(data, int | float | bool):
            data = to_device(data, self.device)  # another device, or a list or NumPy scalar
        return assign(self, "copy_", data)
    except ValueError:
        raise ValueError(
            f"copy_: source of shape {tuple(np.shape(getattr(src, '_data', src)))} does not "
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
        if STATE.enabled and tracked(self, (value,)):
            done = record(self, "__setitem__",
                           lambda old: IndexPut.apply(old, frozen(value, self), index=idx),
                           (value,))
            if done is not None:
                return
        if not self._data.flags.writeable:
            raise read_only_error(self, "__setitem__")
        self._data[idx] = _strip_leading_ones(value._data if isinstance(value, Tensor) else value)
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
    T.__iadd__, T.__isub__, T.__imul__, T.__itruediv__ = add_, sub_, mul_, div_
    T.__setitem__ = setitem


_install()
