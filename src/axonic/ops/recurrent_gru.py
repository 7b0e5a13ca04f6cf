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
from axonic.backend.blas import matmul
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.recurrent_gemm import StepGemm
from axonic.ops.recurrent_layout import (
    Stacked,
    columns,
    ref_sigmoid,
    steps,
    transposed_grad,
)


class GRUSequence(Function):
    """GRU layer, gates in PyTorch's order r, z, n:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    Returns the states ``(T, B, H)``.

    Each step's activations are four blocks of rows: r, z, n's hidden side
    ``W_hn h + b_hn`` (these three one GEMM on ``[h; 1]``) and n. The input side of every
    gate needs no state: one batched product on ``[1; x]`` before the loop."""

    # backward writes into preallocated arrays, so it has no second derivative
    double_backward = False

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
        xp = get_array_module(x)
        T, B, n_in = x.shape
        H = w_hh.shape[1]
        train = True in self.needs_input_grad
        has_b = b_ih is not None or b_hh is not None
        x0 = H + has_b
        # [W_hh | b_h] on [h; 1] (r's and z's input-side biases join theirs) and
        # [b_in | W_ih] on [1; x]; sigmoid(a) = 0.5 * tanh(a / 2) + 0.5, the halving
        # folded into r's and z's rows
        w_h = xp.empty((3 * H, x0), x.dtype)
        w_x = xp.zeros((3 * H, x0 - H + n_in), x.dtype)
        w_h[:, :H], w_x[:, x0 - H:] = w_hh, w_ih
        if has_b:
            zero = xp.zeros(3 * H, x.dtype)
            b_i = zero if b_ih is None else b_ih
            w_h[:, H] = zero if b_hh is None else b_hh
            w_h[:2 * H, H] += b_i[:2 * H]
            w_x[2 * H:, 0] = b_i[2 * H:]
        w_h[:2 * H] *= 0.5
        w_x[:2 * H] *= 0.5
        gemm = StepGemm(xp, w_h, B)
        z = Stacked.build(xp, x, h0, has_b, reverse)
        zz, lag = z.z, int(reverse)
        # the input side needs no state: all steps in one batched product before the loop
        xs = matmul(w_x, z.inputs()[:, H:])
        keep = -1 if train else 0  # without gradients, one slot reused by every step
        acts = xp.empty((T if train else 1, 4 * H, B), x.dtype)
        tmp = xp.empty((H, B), x.dtype)
        # the views each step works on, made once per slot and block (as in LSTMSequence)
        slot = [(a[:3 * H], a[:2 * H], a[2 * H:3 * H], a[3 * H:], a[:H], a[H:2 * H])
                for a in acts]
        parts = [(b[:x0], b[:H]) for b in zz]
        for t in steps(T, reverse):
            j = t + lag
            rzh, rz, hn, n, r, zg = slot[t & keep]
            zh, h = parts[j]
            h_new = parts[j + 1 - 2 * lag][1]
            gemm(zh, rzh)
            rz += xs[t, :2 * H]
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            xp.multiply(r, hn, out=tmp)
            xp.add(xs[t, 2 * H:], tmp, out=n)
            xp.tanh(n, out=n)
            xp.subtract(h, n, out=h_new)  # h' = n + z * (h - n)
            h_new *= zg
            h_new += n
        out = xp.ascontiguousarray(z.states(H))
        if train:
            self.lag = lag
            self.save_for_backward(w_ih, w_hh, zz, acts)
        return out

    def backward(self, grad):
        xp, needs, lag = self.xp, self.needs_input_grad, self.lag
        w_ih, w_hh, zz, acts = self.saved_tensors
        T, H4, B = acts.shape
        H, n_in = H4 // 4, w_ih.shape[1]
        x0 = zz.shape[1] - n_in
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, 4 * H, B), w_hh.dtype)
        gemm = StepGemm(xp, xp.ascontiguousarray(w_hh.T), B)  # r, z, n's hidden side
        dh, tmp, omz = (xp.empty((H, B), w_hh.dtype) for _ in range(3))
        dh_rec = xp.zeros((H, B), w_hh.dtype)
        d3 = [d[:3 * H] for d in dz]  # views made once: StepGemm reads each address once
        # step by step, on blocks that stay in cache (as in LSTMSequence.backward)
        for t in steps(T, not lag):
            a, d, h_prev = acts[t], dz[t], zz[t + lag, :H]
            r, zg, hn, n = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
            dr, dzg, dhn, dn = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
            xp.add(g_t[t], dh_rec, out=dh)
            xp.subtract(1, zg, out=omz)
            xp.multiply(n, n, out=dn)  # dn = dh (1 - z) (1 - n^2)
            xp.subtract(1, dn, out=dn)
            dn *= dh
            dn *= omz
            xp.subtract(h_prev, n, out=dzg)  # dz = dh (h_prev - n) z (1 - z)
            dzg *= dh
            dzg *= zg
            dzg *= omz
            xp.subtract(1, r, out=tmp)  # dr = dn hn r (1 - r)
            tmp *= r
            xp.multiply(dn, hn, out=dr)
            dr *= tmp
            xp.multiply(dn, r, out=dhn)
            gemm(d3[t], dh_rec)
            xp.multiply(dh, zg, out=tmp)
            dh_rec += tmp
        dz = columns(xp, dz)
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if needs[0]:
            dx = matmul(dz[:2 * H].T, w_ih[:2 * H])  # r and z, then n (its hidden side reads no x)
            dx += matmul(dz[3 * H:].T, w_ih[2 * H:])
            dx = dx.reshape(T, B, n_in)
        if needs[1] or needs[2] or needs[3] or needs[4]:
            zin = columns(xp, Stacked(zz, lag).inputs())
            # r, z: [h; 1; x]; n's hidden side: [h; 1] (and x, unused)
            dw = matmul(dz[:3 * H], zin.T)
            dw_xn = matmul(dz[3 * H:], zin[H:].T)  # n's input side: [1; x]
            dw_hh = xp.ascontiguousarray(dw[:, :H])
            dw_ih = xp.concatenate([dw[:2 * H, x0:], dw_xn[:, x0 - H:]])
            if x0 > H:
                db_ih = xp.concatenate([dw[:2 * H, H], dw_xn[:, 0]])
                db_hh = dw[:, H].copy()
        return (dx,
                dw_ih if needs[1] else None,
                dw_hh if needs[2] else None,
                db_ih if needs[3] else None,
                db_hh if needs[4] else None,
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
