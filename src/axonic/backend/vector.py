"""Fused elementwise passes on oneMKL's vector math (VM) and level-1 BLAS, where installed.

An optimizer's update is a chain of elementwise steps over every parameter. NumPy runs
each step as its own pass (``m += (g - m) * w`` is three: subtract, multiply, add), so
Adam's update is thirteen passes; PyTorch's fused ``lerp_``, ``addcmul_`` and
``addcdiv_`` make it seven. oneMKL (loaded by :mod:`axonic.backend.blas`, the same
library and rules) has single passes for the shapes these chains take:

- ``axpby(n, a, x, b, y)``: ``y = a*x + b*y`` (``cblas_?axpby``), a running average;
- ``axpy(n, a, x, y)``: ``y += a*x`` (``cblas_?axpy``);
- ``sqr(n, x, r)``, ``sqrt(n, x, r)``: ``r = x*x``, ``r = sqrt(x)`` (``v?Sqr``, ``v?Sqrt``);
- ``linear_frac(n, a, b, sa, ha, sb, hb, r)``: ``r = (sa*a + ha) / (sb*b + hb)``
  (``v?LinearFrac``), Adam's step ``m / (sqrt(v) / c + eps)`` with its scale in one pass;
- ``fmax(n, a, b, r)``: ``r = max(a, b)`` (``v?Fmax``).

Arguments are element counts and raw addresses (``array.ctypes.data`` plus a byte
offset): ``run_blocks(arrays, body)`` reads each array's address once and calls
``body(n, *addresses)`` over cache-sized blocks; ``functions_for(*arrays)`` is the check
an update makes first (None: take the NumPy path).
The VM functions are called with an explicit mode, high accuracy (``VML_HA``) and errors
neither raised nor recorded, so the library's global mode is never touched. All of them
are elementwise: an element's result does not depend on how the array is cut, so blocks
and threads give the same numbers as one call.

>>> import numpy as np
>>> vec = functions(np.dtype(np.float32))
>>> x, y = np.ones(4, np.float32), np.full(4, 2.0, np.float32)
>>> if vec is not None:
...     vec.axpby(4, 3.0, x.ctypes.data, 0.5, y.ctypes.data)
... else:
...     y[:] = 3.0 * x + 0.5 * y
>>> y.tolist()
[4.0, 4.0, 4.0, 4.0]
"""

from __future__ import annotations

import ctypes

import numpy as np

from axonic.backend import blas, threads

_HA_NO_ERRORS = 0x2 | 0x2000  # VML_HA | VML_ERRMODE_NOERR
_made: dict = {}


class _Functions:
    """The float32 (``s``) or float64 (``d``) entry points, typed for ``ctypes``."""

    def __init__(self, lib, letter: str, real):
        i, vp, mode = ctypes.c_int, ctypes.c_void_p, ctypes.c_longlong

        def typed(name, args):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = None, args
            return fn

        self._axpby = typed(f"cblas_{letter}axpby", [i, real, vp, i, real, vp, i])
        self._axpy = typed(f"cblas_{letter}axpy", [i, real, vp, i, vp, i])
        self._sqr = typed(f"vm{letter}Sqr", [i, vp, vp, mode])
        self._sqrt = typed(f"vm{letter}Sqrt", [i, vp, vp, mode])
        self._fmax = typed(f"vm{letter}Fmax", [i, vp, vp, vp, mode])
        self._frac = typed(f"vm{letter}LinearFrac", [i, vp, vp, real, real, real, real, vp,
                                                     mode])

    def axpby(self, n, a, x, b, y):
        self._axpby(n, a, x, 1, b, y, 1)

    def axpy(self, n, a, x, y):
        self._axpy(n, a, x, 1, y, 1)

    def sqr(self, n, x, r):
        self._sqr(n, x, r, _HA_NO_ERRORS)

    def sqrt(self, n, x, r):
        self._sqrt(n, x, r, _HA_NO_ERRORS)

    def fmax(self, n, a, b, r):
        self._fmax(n, a, b, r, _HA_NO_ERRORS)

    def linear_frac(self, n, a, b, scale_a, shift_a, scale_b, shift_b, r):
        self._frac(n, a, b, scale_a, shift_a, scale_b, shift_b, r, _HA_NO_ERRORS)


def functions(dtype):
    """The fused passes for arrays of ``dtype`` (float32 or float64), or None: oneMKL not
    installed, ``AXONIC_BLAS=numpy``, or another dtype. Unlike the matrix products these
    run at any thread count (each thread's blocks call the sequential library)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        return None
    if "lib" not in blas._state:
        blas._load()
    lib = blas._state["lib"]
    if lib is None:
        return None
    key = (id(lib), dtype)
    made = _made.get(key)
    if made is None:
        real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        made = _made[key] = _Functions(lib, "s" if dtype == np.float32 else "d", real)
    return made


def takes(*arrays) -> bool:
    """Whether the fused passes can walk these arrays: NumPy arrays of one float dtype and
    one size, each C-contiguous, no two overlapping unless they are the same array (an
    in-place pass reads and writes the same element only)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in (np.float32, np.float64):
        return False
    for k, a in enumerate(arrays):
        if (type(a) is not np.ndarray or a.dtype != first.dtype or a.size != first.size
                or not a.flags.c_contiguous):
            return False
        for b in arrays[:k]:
            if b is not a and np.may_share_memory(a, b):
                return False
    return True


def functions_for(*arrays):
    """``functions(dtype)`` when ``takes(*arrays)``, else None: the one check an update
    makes before choosing its fused path."""
    return functions(arrays[0].dtype) if takes(*arrays) else None


def run_blocks(arrays, body) -> None:
    """``body(n, *addresses)`` over cache-sized blocks of ``arrays`` (the addresses of
    each array's block, ``n`` elements), the threads' shares of them at once
    (``threads.parallel_blocks``). Each array's address is read once."""
    item = arrays[0].itemsize
    base = [a.ctypes.data for a in arrays]

    def blocks(i, j):
        off = i * item
        body(j - i, *(b + off for b in base))

    threads.parallel_blocks(blocks, arrays[0].size, threads.CACHE_BLOCK)

