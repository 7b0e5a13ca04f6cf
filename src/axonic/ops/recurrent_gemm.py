"""The per-step GEMM of the recurrent kernels, ``out = w @ z`` with a small ``z``
(``(K, B)``, B the batch), split into row blocks where that measures faster.

Why: a general BLAS GEMM packs its operands first, and for one recurrent step (say
``(1024, 321) @ (321, 32)``) packing the weight each step costs a good part of the step.
OpenBLAS runs products of up to 10^6 multiply-adds with an unpacked kernel, so the same
product as row blocks of ~96 rows measured 166 us against 200 us at one thread (a char-LSTM
step, ``bench/char_lstm.py``), and 36 us against 51 us for the 128-wide LSTM at batch 32.
With more BLAS threads one call measured faster, so the blocks are used only when BLAS
runs on one thread (``axonic.get_num_threads() == 1``): a rule, not a timing, so the
same run rounds the same way every time. The two forms may round differently (a long
product's sum is split differently); under ``axonic.use_deterministic_algorithms(True)``
the product is always one call. Where oneMKL does the products (``axonic.backend.blas``)
the step is one call to it: 137 us for that char-LSTM step (``bench/blas.py``).

>>> import numpy as np
>>> w, z = np.ones((8, 3), np.float32), np.ones((3, 2), np.float32)
>>> gemm = StepGemm(np, w, z.shape[1])
>>> out = np.empty((8, 2), np.float32)
>>> gemm(z, out)[0].tolist()
[3.0, 3.0]
"""

from __future__ import annotations

import numpy as np

from axonic.backend import blas

# products of at most this many multiply-adds run unpacked in OpenBLAS
_SMALL = 1_000_000


def _candidate(M, K, B):
    """Rows per block that keep each block's product small, or M where none helps."""
    if M * K * B <= _SMALL or M * K * B > 16 * _SMALL or M < 16:
        return M  # small already, or large enough for packing to pay
    rows = _SMALL // (K * B) // 8 * 8
    return rows if rows >= 8 else M


def rows_for(xp, M, K, B, dtype):
    """Rows per block for ``(M, K) @ (K, B)`` on NumPy."""
    if xp is not np:
        return M
    rows = _candidate(M, K, B)
    if rows == M:
        return M
    from axonic.backends import are_deterministic_algorithms_enabled

    if are_deterministic_algorithms_enabled():
        return M
    from axonic.backend import blas
    from axonic.backend.threads import get_num_threads

    if get_num_threads() != 1 or blas.takes(M, K, B):
        return M  # one call: BLAS's threads, or oneMKL
    return rows


class StepGemm:
    """``out = w @ z`` for a fixed weight ``w (M, K)`` and ``z`` of ``B`` columns, as one
    call or as row blocks (``rows``: None for the rule of ``rows_for``)."""

    def __init__(self, xp, w, B, rows=None):
        M, K = w.shape
        self.matmul = blas.matmul if xp is np else xp.matmul
        self.fixed = blas.fixed_left(w, B) if xp is np and rows is None else None
        if rows is None:
            rows = rows_for(xp, M, K, B, w.dtype)
        self.bounds = [(lo, min(lo + rows, M)) for lo in range(0, M, rows)]
        self.blocks = [w[lo:hi] for lo, hi in self.bounds]
        self.w = w

    def __call__(self, z, out):
        if self.fixed is not None:  # oneMKL, pointers read once
            return self.fixed(z, out)
        matmul = self.matmul
        if len(self.blocks) == 1:
            return matmul(self.w, z, out=out)
        for wb, (lo, hi) in zip(self.blocks, self.bounds):
            matmul(wb, z, out=out[lo:hi])
        return out
