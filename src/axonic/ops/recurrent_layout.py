"""The one memory layout shared by the recurrent kernels (RNN, GRU, LSTM).

Every kernel runs a whole sequence (time-major ``x: (T, B, I)``) as one Function:

- ``Stacked``: the input of every step, ``[h; 1; x]`` (the row of ones only with a bias),
  is one ``(T + 1, K, B)`` array. The inputs are copied in once; each step reads its
  block and writes its new state into rows ``:H`` of the next step's block, so the
  states of all steps are the output. The LSTM's and RNN's step GEMM takes the input,
  the bias and the hidden state at once, ``[W_hh | b | W_ih] @ [h; 1; x]``; the GRU's
  reads ``[h; 1]`` (n's hidden side must stay apart from its input side), its input side
  being one batched product before the loop (``StepGemm``: the per-step product);
- per step, gate pre-activations are a contiguous ``(G * H, B)`` block and states
  ``(H, B)`` blocks, transposed against the user-facing ``(B, H)``: the GEMM is then
  ``W @ z`` (BLAS runs it faster than ``z.T @ W.T`` for a small batch) and each gate is a
  contiguous block of rows (NumPy's ufuncs run 2-3x slower on strided views);
- backward computes each step's gate derivatives on those blocks while they are in
  cache, writes the pre-activation gradients as ``(T, G * H, B)``, and one transposing
  copy after the loop turns them into ``(G * H, T * B)`` (``columns``), so that the
  gradient of ``[W_hh | b | W_ih]`` is one GEMM over all steps, and that of the inputs
  one more.

Gates may be kept in an internal order (sigmoid gates in one block, so that one call
activates them all); ``to_internal`` and ``to_torch`` move rows between PyTorch's order
and it.

Memory policy, the same for all three: plain allocation, no pool. ``backend/allocator.py``
keeps freed pages mapped, so arrays allocated afresh each call cost no page faults, and
the arrays forward saves are freed by the engine after backward (``Function.release``).
Without gradients nothing is saved: the per-step activations live in two slots used in
turn. The pool the LSTM kernel used to keep measured no faster on the char-LSTM training
step (85.8 and 84.8 ms of CPU per step, medians of 16 runs, 0 page faults either way).
"""

from __future__ import annotations

import numpy as np


def steps(T: int, reverse: bool) -> range:
    """The time steps in the order a direction runs them."""
    return range(T - 1, -1, -1) if reverse else range(T)


def to_internal(xp, a, order, H):
    """Rows of ``a`` (gate blocks of ``H`` in PyTorch's order) in the internal ``order``,
    where ``order[k]`` is the PyTorch index of internal gate ``k``."""
    if order is None:
        return a
    return xp.concatenate([a[g * H:(g + 1) * H] for g in order])


def to_torch(xp, a, order, H):
    """The inverse of ``to_internal``: rows back in PyTorch's gate order (a new array)."""
    if order is None:
        return xp.ascontiguousarray(a)
    blocks = [None] * len(order)
    for k, g in enumerate(order):
        blocks[g] = a[k * H:(k + 1) * H]
    return xp.concatenate(blocks)


def sum_biases(b_ih, b_hh):
    """``b_ih + b_hh``, either of which may be None (a layer without bias)."""
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


class Stacked:
    """``[h; 1; x]`` for a whole sequence: one ``(T + 1, K, B)`` array ``z``,
    ``K = H (+ 1 with a bias) + I``. Step ``t`` reads block ``t + lag`` and writes its new
    state into rows ``:H`` of block ``t + 1 - lag`` (``lag`` 0 forward, 1 reverse).

    Each block is contiguous: NumPy's ufuncs run 2-3x slower on a strided ``(H, B)`` view
    (a column slice of a ``(K, T * B)`` array) than on a contiguous one, and one transposing
    copy after the loop (``columns``) costs little more than a plain copy."""

    def __init__(self, z, lag):
        self.z, self.lag = z, lag
        self.T = z.shape[0] - 1

    @classmethod
    def build(cls, xp, x, h0, bias, reverse):
        """``[h0; 1; x]`` laid out for the steps of one direction (``bias``: with the row
        of ones)."""
        T, B, n_in = x.shape
        H = h0.shape[1]
        lag, x0 = int(reverse), H + int(bias)
        z = xp.empty((T + 1, x0 + n_in, B), x.dtype)
        z[lag:lag + T, x0:] = x.transpose(0, 2, 1)
        first, spare = (T, 0) if reverse else (0, T)  # h0's block; the one x is not read from
        z[spare, x0:] = 0
        if bias:
            z[:, H] = 1
        z[first, :H] = h0.T
        return cls(z, lag)

    def inputs(self):
        """``(T, K, B)``: the block each step read, in step order."""
        return self.z[self.lag:self.lag + self.T]

    def states(self, H):
        """``(T, B, H)``: the state each step wrote (a transposed view)."""
        lo = 1 - self.lag
        return self.z[lo:lo + self.T, :H].transpose(0, 2, 1)


def fused_weights(xp, w_ih, w_hh, bias, order, H, scale=None):
    """``[W_hh | b | W_ih]`` ``(G, K)`` with gate blocks in the internal ``order`` (None:
    PyTorch's), block ``k`` times ``scale[k]`` (None: 1): the left operand of every step's
    GEMM. Written block by block into place (measured 2x faster than reordering copies)."""
    G, n_in = w_ih.shape
    x0 = H + (bias is not None)
    w = xp.empty((G, x0 + n_in), w_ih.dtype)
    for k, g in enumerate(range(G // H) if order is None else order):
        dst, src = slice(k * H, (k + 1) * H), slice(g * H, (g + 1) * H)
        f = 1 if scale is None else scale[k]
        xp.multiply(w_hh[src], f, out=w[dst, :H])
        xp.multiply(w_ih[src], f, out=w[dst, x0:])
        if bias is not None:
            xp.multiply(bias[src], f, out=w[dst, H])
    return w


def split_weight_grad(xp, dw, H, n_in, order):
    """``(dW_hh, db, dW_ih)`` in PyTorch's gate order out of the gradient of
    ``[W_hh | b | W_ih]`` (``db`` None where ``dw`` has no bias column)."""
    x0 = dw.shape[1] - n_in
    db = to_torch(xp, dw[:, H], order, H) if x0 > H else None
    return to_torch(xp, dw[:, :H], order, H), db, to_torch(xp, dw[:, x0:], order, H)


def columns(xp, dz):
    """``(T, G, B)`` per-step gradients as one ``(G, T * B)`` matrix, step ``t`` in columns
    ``t*B:(t+1)*B``: the left operand of the weight-gradient GEMMs."""
    T, G, B = dz.shape
    return xp.ascontiguousarray(dz.transpose(1, 0, 2)).reshape(G, T * B)


def ref_sigmoid(a):
    """The textbook sigmoid, for the kernels' float64 NumPy references."""
    return 1 / (1 + np.exp(-a))


def transposed_grad(xp, grad, T):
    """The incoming gradient of the ``T`` step outputs ``(T, B, H)`` in the kernel's
    ``(T, H, B)`` layout, contiguous."""
    return xp.ascontiguousarray(grad[:T].transpose(0, 2, 1))
