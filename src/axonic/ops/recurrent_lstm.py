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
from axonic.backend import get_array_module, jit
from axonic.backend.blas import matmul
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.recurrent_gemm import StepGemm
from axonic.ops.recurrent_layout import (
    Stacked,
    columns,
    fused_weights,
    ref_sigmoid,
    split_weight_grad,
    steps,
    sum_biases,
    to_internal,
    transposed_grad,
)

# Internal gate order g, f, i, o (PyTorch's is i, f, g, o). Each step's slot of ``acts``
# holds the cell state it starts from, then the gates: [c, g, f, i, o]. The sigmoid gates
# f, i, o are one block of rows (one call activates them), and [f, i] * [c, g] is one call.
ORDER = (2, 1, 0, 3)


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
        train = True in self.needs_input_grad
        bias = sum_biases(b_ih, b_hh)
        # sigmoid(a) = 0.5 * tanh(a / 2) + 0.5: one tanh call serves every gate, the halving
        # folded into the weights (scaling by 2^-1 is exact)
        w = fused_weights(xp, w_ih, w_hh, bias, ORDER, H, (1, 0.5, 0.5, 0.5))
        z = Stacked.build(xp, x, h0, bias is not None, reverse)
        zz = z.z
        gemm = StepGemm(xp, w, B)
        lag = int(reverse)
        # without gradients only two slots (this step's and the next), reused alternately
        keep = -1 if train else 1
        acts = xp.empty((T + 1 if train else 2, 5 * H, B), x.dtype)
        tcs = xp.empty((T if train else 1, H, B), x.dtype)
        prod = xp.empty((2 * H, B), x.dtype)
        f_c, i_g = prod[:H], prod[H:]
        acts[(lag * T) & keep, :H] = c0.T
        tkeep = keep if train else 0
        # the views each slot's step works on, made once per slot rather than per step
        # (at batch 1 slicing is a good part of a step)
        slot = [(a[H:], a[2 * H:], a[2 * H:4 * H], a[:2 * H], a[4 * H:], a[:H]) for a in acts]
        blocks, states = list(zz), [b[:H] for b in zz]
        # the gate arithmetic after tanh as one compiled loop where numba is installed
        fused = jit.kernels() if xp is np and acts.dtype in (np.float32, np.float64) else None
        for t in steps(T, reverse):
            j = t + lag
            j2 = j + 1 - 2 * lag
            gates, sig, fi, cg, o, _ = slot[j & keep]
            c, tc = slot[j2 & keep][5], tcs[t & tkeep]
            gemm(blocks[j], gates)
            xp.tanh(gates, out=gates)
            if fused is not None:
                fused.lstm_forward_gates(acts[j & keep], c)
            else:
                sig *= 0.5
                sig += 0.5
                xp.multiply(fi, cg, out=prod)  # f * c and i * g
                xp.add(f_c, i_g, out=c)
            xp.tanh(c, out=tc)
            xp.multiply(o, tc, out=states[j2])
        out = xp.empty((T + 1, B, H), x.dtype)
        out[:T] = z.states(H)
        out[T] = acts[((1 - lag) * T) & keep, :H].T
        if train:
            self.lag = lag
            self.save_for_backward(w_ih, w_hh, z.z, acts, tcs)
        return out

    def backward(self, grad):
        xp, needs, lag = self.xp, self.needs_input_grad, self.lag
        w_ih, w_hh, zz, acts, tcs = self.saved_tensors
        T, H, B = tcs.shape
        n_in = w_ih.shape[1]
        g_t = transposed_grad(xp, grad, T)
        dz = xp.empty((T, 4 * H, B), w_hh.dtype)
        gemm = StepGemm(xp, xp.ascontiguousarray(to_internal(xp, w_hh, ORDER, H).T), B)
        d = xp.empty((4 * H, B), w_hh.dtype)
        dh, tmp = xp.empty((H, B), w_hh.dtype), xp.empty((H, B), w_hh.dtype)
        dh_rec = xp.zeros((H, B), w_hh.dtype)
        dc = xp.ascontiguousarray(grad[T].T)
        # step by step, on blocks that stay in cache (measured faster than computing the
        # gate derivatives of all steps at once, which streams several T-sized arrays)
        blks = list(dz)  # each step's view made once: StepGemm reads its address once
        # the gate arithmetic as one compiled loop per step where numba is installed
        fused = (jit.kernels() if xp is np and dz.dtype in (np.float32, np.float64)
                 and g_t.dtype == acts.dtype == tcs.dtype == dc.dtype == dz.dtype else None)
        for t in steps(T, not lag):
            a, tc, blk = acts[t + lag], tcs[t], blks[t]
            if fused is not None:
                fused.lstm_backward_step(g_t[t], dh_rec, a, tc, dc, blk)
                gemm(blk, dh_rec)
                continue
            xp.add(g_t[t], dh_rec, out=dh)
            xp.multiply(tc, tc, out=tmp)  # dc += dh * o * (1 - tanh(c)^2)
            xp.subtract(1, tmp, out=tmp)
            tmp *= a[4 * H:]
            tmp *= dh
            dc += tmp
            # each gate's pre-activation gradient: what drives it times what it multiplies
            xp.multiply(dh, tc, out=blk[3 * H:])  # o
            xp.multiply(a[:2 * H].reshape(2, H, B), dc,
                        out=blk[H:3 * H].reshape(2, H, B))  # f by c, i by g
            xp.multiply(dc, a[3 * H:4 * H], out=blk[:H])  # g by i
            xp.subtract(1, a[2 * H:], out=d[H:])  # times sigmoid' = s (1 - s) for f, i, o
            d[H:] *= a[2 * H:]
            xp.multiply(a[H:2 * H], a[H:2 * H], out=d[:H])  # and tanh' = 1 - g^2 for g
            xp.subtract(1, d[:H], out=d[:H])
            blk *= d
            dc *= a[2 * H:3 * H]
            gemm(blk, dh_rec)
        dx = dw_hh = dw_ih = db = None
        dz = columns(xp, dz)
        if needs[0]:
            dx = matmul(dz.T, to_internal(xp, w_ih, ORDER, H)).reshape(T, B, n_in)
        if needs[1] or needs[2] or needs[3] or needs[4]:
            dw = matmul(dz, columns(xp, Stacked(zz, lag).inputs()).T)  # [W_hh | b | W_ih]
            dw_hh, db, dw_ih = split_weight_grad(xp, dw, H, n_in, ORDER)
        return (dx,
                dw_ih if needs[1] else None,
                dw_hh if needs[2] else None,
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
