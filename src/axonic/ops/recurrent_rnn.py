"""``rnn_sequence``: one direction of one Elman RNN layer over a whole sequence, fused.

Fused for speed (DESIGN.md rule 1): a hand-written backward through time instead of
three graph nodes per step; the layout is ``recurrent_layout``'s.

>>> import axonic
>>> x = axonic.randn(5, 2, 3)
>>> w_ih, w_hh = axonic.randn(4, 3), axonic.randn(4, 4)
>>> b, h0 = axonic.zeros(4), axonic.zeros(2, 4)
>>> rnn_sequence(x, w_ih, w_hh, b, b, h0, nonlinearity="relu").shape
(5, 2, 4)
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.backend.blas import matmul
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.recurrent_gemm import StepGemm
from axonic.ops.recurrent_layout import (
    Stacked,
    columns,
    fused_weights,
    split_weight_grad,
    steps,
    sum_biases,
    transposed_grad,
)

NONLINEARITIES = ("tanh", "relu")


class RNNSequence(Function):
    """Elman RNN layer: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act tanh or relu.
    Returns the states ``(T, B, H)``. Each step is one GEMM on ``[h; 1; x]`` written
    straight into the next step's input, then the nonlinearity in place: the states are
    all that backward needs."""

    # backward writes into preallocated arrays, so it has no second derivative
    double_backward = False

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"rnn_sequence: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        bias = sum_biases(b_ih, b_hh)
        gemm = StepGemm(xp, fused_weights(xp, w_ih, w_hh, bias, None, H), B)
        z = Stacked.build(xp, x, h0, bias is not None, reverse)
        zz, lag = z.z, int(reverse)
        tanh = nonlinearity == "tanh"
        blocks, states = list(zz), [b[:H] for b in zz]
        for t in steps(T, reverse):
            j = t + lag
            h = states[j + 1 - 2 * lag]
            gemm(blocks[j], h)
            if tanh:
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)
        out = xp.ascontiguousarray(z.states(H))
        if True in self.needs_input_grad:
            self.lag, self.tanh = lag, tanh
            self.save_for_backward(w_ih, w_hh, zz)
        return out

    def backward(self, grad):
        xp, needs, lag = self.xp, self.needs_input_grad, self.lag
        w_ih, w_hh, zz = self.saved_tensors
        T, H, n_in = zz.shape[0] - 1, w_hh.shape[1], w_ih.shape[1]
        B = zz.shape[2]
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, H, B), w_hh.dtype)
        gemm = StepGemm(xp, xp.ascontiguousarray(w_hh.T), B)
        dh, deriv = xp.empty((H, B), w_hh.dtype), xp.empty((H, B), w_hh.dtype)
        dh_rec = xp.zeros((H, B), w_hh.dtype)
        dzs = list(dz)  # each step's view made once: StepGemm reads its address once
        for t in steps(T, not lag):
            h = zz[t + 1 - lag, :H]  # the state step t produced
            xp.add(g_t[t], dh_rec, out=dh)
            if self.tanh:  # the nonlinearity's derivative, from the state it produced
                xp.multiply(h, h, out=deriv)
                xp.subtract(1, deriv, out=deriv)
            else:
                xp.greater(h, 0, out=deriv)
            xp.multiply(dh, deriv, out=dz[t])
            gemm(dzs[t], dh_rec)
        dz = columns(xp, dz)
        dx = dw_ih = dw_hh = db = None
        if needs[0]:
            dx = matmul(dz.T, w_ih).reshape(T, B, n_in)
        if needs[1] or needs[2] or needs[3] or needs[4]:
            dw = matmul(dz, columns(xp, Stacked(zz, lag).inputs()).T)  # [W_hh | b | W_ih]
            dw_hh, db, dw_ih = split_weight_grad(xp, dw, H, n_in, None)
        return (dx,
                dw_ih if needs[1] else None,
                dw_hh if needs[2] else None,
                db if needs[3] else None,
                db.copy() if needs[4] else None,
                dh_rec.T.copy() if needs[5] else None)

    def to_onnx(self, g, x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
        from axonic.onnx.export_shapes import recurrent

        return recurrent(g, "RNN", x, w_ih, w_hh, b_ih, b_hh, h0, reverse=reverse,
                         activations=[nonlinearity.capitalize()])[0]


def rnn_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
    """One Elman RNN layer over time-major ``x (T, B, I)`` from ``h0 (B, H)``; returns the
    states ``(T, B, H)``. ``nonlinearity`` is "tanh" or "relu"; ``reverse=True`` runs from
    the last step to the first."""
    return RNNSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity=nonlinearity,
                             reverse=reverse)


# --- NumPy float64 reference (one step at a time, the textbook equations) ----------------

def _ref_rnn(x, w_ih, w_hh, b_ih, b_hh, h0, act=np.tanh, reverse=False):
    h, hs = h0, [None] * len(x)
    for t in steps(len(x), reverse):
        h = hs[t] = act(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
    return np.stack(hs)


def _torch_rnn(x, w_ih, w_hh, b_ih, b_hh, h0, relu=False):
    f = TORCH._VF.rnn_relu if relu else TORCH._VF.rnn_tanh
    out, _ = f(x, h0[None], [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)
    return out


def _shapes(T, B, n_in, H):
    return ((T, B, n_in), (H, n_in), (H, H), (H,), (H,), (B, H))


SPECS = [
    OpSpec("rnn_sequence_tanh", rnn_sequence, _ref_rnn, [_shapes(3, 2, 3, 2)], _torch_rnn,
           low=-1.0, high=1.0),
    OpSpec("rnn_sequence_relu", lambda *a: rnn_sequence(*a, nonlinearity="relu", reverse=True),
           lambda *a: _ref_rnn(*a, act=lambda v: np.maximum(v, 0), reverse=True),
           [_shapes(3, 2, 3, 2)], None, low=-1.0, high=1.0),
]
for _spec in SPECS:
    _spec.no_gradgrad = "the fused sequence kernel's backward runs on arrays"
