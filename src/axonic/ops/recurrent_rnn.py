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
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.recurrent_layout import (
    columns,
    hidden_weight_grad,
    input_grads,
    project,
    steps,
    sum_biases,
    transposed_grad,
)

NONLINEARITIES = ("tanh", "relu")


class RNNSequence(Function):
    """Elman RNN layer: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act tanh or relu.
    Returns the states ``(T, B, H)``."""

    # backward writes into preallocated arrays, so it has no second derivative
    double_backward = False

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"rnn_sequence: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        hs, x_aug = project(xp, x, w_ih, sum_biases(b_ih, b_hh))  # becoming the states
        gh = xp.empty((H, B), x.dtype)
        h = h0.T
        for t in steps(T, reverse):
            a = hs[t]
            xp.matmul(w_hh, h, out=gh)
            a += gh
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            h = a
        out = xp.ascontiguousarray(hs.transpose(0, 2, 1))
        self.reverse, self.nonlinearity = reverse, nonlinearity
        self.save_for_backward(x, x_aug, w_ih, w_hh, h0, out, hs)
        return out

    def backward(self, grad):
        xp, needs, reverse = self.xp, self.needs_input_grad, self.reverse
        x, x_aug, w_ih, w_hh, h0, out, hs = self.saved_tensors
        T, H, B = hs.shape
        # the derivative of the nonlinearity, from the states it produced
        if self.nonlinearity == "tanh":
            deriv = xp.multiply(hs, hs)
            xp.subtract(1, deriv, out=deriv)
        else:
            deriv = (hs > 0).astype(hs.dtype)
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, H, B), x.dtype)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        dh = xp.empty((H, B), x.dtype)
        dh_rec = xp.zeros((H, B), x.dtype)
        for t in steps(T, not reverse):
            xp.add(g_t[t], dh_rec, out=dh)
            xp.multiply(dh, deriv[t], out=dz[t])
            xp.matmul(w_hh_t, dz[t], out=dh_rec)
        dz = columns(xp, dz)
        dx, dw_ih, db = input_grads(needs, dz, x, x_aug, w_ih)
        return (dx,
                dw_ih if needs[1] else None,
                hidden_weight_grad(dz, out, h0, reverse) if needs[2] else None,
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
