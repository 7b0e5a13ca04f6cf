"""The ops without a gradient in a plan: comparisons, logical ops, ``floor``, ``sign``,
``isnan`` ..., and ``to()`` into an integer or bool dtype.

They are not ``Function``s (nothing to differentiate): each computes one NumPy ufunc (or
``astype``) on the arrays and wraps the result. While a call is recorded, their
``Tensor`` methods and operators (``x > 0``, ``tokens == pad``, ``~mask``), ``to()`` and
their ``axonic.<name>`` functions are wrapped so that each call becomes a step of the
plan running the same ufunc. Called
any other way, such a result is a value computed outside the recorded ops, which the
second recording finds (the plan is then refused, never wrong).

>>> import numpy as np
>>> Ufunc().forward(np.array([1.0, -2.0]), 0.0, ufunc="greater").tolist()
[True, False]
"""

from __future__ import annotations

import threading

import numpy as np

import axonic
from axonic.autograd.tensor import Tensor
from axonic.ops import convert as _convert

# Tensor attribute or axonic function -> the ufunc it computes
BINARY = {"eq": "equal", "__eq__": "equal", "ne": "not_equal", "__ne__": "not_equal",
          "lt": "less", "__lt__": "less", "le": "less_equal", "__le__": "less_equal",
          "gt": "greater", "__gt__": "greater", "ge": "greater_equal",
          "__ge__": "greater_equal", "logical_and": "logical_and", "logical_or": "logical_or",
          "logical_xor": "logical_xor", "__and__": "bitwise_and", "__or__": "bitwise_or",
          "__xor__": "bitwise_xor"}
UNARY = {"logical_not": "logical_not", "__invert__": "invert", "sign": "sign",
         "floor": "floor", "ceil": "ceil", "round": "round", "trunc": "trunc",
         "isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite"}
# where those functions live; anything else under these names is left alone
_HOMES = ("axonic.ops.comparison", "axonic.ops.elementwise")


class AsType:
    """``array.astype(dtype)``, as ``to()`` converts outside the floating dtypes."""

    def forward(self, array, dtype):
        return array.astype(dtype)


class Ufunc:
    """``asarray(ufunc(*arrays))``, as the ops without a gradient compute it."""

    def forward(self, *arrays, ufunc):
        return np.asarray(getattr(np, ufunc)(*arrays))


def patches(note) -> list:
    """``(owner, name, wrapper)`` for each of those ops on ``Tensor`` and ``axonic``;
    ``note(cls, args, options, out)`` records a call (in the recording thread only)."""
    thread = threading.get_ident()
    out = []
    for owner in (Tensor, axonic):
        space = vars(owner)
        for name, ufunc in list(BINARY.items()) + list(UNARY.items()):
            fn = space.get(name)
            if fn is not None and getattr(fn, "__module__", None) in _HOMES:
                out.append((owner, name, _wrapped(fn, ufunc, note, thread)))
    to = _convert.to
    for owner in (Tensor, _convert):  # the method, and the function .long(), .bool() call
        if vars(owner).get("to") is to:
            out.append((owner, "to", _wrapped_to(to, note, thread)))
    return out


def _wrapped_to(to, note, thread):
    def recorded(input, *args, **kwargs):
        result = to(input, *args, **kwargs)
        if (threading.get_ident() == thread and result is not input
                and result._data.__class__ is input._data.__class__):
            note(AsType, [input], {"dtype": result._data.dtype}, result)  # if not recorded
        return result

    recorded.__name__ = "to"
    return recorded


def _wrapped(fn, ufunc, note, thread):
    def recorded(*args):
        result = fn(*args)
        if threading.get_ident() == thread and isinstance(result, Tensor):
            note(Ufunc, args, {"ufunc": ufunc}, result)
        return result

    recorded.__name__ = fn.__name__
    return recorded
