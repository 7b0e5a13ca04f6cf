"""Comparisons and logical ops: bool results, no gradient."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.ops._registry import method, op
from axonic.ops._util import broadcast_error


def _cmp(ufunc, name):
    def op(input, other):
        a = input.data if isinstance(input, Tensor) else input
        b = other.data if isinstance(other, Tensor) else other
        try:
            return _make(np.asarray(ufunc(a, b)))
        except ValueError:
            raise broadcast_error(name, np.shape(a), np.shape(b)) from None

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` with broadcasting; a bool tensor, no gradient."
    return op


# == is elementwise, so tensors hash by identity (as PyTorch's)
method("__hash__", object.__hash__)
eq = op("eq", methods=("eq", "__eq__"))(_cmp(np.equal, "eq"))
ne = op("ne", methods=("ne", "__ne__"))(_cmp(np.not_equal, "ne"))
lt = op("lt", methods=("lt", "__lt__"))(_cmp(np.less, "lt"))
le = op("le", methods=("le", "__le__"))(_cmp(np.less_equal, "le"))
gt = op("gt", methods=("gt", "__gt__"))(_cmp(np.greater, "gt"))
ge = op("ge", methods=("ge", "__ge__"))(_cmp(np.greater_equal, "ge"))
logical_and = op("logical_and", methods=("logical_and",))(_cmp(np.logical_and, "logical_and"))
logical_or = op("logical_or", methods=("logical_or",))(_cmp(np.logical_or, "logical_or"))
logical_xor = op("logical_xor", methods=("logical_xor",))(_cmp(np.logical_xor, "logical_xor"))
bitwise_and = op(export=False, methods=("__and__",))(_cmp(np.bitwise_and, "bitwise_and"))
bitwise_or = op(export=False, methods=("__or__",))(_cmp(np.bitwise_or, "bitwise_or"))
bitwise_xor = op(export=False, methods=("__xor__",))(_cmp(np.bitwise_xor, "bitwise_xor"))


@op(methods=("logical_not",))
def logical_not(input):
    return _make(np.asarray(np.logical_not(input.data)))


@op(export=False, methods=("__invert__",))
def bitwise_not(input):
    return _make(np.asarray(np.invert(input.data)))


@op(methods=("equal",))
def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool((input.data == other.data).all())


@op(methods=("allclose",))
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input.data, other.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@op(methods=("isclose",))
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    b = other.data if isinstance(other, Tensor) else other
    return _make(np.asarray(np.isclose(input.data, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


SPECS = []  # no gradient; covered by tests/ops/test_compare.py
