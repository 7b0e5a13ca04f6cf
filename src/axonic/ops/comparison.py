"""Comparisons and logical ops: bool results, no gradient."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
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


eq = _cmp(np.equal, "eq")
ne = _cmp(np.not_equal, "ne")
lt = _cmp(np.less, "lt")
le = _cmp(np.less_equal, "le")
gt = _cmp(np.greater, "gt")
ge = _cmp(np.greater_equal, "ge")
logical_and = _cmp(np.logical_and, "logical_and")
logical_or = _cmp(np.logical_or, "logical_or")
logical_xor = _cmp(np.logical_xor, "logical_xor")
bitwise_and = _cmp(np.bitwise_and, "bitwise_and")
bitwise_or = _cmp(np.bitwise_or, "bitwise_or")
bitwise_xor = _cmp(np.bitwise_xor, "bitwise_xor")


def logical_not(input):
    return _make(np.asarray(np.logical_not(input.data)))


def bitwise_not(input):
    return _make(np.asarray(np.invert(input.data)))


def equal(input, other) -> bool:
    """True if both tensors have the same shape and elements."""
    return input.shape == other.shape and bool((input.data == other.data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input.data, other.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    b = other.data if isinstance(other, Tensor) else other
    return _make(np.asarray(np.isclose(input.data, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


SPECS = []  # no gradient; covered by tests/ops/test_compare.py
