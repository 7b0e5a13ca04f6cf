"""``lstm_sequence``: one direction of one LSTM layer over a whole sequence, fused.

Fused for speed (DESIGN.md rule 1): a hand-written backward through time instead of ~15
graph nodes per step; the layout is ``recurrent_layout``'s.

>>> import axonic
>>> x = axonic.randn(5, 2, 3)
>>> w_ih, w_hh = axonic.randn(16, 3), axonic.randn(16, 4)
>>> b, h0 = axonic.zeros(16), axonic.zeros(2, 4)
>>> lstm_sequence(x, w_ih, w_hh, b, b, h0, h0).shape
(6, 2, 4)
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.recurrent_layout import (
    columns,
    gate_scale,
    hidden_weight_grad,
    input_grads,
    project,
    ref_sigmoid,
    steps,
    sum_biases,
    to_internal,
    to_torch,
    transposed_grad,
)

# Internal gate order o, i, f, g (PyTorch's is i, f, g, o): the sigmoid gates o, i, f are
# one block of rows, activated by one call per step.
ORDER = (3, 0, 1, 2)
_O, _I, _F, _G = range(4)


class LSTMSequence(Function):
    """LSTM layer, gates in PyTorch's order i, f, g, o:
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``. Returns ``(T + 1, B, H)``: the hidden
    state of every step and, as row ``T``, the final cell state (one output per op)."""

    # backward writes into preallocated arrays, so it has no second derivative
    double_backward = False

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        scale = gate_scale(xp, x.dtype, H, 4, 3)
        w_h = to_internal(xp, w_hh, ORDER, H) * scale[:, None]
        bias = sum_biases(b_ih, b_hh)
        if bias is not None:
            bias = to_internal(xp, bias, ORDER, H) * scale
        # (T, 4H, B) pre-activations, becoming the gate activations step by step
        acts, x_aug = project(xp, x, to_internal(xp, w_ih, ORDER, H) * scale[:, None], bias)
        hs, cs, tcs = (xp.empty((T, H, B), x.dtype) for _ in range(3))
        gh, ig = xp.empty((4 * H, B), x.dtype), xp.empty((H, B), x.dtype)
        h, c = h0.T, c0.T
        a4 = acts.reshape(T, 4, H, B)
        for t in steps(T, reverse):
            a, at = acts[t], a4[t]
            xp.matmul(w_h, h, out=gh)
            a += gh
            xp.tanh(a, out=a)
            sig = a[:3 * H]  # sigmoid from the tanh of half the input
            sig *= 0.5
            sig += 0.5
            xp.multiply(at[_F], c, out=cs[t])
            xp.multiply(at[_I], at[_G], out=ig)
            cs[t] += ig
            xp.tanh(cs[t], out=tcs[t])
            xp.multiply(at[_O], tcs[t], out=hs[t])
            h, c = hs[t], cs[t]
        out = xp.empty((T + 1, B, H), x.dtype)
        out[:T] = hs.transpose(0, 2, 1)
        out[T] = c.T
        self.reverse = reverse
        self.save_for_backward(x, x_aug, w_ih, w_hh, h0, c0, out, acts, cs, tcs)
        return out

    def backward(self, grad):
        xp, needs, reverse = self.xp, self.needs_input_grad, self.reverse
        x, x_aug, w_ih, w_hh, h0, c0, out, acts, cs, tcs = self.saved_tensors
        T, H, B = cs.shape
        a = acts.reshape(T, 4, H, B)
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, 4 * H, B), x.dtype)
        dz4 = dz.reshape(T, 4, H, B)
        w_hh_t = xp.ascontiguousarray(to_internal(xp, w_hh, ORDER, H).T)
        dh, tmp = xp.empty((H, B), x.dtype), xp.empty((H, B), x.dtype)
        d = xp.empty((4, H, B), x.dtype)
        dh_rec = xp.zeros((H, B), x.dtype)
        dc = xp.ascontiguousarray(grad[T].T)
        c0t = c0.T
        first = T - 1 if reverse else 0
        # step by step, on blocks that stay in cache (measured faster than computing the
        # gate derivatives of all steps at once, which streams several T-sized arrays)
        for t in steps(T, not reverse):
            at, z, tc = a[t], dz4[t], tcs[t]
            c_prev = c0t if t == first else cs[t + 1 if reverse else t - 1]
            xp.add(g_t[t], dh_rec, out=dh)
            xp.multiply(tc, tc, out=tmp)  # dc += dh * o * (1 - tanh(c)^2)
            xp.subtract(1, tmp, out=tmp)
            tmp *= at[_O]
            tmp *= dh
            dc += tmp
            # each gate's pre-activation gradient: what drives it times what it multiplies
            xp.multiply(dh, tc, out=z[_O])
            xp.multiply(dc, at[_G], out=z[_I])
            xp.multiply(dc, c_prev, out=z[_F])
            xp.multiply(dc, at[_I], out=z[_G])
            xp.subtract(1, at[:_G], out=d[:_G])  # times sigmoid' = s (1 - s) for o, i, f
            d[:_G] *= at[:_G]
            xp.multiply(at[_G], at[_G], out=d[_G])  # and tanh' = 1 - g^2 for g
            xp.subtract(1, d[_G], out=d[_G])
            z *= d
            dc *= at[_F]
            xp.matmul(w_hh_t, dz[t], out=dh_rec)
        dz = columns(xp, dz)
        dx, dw_ih, db = input_grads(needs, dz, x, x_aug, to_internal(xp, w_ih, ORDER, H))
        dw_hh = hidden_weight_grad(dz, out[:T], h0, reverse) if needs[2] else None
        if db is not None:
            db = to_torch(xp, db, ORDER, H)
        return (dx,
                to_torch(xp, dw_ih, ORDER, H) if needs[1] else None,
                to_torch(xp, dw_hh, ORDER, H) if needs[2] else None,
                db if needs[3] else None,
                db.copy() if needs[4] else None,
                dh_rec.T.copy() if needs[5] else None,
                dc.T.copy() if needs[6] else None)

    def to_onnx(self, g, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
        from axonic.onnx.export_shapes import recurrent

        y, _, c = recurrent(g, "LSTM", x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse)
        return g.op("Concat", y, c, axis=0)  # (T + 1, B, H), as forward packs it


def lstm_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    """One LSTM layer over time-major ``x (T, B, I)`` from ``h0, c0 (B, H)``; returns
    ``(T + 1, B, H)``: the hidden state of every step, then the final cell state.
    ``reverse=True`` runs from the last step to the first (a bidirectional layer's
    backward direction); a cell is the case ``T = 1``."""
    return LSTMSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=reverse)


# --- NumPy float64 reference (one step at a time, the textbook equations) ----------------

def _ref_lstm(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    H = w_hh.shape[1]
    h, c, hs = h0, c0, [None] * len(x)
    for t in steps(len(x), reverse):
        g = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = (g[:, k * H:(k + 1) * H] for k in range(4))
        c = ref_sigmoid(f) * c + ref_sigmoid(i) * np.tanh(gg)
        h = hs[t] = ref_sigmoid(o) * np.tanh(c)
    return np.concatenate([np.stack(hs), c[None]])


def _torch_lstm(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    out, _, c = TORCH._VF.lstm(x.flip(0) if reverse else x, (h0[None], c0[None]),
                               [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)
    return TORCH.cat([out.flip(0) if reverse else out, c])


def _shapes(T, B, n_in, H, G):
    return ((T, B, n_in), (G * H, n_in), (G * H, H), (G * H,), (G * H,), (B, H))


SPECS = [
    OpSpec("lstm_sequence", lstm_sequence, _ref_lstm, [_shapes(3, 2, 3, 2, 4) + ((2, 2),)],
           _torch_lstm, low=-1.0, high=1.0),
    OpSpec("lstm_sequence_reverse", lambda *a: lstm_sequence(*a, reverse=True),
           lambda *a: _ref_lstm(*a, reverse=True), [_shapes(3, 2, 2, 2, 4) + ((2, 2),)],
           lambda *a: _torch_lstm(*a, reverse=True), low=-1.0, high=1.0),
]
for _spec in SPECS:
    _spec.no_gradgrad = "the fused sequence kernel's backward runs on arrays"
