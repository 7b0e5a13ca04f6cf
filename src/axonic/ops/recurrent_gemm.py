"""The per-step GEMM of the recurrent kernels, ``out = w @ z`` with a small ``z``
(``(K, B)``, B the batch), split into row blocks where that measures faster.

Why: a general BLAS GEMM packs its operands first, and for one recurrent step (say
``(1024, 321) @ (321, 32)``) packing the weight each step costs a good part of the step.
OpenBLAS runs products of up to 10^6 multiply-adds with an unpacked kernel, so the same
product as row blocks of ~96 rows measured 166 us against 200 us at one thread (a char-LSTM
step, ``bench/char_lstm.py``), and 36 us against 51 us for the 128-wide LSTM at batch 32.
With more BLAS threads, or another BLAS, one call can be the faster one, so the choice is
measured once per shape and process, on scratch arrays, and kept.

>>> import numpy as np
>>> w, z = np.ones((8, 3), np.float32), np.ones((3, 2), np.float32)
>>> gemm = StepGemm(np, w, z.shape[1])
>>> out = np.empty((8, 2), np.float32)
>>> gemm(z, out)[0].tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import time

import numpy as np

# products of at most this many multiply-adds run unpacked in OpenBLAS
_SMALL = 1_000_000
_CHOICE: dict = {}  # (M, K, B, dtype) -> rows per block (M: one call)


def _candidate(M, K, B):
    """Rows per block that keep each block's product small, or M where none helps."""
    if M * K * B <= _SMALL or M < 16:
        return M
    rows = _SMALL // (K * B) // 8 * 8
    return rows if rows >= 8 else M


def _timed(fn, calls=8, rounds=5):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()  # CPU time: not inflated by waiting for a shared core
        for _ in range(calls):
            fn()
        best = min(best, time.process_time() - t0)
    return best


def _measure(M, K, B, dtype, rows):
    w = np.random.default_rng(0).standard_normal((M, K)).astype(dtype)
    z = np.ones((K, B), dtype)
    out = np.empty((M, B), dtype)
    whole = StepGemm(np, w, B, rows=M)
    split = StepGemm(np, w, B, rows=rows)
    whole(z, out), split(z, out)  # warm up
    t_whole = _timed(lambda: whole(z, out))
    t_split = _timed(lambda: split(z, out))
    # keep one call unless the blocks are clearly faster
    return rows if t_split < 0.95 * t_whole else M


def rows_for(xp, M, K, B, dtype):
    """Rows per block for ``(M, K) @ (K, B)``: measured once per shape on NumPy."""
    if xp is not np:
        return M
    rows = _candidate(M, K, B)
    if rows == M:
        return M
    key = (M, K, B, np.dtype(dtype).str)
    if key not in _CHOICE:
        _CHOICE[key] = _measure(M, K, B, dtype, rows)
    return _CHOICE[key]


class StepGemm:
    """``out = w @ z`` for a fixed weight ``w (M, K)`` and ``z`` of ``B`` columns, as one
    call or as row blocks (``rows``: None to measure which is faster)."""

    def __init__(self, xp, w, B, rows=None):
        M, K = w.shape
        self.matmul = xp.matmul
        if rows is None:
            rows = rows_for(xp, M, K, B, w.dtype)
        self.bounds = [(lo, min(lo + rows, M)) for lo in range(0, M, rows)]
        self.blocks = [w[lo:hi] for lo, hi in self.bounds]
        self.w = w

    def __call__(self, z, out):
        matmul = self.matmul
        if len(self.blocks) == 1:
            return matmul(self.w, z, out=out)
        for wb, (lo, hi) in zip(self.blocks, self.bounds):
            matmul(wb, z, out=out[lo:hi])
        return out
