"""Comparisons and logical ops: bool results, no gradient."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.ops._registry import method, op
from axonic.ops._util import broadcast_error, xp_of


def _cmp(ufunc, name):
    def compare(input, other):
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        xp = xp_of(a, b)
        try:
            return _make(xp.asarray(getattr(xp, ufunc)(a, b)))
        except ValueError:
            raise broadcast_error(name, np.shape(a), np.shape(b)) from None

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` with broadcasting; a bool tensor, no gradient."
    return compare


# == is elementwise, so tensors hash by identity (as PyTorch's)
method("__hash__", object.__hash__)
eq = op("eq", methods=("eq", "__eq__"))(_cmp("equal", "eq"))
ne = op("ne", methods=("ne", "__ne__"))(_cmp("not_equal", "ne"))
lt = op("lt", methods=("lt", "__lt__"))(_cmp("less", "lt"))
le = op("le", methods=("le", "__le__"))(_cmp("less_equal", "le"))
gt = op("gt", methods=("gt", "__gt__"))(_cmp("greater", "gt"))
ge = op("ge", methods=("ge", "__ge__"))(_cmp("greater_equal", "ge"))
logical_and = op("logical_and", methods=("logical_and",))(_cmp("logical_and", "logical_and"))
logical_or = op("logical_or", methods=("logical_or",))(_cmp("logical_or", "logical_or"))
logical_xor = op("logical_xor", methods=("logical_xor",))(_cmp("logical_xor", "logical_xor"))
bitwise_and = op(export=False, methods=("__and__",))(_cmp("bitwise_and", "bitwise_and"))
bitwise_or = op(export=False, methods=("__or__",))(_cmp("bitwise_or", "bitwise_or"))
bitwise_xor = op(export=False, methods=("__xor__",))(_cmp("bitwise_xor", "bitwise_xor"))


@op(methods=("logical_not",))
def logical_not(input):
    xp = get_array_module(input._data)
    return _make(xp.asarray(xp.logical_not(input._data)))


@op(export=False, methods=("__invert__",))
def bitwise_not(input):
    xp = get_array_module(input._data)
    return _make(xp.asarray(xp.invert(input._data)))


@op(methods=("equal",))
def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool((input._data == other._data).all())


@op(methods=("allclose",))
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    xp = get_array_module(input._data)
    return bool(xp.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@op(methods=("isclose",))
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    b = other._data if isinstance(other, Tensor) else other
    xp = get_array_module(input._data)
    return _make(xp.asarray(xp.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


SPECS = []  # no gradient; covered by tests/ops/test_compare.py
