"""Fused row kernels compiled by numba, where it is installed.

Some layers are a chain of a dozen elementwise passes and row reductions in NumPy where
PyTorch runs one loop: a LayerNorm's forward is six passes over the activations and two
row reductions, its backward seven more. ``kernels()`` gives such loops compiled with
numba (``pip install 'axonic[jit]'``; the ``explain`` extra's shap also brings it), each
reading a row once while it is in cache: on a Transformer's (2048, 128) activations,
forward and backward took 0.77 ms against NumPy's 2.64 (one thread, float32). Compiled
here: LayerNorm (forward, backward), the LSTM's per-step gate arithmetic (forward after
``tanh``, backward whole), softmax along the last axis (row max, row sums, backward),
ReLU's backward.

- Only pure arithmetic is compiled: numba calls the C library's scalar ``tanh`` and
  ``exp``, which measured 20x slower than NumPy's vectorised ones (an LSTM's gates), so
  the transcendental steps stay with NumPy.
- The kernels run on C-contiguous float32/float64 NumPy arrays; anything else (CuPy, other
  dtypes, a ``create_graph`` backward) takes the NumPy path. Row sums accumulate in
  float64 and may be reassociated (vectorised), so results are within rounding of the
  NumPy path, not equal to it.
- ``AXONIC_JIT=off`` keeps NumPy everywhere; ``on`` makes a missing numba an error at
  the first use; ``auto`` (the default) uses numba when it imports.
- numba is imported at the first kernel call, never by ``import axonic`` (it takes
  ~0.3 s); each kernel compiles at its first call for a dtype (~0.5 s) and is cached on
  disk where numba can write.

>>> kernels() is None or hasattr(kernels(), "layer_norm_forward")
True
"""

from __future__ import annotations

import os

_state: dict = {}


def _mode() -> str:
    mode = os.environ.get("AXONIC_JIT", "auto").strip().lower() or "auto"
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"AXONIC_JIT: expected 'auto', 'on' or 'off', got {mode!r}")
    return mode


def kernels():
    """The compiled kernels (``axonic.backend._jit_kernels``), or None: numba missing,
    or ``AXONIC_JIT=off``."""
    if "kernels" in _state:
        return _state["kernels"]
    mode = _mode()
    found, why = None, "AXONIC_JIT=off"
    if mode != "off":
        try:
            from axonic.backend import _jit_kernels as found
            why = None
        except ImportError as err:
            if mode == "on":
                raise RuntimeError(f"AXONIC_JIT=on: numba would not import ({err}); "
                                   "pip install 'axonic[jit]'") from err
            found, why = None, f"numba not installed ({err})"
    _state.update(kernels=found, why=why)
    return found


def load() -> bool:
    """Import numba and load (or compile) every kernel for float32 and float64 now,
    rather than at the first call of each; returns whether the kernels are on. numba and
    its compiled code take ~165 MiB of resident memory once per process (numba itself
    ~117, the kernels ~45): ``bench/memory.py`` calls this before its baseline, as
    PyTorch's code is loaded by its import, so that the growth it compares is the
    training's own memory."""
    k = kernels()
    if k is None:
        return False
    import numpy as np

    for dtype in (np.float32, np.float64):
        one, row = np.ones(4, dtype), np.ones((1, 4), dtype)
        k.layer_norm_backward(row, *k.layer_norm_forward(row, one, one, 1e-5)[1:], one)
        k.softmax_rows_backward(row, k.softmax_rows(row))
        k.relu_backward(one, one)
        blocks = np.ones((5, 1), dtype)
        k.lstm_forward_gates(blocks, np.ones((1, 1), dtype))
        k.lstm_backward_step(*(np.ones((1, 1), dtype) for _ in range(2)), blocks,
                             np.ones((1, 1), dtype), np.ones((1, 1), dtype),
                             np.ones((4, 1), dtype))
    return True


def describe() -> str:
    """One line for benchmark reports: whether the fused kernels are on, and why not."""
    k = kernels()
    if k is None:
        return f"NumPy ({_state['why']})"
    import numba

    return f"numba {numba.__version__}"


def reset() -> None:
    """Forget the choice (after changing ``AXONIC_JIT``)."""
    _state.clear()
