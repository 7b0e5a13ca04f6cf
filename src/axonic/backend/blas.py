"""Matrix products on Intel's oneMKL where it is installed, else NumPy's BLAS.

NumPy's wheels link OpenBLAS. On the products of a training step oneMKL (what PyTorch's
CPU build uses) is faster on the same core: measured on an Intel Xeon, one thread, the
char-LSTM's per-step ``(1024, 321) @ (321, 32)`` 235 us with OpenBLAS against 132 us, the
MLP's ``(128, 512) @ (512, 256)`` 368 against 270 (``bench/blas.py``). ``matmul`` sends a
2-d float32/float64 product to oneMKL's ``cblas_?gemm`` through ``ctypes`` when

- the ``mkl`` package is installed (``pip install 'axonic[mkl]'``) and ``AXONIC_BLAS`` is
  unset, ``auto`` or ``mkl`` (``AXONIC_BLAS=numpy`` keeps NumPy's BLAS; ``mkl`` without the
  package is an error at the first product);
- axonic runs one thread (``axonic.get_num_threads() == 1``): oneMKL is loaded with its
  sequential layer, and with more threads NumPy's threaded BLAS is used. A rule, not a
  timing, so a run rounds the same way every time. oneMKL's threaded layers were measured
  on a 2-core machine and are not used: Intel's OpenMP runtime, in a process that had also
  loaded PyTorch's libgomp, gave the same product different results from call to call
  (three Adam steps differed by up to 0.045); GNU's (libgomp, shared with PyTorch) was
  correct and made the MLP step 13 % faster at 2 threads, but the CNN step twice as slow:
  its worker sleeps during the elementwise work between products and waking it cost up
  to milliseconds (the weight-gradient product: median 200 us, mean 1.3 ms);
- the product is large enough for the call's overhead to pay (``MIN_WORK`` multiply-adds,
  both sides at least ``MIN_SIDE``), both operands have one unit stride (C or Fortran
  order, transposed views, row slices), ``out`` (if given) is C-ordered and shares no
  memory with them.

Anything else is ``numpy.matmul``. Both libraries give float32 results within rounding
of each other, not bit for bit; one process uses one of them throughout.

>>> import numpy as np
>>> a, b = np.ones((64, 64), np.float32), np.ones((64, 64), np.float32)
>>> float(matmul(a, b.T)[0, 0])
64.0
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

from axonic.backend.device import get_array_module

# Smaller products stay with NumPy: through ctypes a call costs ~12 us more than NumPy's
# (three ``.ctypes.data`` reads ~2 us each, the call ~2 us, oneMKL's own start), so oneMKL
# lost below ~4M multiply-adds ((196, 288) @ (288, 64): 81 us against 62) and won above
# ((32, 512) @ (512, 256): 110 against 175; (128, 784) @ (784, 512): 987 against 1292).
# Matrix-vector shapes (m or n under 3) are NumPy's: OpenBLAS's GEMV is faster there.
MIN_WORK = 1 << 22
MIN_SIDE = 3
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

_state: dict = {}  # "lib": the loaded library or None, "why": why not, filled on first use


def _library_paths() -> list[str]:
    """Where the ``mkl`` wheel puts ``libmkl_rt`` (the environment's lib folder)."""
    import glob  # here, not at import: axonic's import time is a benchmark
    roots = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable))}
    found = []
    for root in sorted(roots):
        found += sorted(glob.glob(os.path.join(root, "lib", "libmkl_rt.so*")), reverse=True)
        found += sorted(glob.glob(os.path.join(root, "lib", "mkl_rt*.dll")))
    return found


def _mode() -> str:
    mode = os.environ.get("AXONIC_BLAS", "auto").strip().lower() or "auto"
    if mode not in ("auto", "mkl", "numpy"):
        raise ValueError(f"AXONIC_BLAS: expected 'auto', 'mkl' or 'numpy', got {mode!r}")
    return mode


def _load():
    """The oneMKL library with its sequential layer and typed gemm entry points, or None."""
    mode = _mode()
    if mode == "numpy":
        _state.update(lib=None, why="AXONIC_BLAS=numpy")
        return None
    lib, errors = None, []
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as err:
            errors.append(f"{path}: {err}")
    if lib is None:
        why = ("the mkl package is not installed (pip install 'axonic[mkl]')" if not errors
               else "libmkl_rt would not load: " + "; ".join(errors))
        if mode == "mkl":
            raise RuntimeError(f"AXONIC_BLAS=mkl: {why}")
        _state.update(lib=None, why=why)
        return None
    lib.MKL_Set_Threading_Layer(_SEQUENTIAL)
    i, vp = ctypes.c_int, ctypes.c_void_p
    for name, real in (("cblas_sgemm", ctypes.c_float), ("cblas_dgemm", ctypes.c_double)):
        fn = getattr(lib, name)
        fn.restype = None
        fn.argtypes = [i, i, i, i, i, i, real, vp, i, vp, i, real, vp, i]
    _state.update(lib=lib, why=None, path=lib._name,
                  gemm={np.dtype(np.float32): lib.cblas_sgemm,
                        np.dtype(np.float64): lib.cblas_dgemm})
    return lib


def backend() -> str:
    """``"mkl"`` when products go to oneMKL (at one thread), else ``"numpy"``.

    >>> backend() in ("mkl", "numpy")
    True
    """
    if "lib" not in _state:
        _load()
    return "mkl" if _state["lib"] is not None else "numpy"


def describe() -> str:
    """One line for benchmark reports: which BLAS the matrix products use, and why.

    >>> describe().startswith(("oneMKL", "NumPy"))
    True
    """
    if backend() == "mkl":
        return f"oneMKL ({os.path.basename(_state['path'])}, sequential) at 1 thread"
    return f"NumPy's BLAS ({_state['why']})"


def _pointer(x) -> int:
    """The address of ``x``'s first element (~2 us: read once per array where possible)."""
    return x.ctypes.data


def _operand(x, rows: int, cols: int):
    """(transpose flag, leading dimension) of a 2-d operand, or None if BLAS cannot read it."""
    item = x.itemsize
    s0, s1 = x.strides
    if s1 == item and s0 % item == 0 and s0 >= cols * item:
        return _NO_TRANS, s0 // item
    if s0 == item and s1 % item == 0 and s1 >= rows * item:
        return _TRANS, s1 // item
    return None


def _mkl_gemm(a, b, out):
    """``a @ b`` through oneMKL, or None when this product should stay with NumPy."""
    m, k = a.shape
    n = b.shape[1]
    if m * n * k < MIN_WORK or min(m, n) < MIN_SIDE or k == 0:
        return None
    fa, fb = _operand(a, m, k), _operand(b, k, n)
    if fa is None or fb is None:
        return None
    if out is None:
        out = np.empty((m, n), a.dtype)
    elif (out.shape != (m, n) or out.dtype != a.dtype or out.strides[1] != out.itemsize
          or out.strides[0] < n * out.itemsize or out.strides[0] % out.itemsize
          or np.may_share_memory(out, a) or np.may_share_memory(out, b)):
        return None
    _state["gemm"][a.dtype](_ROW_MAJOR, fa[0], fb[0], m, n, k, 1.0, _pointer(a), fa[1],
                            _pointer(b), fb[1], 0.0, _pointer(out),
                            out.strides[0] // out.itemsize)
    return out


def matmul(a, b, out=None):
    """``a @ b`` (into ``out`` when given), on oneMKL where the rules above allow; other
    arrays (CuPy's included) go to their own ``matmul``."""
    if type(a) is not np.ndarray:
        return a @ b if out is None else get_array_module(a).matmul(a, b, out=out)
    if (type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype == b.dtype and a.dtype in _FLOATS
            and (out is None or type(out) is np.ndarray) and _use()):
        if a.shape[1] != b.shape[0]:
            return np.matmul(a, b, out=out)  # NumPy's own error message
        done = _mkl_gemm(a, b, out)
        if done is not None:
            return done
    return np.matmul(a, b, out=out)


def takes(m: int, k: int, n: int) -> bool:
    """Whether an (m, k) @ (k, n) product of C-ordered float arrays would run on oneMKL."""
    return _use() and m * n * k >= MIN_WORK and min(m, n) >= MIN_SIDE


def fixed_left(w, cols: int):
    """``f(z, out)``: ``w @ z`` into ``out`` for one ``w (M, K)`` and many ``z (K, cols)``
    (the recurrent kernels' per-step product), on oneMKL with every pointer read once per
    array: the per-call cost drops from ~12 us to ~3. None where ``matmul``'s rules would
    not send this product to oneMKL."""
    if (type(w) is not np.ndarray or w.ndim != 2 or w.dtype not in _FLOATS or not _use()):
        return None
    m, k = w.shape
    fw = _operand(w, m, k)
    if fw is None or m * cols * k < MIN_WORK or min(m, cols) < MIN_SIDE or k == 0:
        return None
    gemm, pw, item = _state["gemm"][w.dtype], _pointer(w), w.itemsize
    seen: dict = {}

    def prepared(z, out):
        """(z, out, z's pointer, its rows' stride, out's pointer, its rows' stride), or
        None when oneMKL cannot take this pair (checked once per pair of arrays)."""
        ok = (type(z) is np.ndarray and type(out) is np.ndarray and z.shape == (k, cols)
              and out.shape == (m, cols) and z.dtype == out.dtype == w.dtype
              and (_operand(z, k, cols) or (None,))[0] == _NO_TRANS
              and out.strides[1] == item and out.strides[0] % item == 0
              and out.strides[0] >= cols * item and not np.may_share_memory(out, z)
              and not np.may_share_memory(out, w))
        return ((z, out, _pointer(z), z.strides[0] // item, _pointer(out),
                 out.strides[0] // item) if ok else None)

    def run(z, out):
        key = (id(z), id(out))
        hit = seen.get(key)
        if hit is None or hit[0] is not z or hit[1] is not out:
            hit = seen[key] = prepared(z, out) or (z, out, None)
        if len(hit) == 3:
            return np.matmul(w, z, out=out)
        gemm(_ROW_MAJOR, fw[0], _NO_TRANS, m, cols, k, 1.0, pw, fw[1], hit[2], hit[3], 0.0,
             hit[4], hit[5])
        return out

    return run


def _use() -> bool:
    if "lib" not in _state:
        _load()
    if _state["lib"] is None:
        return False
    from axonic.backend.threads import get_num_threads

    return get_num_threads() == 1


def reset() -> None:
    """Forget the choice made at the first product (after changing ``AXONIC_BLAS``)."""
    _state.clear()
