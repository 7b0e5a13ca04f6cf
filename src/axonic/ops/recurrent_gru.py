"""``gru_sequence``: one direction of one GRU layer over a whole sequence, fused.

Fused for speed (DESIGN.md rule 1): a hand-written backward through time instead of ~12
graph nodes per step; the layout is ``recurrent_layout``'s.

>>> import axonic
>>> x = axonic.randn(5, 2, 3)
>>> w_ih, w_hh = axonic.randn(12, 3), axonic.randn(12, 4)
>>> b, h0 = axonic.zeros(12), axonic.zeros(2, 4)
>>> gru_sequence(x, w_ih, w_hh, b, b, h0).shape
(5, 2, 4)
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
    to_internal,
    to_torch,
    transposed_grad,
)

_R, _Z, _N = range(3)
# The pre-activation gradients of all steps, by rows: n's input side (which differs from
# its hidden side, r * that), then r, z and n's hidden side. Rows 0:3H are then the input
# side in the order n, r, z and rows H:4H the hidden side in PyTorch's order r, z, n.
_INPUT_ORDER = (2, 0, 1)


class GRUSequence(Function):
    """GRU layer, gates in PyTorch's order r, z, n:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    Returns the states ``(T, B, H)``."""

    # backward writes into preallocated arrays, so it has no second derivative
    double_backward = False

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        scale = gate_scale(xp, x.dtype, H, 3, 2)
        w_h = w_hh * scale[:, None]
        # b_hr and b_hz join the input side's bias; b_hn stays inside r * (...)
        bias = None if b_ih is None else b_ih.copy()
        if b_hh is not None:
            bias = xp.zeros_like(b_hh) if bias is None else bias
            bias[:2 * H] += b_hh[:2 * H]
        # (T, 3H, B) pre-activations, becoming the gate activations r, z, n step by step
        acts, x_aug = project(xp, x, w_ih * scale[:, None], None if bias is None else bias * scale)
        b_hn = None if b_hh is None else b_hh[2 * H:, None]
        hs, ghn = xp.empty((T, H, B), x.dtype), xp.empty((T, H, B), x.dtype)
        gh, tmp = xp.empty((3 * H, B), x.dtype), xp.empty((H, B), x.dtype)
        h = h0.T
        for t in steps(T, reverse):
            a = acts[t]
            xp.matmul(w_h, h, out=gh)
            rz = a[:2 * H]
            rz += gh[:2 * H]
            xp.tanh(rz, out=rz)
            rz *= 0.5  # sigmoid from the tanh of half the input
            rz += 0.5
            if b_hn is None:
                ghn[t] = gh[2 * H:]
            else:
                xp.add(gh[2 * H:], b_hn, out=ghn[t])
            n = a[2 * H:]
            xp.multiply(a[:H], ghn[t], out=tmp)
            n += tmp
            xp.tanh(n, out=n)
            xp.subtract(h, n, out=hs[t])  # h' = n + z * (h - n)
            hs[t] *= a[H:2 * H]
            hs[t] += n
            h = hs[t]
        out = xp.ascontiguousarray(hs.transpose(0, 2, 1))
        self.reverse = reverse
        self.save_for_backward(x, x_aug, w_ih, w_hh, h0, out, acts, hs, ghn)
        return out

    def backward(self, grad):
        xp, needs, reverse = self.xp, self.needs_input_grad, self.reverse
        x, x_aug, w_ih, w_hh, h0, out, acts, hs, ghn = self.saved_tensors
        T, H, B = hs.shape
        a = acts.reshape(T, 3, H, B)
        r, z, n = a[:, _R], a[:, _Z], a[:, _N]
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, 4 * H, B), x.dtype)
        dz4 = dz.reshape(T, 4, H, B)
        w_hh_t = xp.ascontiguousarray(w_hh.T)
        dh, tmp, omz = (xp.empty((H, B), x.dtype) for _ in range(3))
        dh_rec = xp.zeros((H, B), x.dtype)
        h0t = h0.T
        first = T - 1 if reverse else 0
        # step by step, on blocks that stay in cache (as in LSTMSequence.backward)
        for t in steps(T, not reverse):
            h_prev = h0t if t == first else hs[t + 1 if reverse else t - 1]
            rt, zt, nt = r[t], z[t], n[t]
            dn, dr, dzg, dhn = dz4[t, 0], dz4[t, 1], dz4[t, 2], dz4[t, 3]
            xp.add(g_t[t], dh_rec, out=dh)
            xp.subtract(1, zt, out=omz)
            xp.multiply(nt, nt, out=dn)  # dn = dh (1 - z) (1 - n^2)
            xp.subtract(1, dn, out=dn)
            dn *= dh
            dn *= omz
            xp.subtract(h_prev, nt, out=dzg)  # dz = dh (h_prev - n) z (1 - z)
            dzg *= dh
            dzg *= zt
            dzg *= omz
            xp.subtract(1, rt, out=tmp)  # dr = dn ghn r (1 - r)
            tmp *= rt
            xp.multiply(dn, ghn[t], out=dr)
            dr *= tmp
            xp.multiply(dn, rt, out=dhn)
            xp.matmul(w_hh_t, dz[t, H:], out=dh_rec)
            xp.multiply(dh, zt, out=tmp)
            dh_rec += tmp
        dz = columns(xp, dz)
        hidden = dz[H:]
        w_in = to_internal(xp, w_ih, _INPUT_ORDER, H)
        dx, dw_ih, db = input_grads(needs, dz[:3 * H], x, x_aug, w_in)
        db_ih = db_hh = None
        if db is not None:
            db_ih = to_torch(xp, db, _INPUT_ORDER, H)
            if needs[4]:
                db_hh = xp.concatenate([db_ih[:2 * H], hidden[2 * H:].sum(axis=1)])
        return (dx,
                to_torch(xp, dw_ih, _INPUT_ORDER, H) if needs[1] else None,
                hidden_weight_grad(hidden, out, h0, reverse) if needs[2] else None,
                db_ih if needs[3] else None,
                db_hh,
                dh_rec.T.copy() if needs[5] else None)

    def to_onnx(self, g, x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
        from axonic.onnx.export_shapes import recurrent

        return recurrent(g, "GRU", x, w_ih, w_hh, b_ih, b_hh, h0, reverse=reverse,
                         linear_before_reset=1)[0]


def gru_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    """One GRU layer over time-major ``x (T, B, I)`` from ``h0 (B, H)``; returns the states
    ``(T, B, H)``. ``reverse=True`` runs from the last step to the first."""
    return GRUSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=reverse)


# --- NumPy float64 reference (one step at a time, the textbook equations) ----------------

def _ref_gru(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    H = w_hh.shape[1]
    h, hs = h0, [None] * len(x)
    for t in steps(len(x), reverse):
        gx, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = ref_sigmoid(gx[:, :H] + gh[:, :H])
        z = ref_sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        h = hs[t] = (1 - z) * n + z * h
    return np.stack(hs)


def _torch_gru(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    out, _ = TORCH._VF.gru(x.flip(0) if reverse else x, h0[None], [w_ih, w_hh, b_ih, b_hh],
                           True, 1, 0.0, False, False, False)
    return out.flip(0) if reverse else out


def _shapes(T, B, n_in, H):
    return ((T, B, n_in), (3 * H, n_in), (3 * H, H), (3 * H,), (3 * H,), (B, H))


SPECS = [
    OpSpec("gru_sequence", gru_sequence, _ref_gru, [_shapes(3, 2, 3, 2)], _torch_gru,
           low=-1.0, high=1.0),
    OpSpec("gru_sequence_reverse", lambda *a: gru_sequence(*a, reverse=True),
           lambda *a: _ref_gru(*a, reverse=True), [_shapes(3, 2, 2, 2)],
           lambda *a: _torch_gru(*a, reverse=True), low=-1.0, high=1.0),
]
for _spec in SPECS:
    _spec.no_gradgrad = "the fused sequence kernel's backward runs on arrays"
