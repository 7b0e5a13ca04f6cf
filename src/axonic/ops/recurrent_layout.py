"""The one memory layout shared by the recurrent kernels (RNN, GRU, LSTM).

Every kernel runs a whole sequence (time-major ``x: (T, B, I)``) as one Function:

- the input side of all steps is computed at once, ``(T, G * H, B)`` (``project``),
  and each step adds its hidden GEMM into its block;
- per step, gate pre-activations are a ``(G * H, B)`` block and states ``(H, B)``
  blocks, transposed against the user-facing ``(B, H)``: the hidden GEMM is then
  ``W_hh @ h`` (BLAS runs it faster than ``h @ W_hh.T`` for a small batch) and each gate
  is a contiguous block of rows. Saved for backward: ``(T, G * H, B)`` and ``(T, H, B)``;
- backward computes each step's gate derivatives on those blocks while they are in
  cache, writes the pre-activation gradients as ``(T, G * H, B)``, and one copy after
  the loop turns them into ``(G * H, T * B)`` (``columns``), so that each weight
  gradient is one GEMM over all steps.

Gates may be kept in an internal order (sigmoid gates first, so that one call activates
them all); ``to_internal`` and ``to_torch`` move rows between PyTorch's order and it.

Memory policy, the same for all three: plain allocation, no pool. ``backend/allocator.py``
keeps freed pages mapped, so arrays allocated afresh each step cost no page faults, and
the arrays forward saves are freed by the engine after backward (``Function.release``).
The pool the LSTM kernel used to keep measured no faster on the char-LSTM training step
(``bench/char_lstm.py``'s model, the same kernel with and without it alternating in one
process: 85.8 and 84.8 ms of CPU per step, medians of 16 runs, 0 page faults either way).
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
        return a
    blocks = [None] * len(order)
    for k, g in enumerate(order):
        blocks[g] = a[k * H:(k + 1) * H]
    return xp.concatenate(blocks)


def gate_scale(xp, dtype, H, gates, sigmoid_gates):
    """Per-row factors 0.5 for the first ``sigmoid_gates`` gates, 1 for the rest.

    sigmoid(a) = 0.5 * tanh(a / 2) + 0.5, so one tanh call serves every gate; the halving
    is folded into the weights (scaling by 2^-1 is exact in floating point)."""
    scale = xp.ones(gates * H, dtype)
    scale[:sigmoid_gates * H] = 0.5
    return scale


def sum_biases(b_ih, b_hh):
    """``b_ih + b_hh``, either of which may be None (a layer without bias)."""
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


def project(xp, x, w, bias):
    """The input side of every step at once: ``(T, G, B)`` pre-activations
    ``w @ x_t^T + bias``, and the input as the weight-gradient GEMM will read it.

    The bias rides along as one more input column of ones: the GEMM adds it, and its
    gradient comes out of the weight-gradient GEMM, instead of one more pass each way."""
    T, B, n_in = x.shape
    if bias is None:
        x_aug = x
    else:
        x_aug = xp.empty((T, B, n_in + 1), x.dtype)
        x_aug[:, :, :n_in] = x
        x_aug[:, :, n_in] = 1
        w = xp.concatenate([w, bias[:, None]], axis=1)
    return xp.matmul(w, x_aug.transpose(0, 2, 1)), x_aug


def input_grads(needs, dz, x, x_aug, w_ih):
    """``(dx, dw_ih, db)`` from the input-side pre-activation gradients ``dz (G, T * B)``,
    with ``w_ih`` and the results in ``dz``'s gate order; ``db`` is None without bias.
    ``needs`` is the op's ``needs_input_grad`` (x, w_ih, w_hh, b_ih, b_hh, ...)."""
    T, B, n_in = x.shape
    dx = (dz.T @ w_ih).reshape(x.shape) if needs[0] else None
    dw = db = None
    if needs[1] or needs[3] or needs[4]:
        dw_aug = dz @ x_aug.reshape(T * B, -1)
        dw = dw_aug[:, :n_in]
        if x_aug is not x:
            db = dw_aug[:, n_in]
    return dx, dw, db


def hidden_weight_grad(dz, out, h0, reverse):
    """``dW_hh`` from the hidden-side gradients ``dz (G, T * B)`` and the states each step
    started from: ``h0 (B, H)``, then the outputs ``out (T, B, H)`` shifted one step."""
    T, B, H = out.shape
    rows, n = out.reshape(T * B, H), (T - 1) * B
    if reverse:
        dw = dz[:, :n] @ rows[B:]
        dw += dz[:, n:] @ h0
    else:
        dw = dz[:, B:] @ rows[:n]
        dw += dz[:, :B] @ h0
    return dw


class Stacked:
    """The input of every step's fused GEMM, ``[h; x; 1]``, for a whole sequence: one
    ``(T + 1, K, B)`` array ``z``, ``K = H + I (+ 1 with a bias)``. Step ``t`` reads block
    ``t + lag`` and writes its new state into rows ``:H`` of block ``t + 1 - lag`` (``lag``
    0 forward, 1 reverse), so the states of all steps end up in rows ``:H`` (the output),
    and after the loop the weight gradient of ``[W_hh | W_ih | b]`` is ONE GEMM over all
    steps (``columns``).

    Each block is contiguous: NumPy's ufuncs run 2-3x slower on a strided ``(H, B)`` view
    (a column slice of a ``(K, T * B)`` array) than on a contiguous one, and one transposing
    copy after the loop costs little more than a plain copy."""

    def __init__(self, z, lag):
        self.z, self.lag = z, lag
        self.T, _, self.B = z.shape
        self.T -= 1

    @classmethod
    def build(cls, xp, x, h0, bias, reverse):
        """``[h0; x; 1]`` laid out for the steps of one direction (``bias``: with the row
        of ones)."""
        T, B, n_in = x.shape
        H = h0.shape[1]
        lag = int(reverse)
        z = xp.empty((T + 1, H + n_in + int(bias), B), x.dtype)
        z[lag:lag + T, H:H + n_in] = x.transpose(0, 2, 1)
        first, spare = (T, 0) if reverse else (0, T)  # h0's block; the one x is not read from
        z[spare, H:H + n_in] = 0
        if bias:
            z[:, H + n_in] = 1
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
    """``[W_hh | W_ih | b]`` ``(G, K)`` with rows in the internal gate ``order``, each row
    times ``scale`` (None: 1): the left operand of every step's GEMM."""
    G, n_in = w_ih.shape
    w = xp.empty((G, H + n_in + (bias is not None)), w_ih.dtype)
    w[:, :H] = to_internal(xp, w_hh, order, H)
    w[:, H:H + n_in] = to_internal(xp, w_ih, order, H)
    if bias is not None:
        w[:, H + n_in] = to_internal(xp, bias, order, H)
    if scale is not None:
        w *= scale[:, None]
    return w


def split_weight_grad(dw, H, n_in, has_bias):
    """``(dW_hh, dW_ih, db)`` out of the gradient of ``[W_hh | W_ih | b]``."""
    return dw[:, :H], dw[:, H:H + n_in], (dw[:, H + n_in] if has_bias else None)


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
