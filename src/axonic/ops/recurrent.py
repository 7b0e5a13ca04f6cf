"""Fused recurrent layers: one direction of one RNN, LSTM or GRU layer over a whole
sequence as a single Function, with a hand-written backward through time.

Fused for speed (DESIGN.md rule 1): the input projection of all time steps is one GEMM,
each step does one hidden GEMM and its gate math on preallocated arrays, and after the
backward loop the weight gradients are one GEMM each, instead of ~10 graph nodes per
step. The sequence is time-major ``x: (T, B, I)``; ``reverse=True`` runs it from the
last step to the first (the backward direction of a bidirectional layer). Cells are
the same Functions with ``T = 1``.

Outputs: ``rnn_sequence`` and ``gru_sequence`` return ``(T, B, H)``, the hidden state at
every time step; ``lstm_sequence`` returns ``(T + 1, B, H)``: the hidden states and, as
row ``T``, the final cell state (a Function has one output; the caller slices it).

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
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec


def _needs(fn, k):
    a = fn.inputs[k]
    return isinstance(a, Tensor) and a._rg


def _project(x, w, *biases):
    """``x @ w.T + biases`` for all time steps in one GEMM: (T, B, I) -> (T, B, G)."""
    T, B, i = x.shape
    out = x.reshape(T * B, i) @ w.T
    for b in biases:
        if b is not None:
            out += b
    return out.reshape(T, B, w.shape[0])


def _previous(xp, h0, hs, reverse):
    """The state each step started from, by time: (T, B, H) from h0 and the outputs."""
    prev = xp.empty_like(hs)
    if reverse:
        prev[:-1] = hs[1:]
        prev[-1] = h0
    else:
        prev[1:] = hs[:-1]
        prev[0] = h0
    return prev


def _sequence_grads(fn, dzx, dzh, prev):
    """``(dx, dw_ih, dw_hh, db_ih, db_hh)`` from the stacked pre-activation gradients of
    the input side ``dzx`` and the hidden side ``dzh`` (one array for LSTM and RNN), one
    GEMM each over all time steps. ``prev()`` gives the states the steps started from."""
    T, B, G = dzx.shape
    fx = dzx.reshape(T * B, G)
    fh = fx if dzh is dzx else dzh.reshape(T * B, G)
    x = fn.x
    dx = (fx @ fn.w_ih).reshape(x.shape) if _needs(fn, 0) else None
    dw_ih = fx.T @ x.reshape(T * B, -1) if _needs(fn, 1) else None
    dw_hh = fh.T @ prev().reshape(T * B, -1) if _needs(fn, 2) else None
    db_ih = fx.sum(axis=0) if _needs(fn, 3) else None
    db_hh = None
    if _needs(fn, 4):
        db_hh = db_ih.copy() if fh is fx and db_ih is not None else fh.sum(axis=0)
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _sigmoid_tanh_consts(xp, dtype, H, n_gates, tanh_gate):
    # sigmoid(a) = 0.5 * tanh(a / 2) + 0.5, so one tanh call serves every gate; the
    # halving is folded into the weights (scaling by 2^-1 is exact in floating point).
    scale = np.full(n_gates * H, 0.5, dtype)
    offset = np.full(n_gates * H, 0.5, dtype)
    if tanh_gate is not None:
        scale[tanh_gate * H:(tanh_gate + 1) * H] = 1
        offset[tanh_gate * H:(tanh_gate + 1) * H] = 0
    return xp.asarray(scale), xp.asarray(offset)


# Reused work arrays, by (array module, shape, dtype). A training step would otherwise
# allocate and free ~30 MB here; glibc hands such blocks back to the OS on free, so every
# step paid ~5000 page faults (~10 ms for the char-LSTM benchmark) to get them again.
_FREE: dict = {}
_MAX_PER_KEY, _MAX_KEYS = 4, 32


def _take(xp, shape, dtype):
    """An uninitialised array from the pool, or a new one."""
    free = _FREE.get((xp.__name__, shape, np.dtype(dtype).str))
    if free:
        try:
            return free.pop()
        except IndexError:  # another thread took the last one
            pass
    return xp.empty(shape, dtype)


def _give(xp, *arrays):
    """Returns arrays that nothing references any more to the pool."""
    if len(_FREE) > _MAX_KEYS:  # many different shapes: start over rather than hoard
        _FREE.clear()
    for a in arrays:
        free = _FREE.setdefault((xp.__name__, a.shape, a.dtype.str), [])
        if len(free) < _MAX_PER_KEY:
            free.append(a)


class _Recycled:
    """Holds a Function's saved work arrays and gives them back to the pool when the
    graph frees them (after backward without ``retain_graph``, or when it is dropped).

    A retained graph keeps its arrays while other steps reuse freed ones:

    >>> import axonic
    >>> lstm, x = axonic.nn.LSTM(3, 4), axonic.randn(5, 2, 3)
    >>> loss = (lstm(x)[0] ** 2).sum()
    >>> loss.backward(retain_graph=True)
    >>> first = lstm.weight_hh_l0.grad.data.copy()
    >>> lstm.zero_grad()
    >>> (lstm(axonic.randn(5, 2, 3))[0] ** 2).sum().backward()  # takes freed arrays
    >>> lstm.zero_grad()
    >>> loss.backward()
    >>> bool((lstm.weight_hh_l0.grad.data == first).all())
    True
    """

    __slots__ = ("xp", "arrays")

    def __init__(self, xp, *arrays):
        self.xp, self.arrays = xp, arrays

    def __del__(self):
        try:
            _give(self.xp, *self.arrays)
        except Exception:  # interpreter shutdown: the module may be gone
            pass


class LSTMSequence(Function):
    """LSTM layer, gates in PyTorch's order i, f, g, o:
    ``c' = f * c + i * g``, ``h' = o * tanh(c')``.

    Inside, every step works on transposed ``(4H, B)`` / ``(H, B)`` blocks: the hidden
    GEMM ``W h^T`` comes out in that orientation (BLAS runs it faster than ``h W^T`` for
    a small batch) and each gate is then a contiguous block, so no step pays for a
    transposed add or strided gate slices."""

    saves_output = True

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        scale, offset = _sigmoid_tanh_consts(xp, x.dtype, H, 4, 2)
        x_aug, w_s = x, w_ih * scale[:, None]
        if b_ih is not None:
            # the bias as one more input column of ones: the GEMM adds it (and its
            # gradient comes out of the weight-gradient GEMM) instead of a pass over acts
            x_aug = _take(xp, x.shape[:2] + (x.shape[2] + 1,), x.dtype)
            x_aug[:, :, :-1] = x
            x_aug[:, :, -1] = 1
            w_s = xp.concatenate([w_s, ((b_ih + b_hh) * scale)[:, None]], axis=1)
        # (T, 4H, B) pre-activations, becoming the gate activations step by step
        acts = xp.matmul(w_s, x_aug.transpose(0, 2, 1), out=_take(xp, (T, 4 * H, B), x.dtype))
        w_hh_s = w_hh * scale[:, None]
        hs, cs, tcs = (_take(xp, (T, H, B), x.dtype) for _ in range(3))
        tmp, ig = _take(xp, (4 * H, B), x.dtype), _take(xp, (H, B), x.dtype)
        h, c = h0.T, c0.T
        for k in range(T):
            t = T - 1 - k if reverse else k
            a = acts[t]
            xp.matmul(w_hh_s, h, out=tmp)
            a += tmp
            xp.tanh(a, out=a)
            # sigmoid for i, f, o from the tanh of half the input; g stays tanh
            a[:2 * H] *= 0.5
            a[:2 * H] += 0.5
            a[3 * H:] *= 0.5
            a[3 * H:] += 0.5
            xp.multiply(a[H:2 * H], c, out=cs[t])
            xp.multiply(a[:H], a[2 * H:3 * H], out=ig)
            cs[t] += ig
            xp.tanh(cs[t], out=tcs[t])
            xp.multiply(a[3 * H:], tcs[t], out=hs[t])
            h, c = hs[t], cs[t]
        out = xp.empty((T + 1, B, H), x.dtype)
        out[:T] = hs.transpose(0, 2, 1)
        out[T] = c.T
        _give(xp, hs, tmp, ig)
        saved = (acts, cs, tcs) if x_aug is x else (acts, cs, tcs, x_aug)
        self._recycled = _Recycled(xp, *saved)
        self.x, self.x_aug, self.w_ih, self.w_hh = x, x_aug, w_ih, w_hh
        self.h0, self.c0 = h0, c0
        self.acts, self.cs, self.tcs, self.out, self.reverse = acts, cs, tcs, out, reverse
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        acts, cs, tcs, reverse = self.acts, self.cs, self.tcs, self.reverse
        T, H, B = cs.shape
        dt = grad.dtype
        g_t = _take(xp, (T, H, B), dt)
        g_t[...] = grad[:T].transpose(0, 2, 1)
        # dz of step t is columns t*B:(t+1)*B: the weight gradients are then one GEMM each
        dz = _take(xp, (4 * H, T * B), dt)
        w_hh_t = xp.ascontiguousarray(self.w_hh.T)
        c0 = self.c0.T
        dh, dh_rec, tmp = _take(xp, (H, B), dt), xp.zeros((H, B), dt), _take(xp, (H, B), dt)
        z, deriv = _take(xp, (4 * H, B), dt), _take(xp, (4 * H, B), dt)
        dc = grad[T].T.copy()
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            a, tc = acts[t], tcs[t]
            c_prev = c0 if k == 0 else cs[t + 1 if reverse else t - 1]
            xp.add(g_t[t], dh_rec, out=dh)
            xp.multiply(tc, tc, out=tmp)  # dc += dh * o * (1 - tanh(c)^2)
            xp.subtract(1, tmp, out=tmp)
            tmp *= a[3 * H:]
            tmp *= dh
            dc += tmp
            xp.multiply(dc, a[2 * H:3 * H], out=z[:H])
            xp.multiply(dc, c_prev, out=z[H:2 * H])
            xp.multiply(dc, a[:H], out=z[2 * H:3 * H])
            xp.multiply(dh, tc, out=z[3 * H:])
            xp.subtract(1, a, out=deriv)  # sigmoid' = a (1 - a); tanh' = 1 - a^2 for g
            deriv *= a
            g = a[2 * H:3 * H]
            xp.multiply(g, g, out=deriv[2 * H:3 * H])
            xp.subtract(1, deriv[2 * H:3 * H], out=deriv[2 * H:3 * H])
            z *= deriv
            dc *= a[H:2 * H]
            xp.matmul(w_hh_t, z, out=dh_rec)
            dz[:, t * B:(t + 1) * B] = z
        x, x_aug = self.x, self.x_aug
        dx = (dz.T @ self.w_ih).reshape(x.shape) if _needs(self, 0) else None
        dw_ih = db_ih = db_hh = dw_hh = None
        if _needs(self, 1) or _needs(self, 3) or _needs(self, 4):
            dw_aug = dz @ x_aug.reshape(T * B, -1)  # last column: the bias gradient
            if _needs(self, 1):
                dw_ih = dw_aug[:, :x.shape[2]].copy()
            if x_aug is not x:
                db_ih = dw_aug[:, -1].copy() if _needs(self, 3) else None
                db_hh = dw_aug[:, -1].copy() if _needs(self, 4) else None
        if _needs(self, 2):
            # the states the steps started from: h0, then the outputs shifted by one step
            hs, n = self.out[:T].reshape(T * B, H), (T - 1) * B
            if reverse:
                dw_hh = dz[:, :n] @ hs[B:]
                dw_hh += dz[:, n:] @ self.h0
            else:
                dw_hh = dz[:, B:] @ hs[:n]
                dw_hh += dz[:, :B] @ self.h0
        _give(xp, g_t, dz, dh, tmp, z, deriv)
        return (dx, dw_ih, dw_hh, db_ih, db_hh,
                dh_rec.T.copy() if _needs(self, 5) else None,
                dc.T.copy() if _needs(self, 6) else None)


class GRUSequence(Function):
    """GRU layer, gates in PyTorch's order r, z, n:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``."""

    saves_output = True

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        scale, offset = _sigmoid_tanh_consts(xp, x.dtype, H, 2, None)
        gx = _project(x, w_ih, b_ih)
        gx[:, :, :2 * H] *= scale
        w_hh_s = w_hh.copy()
        w_hh_s[:2 * H] *= scale[:, None]
        b_hh_s = None
        if b_hh is not None:
            b_hh_s = b_hh.copy()
            b_hh_s[:2 * H] *= scale
        out = xp.empty((T, B, H), x.dtype)
        rz = xp.empty((T, B, 2 * H), x.dtype)
        ns = xp.empty((T, B, H), x.dtype)
        ghn = xp.empty((T, B, H), x.dtype)
        gh_t = xp.empty((3 * H, B), x.dtype)
        gh = gh_t.T  # (W h^T)^T: BLAS runs this orientation faster for a small batch
        tmp = xp.empty((B, H), x.dtype)
        h = h0
        for k in range(T):
            t = T - 1 - k if reverse else k
            xp.matmul(w_hh_s, h.T, out=gh_t)
            if b_hh_s is not None:
                gh += b_hh_s
            g = rz[t]
            xp.add(gx[t, :, :2 * H], gh[:, :2 * H], out=g)
            xp.tanh(g, out=g)
            g *= scale
            g += offset
            ghn[t] = gh[:, 2 * H:]
            n = ns[t]
            xp.multiply(g[:, :H], gh[:, 2 * H:], out=n)
            n += gx[t, :, 2 * H:]
            xp.tanh(n, out=n)
            xp.subtract(h, n, out=tmp)
            tmp *= g[:, H:]
            xp.add(n, tmp, out=out[t])
            h = out[t]
        self.x, self.w_ih, self.w_hh, self.h0 = x, w_ih, w_hh, h0
        self.rz, self.ns, self.ghn, self.out, self.reverse = rz, ns, ghn, out, reverse
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        rz, ns, ghn, out, reverse = self.rz, self.ns, self.ghn, self.out, self.reverse
        T, B, H = ns.shape
        r, z = rz[:, :, :H], rz[:, :, H:]
        prev = _previous(xp, self.h0, out, reverse)
        dn_dh = (1 - z) * (1 - ns * ns)  # d(n pre-activation) per unit of dh
        dz_dh = (prev - ns) * z * (1 - z)  # d(z pre-activation) per unit of dh
        dr_dn = ghn * r * (1 - r)  # d(r pre-activation) per unit of d(n pre-activation)
        dgx = xp.empty((T, B, 3 * H), grad.dtype)
        dgh = xp.empty((T, B, 3 * H), grad.dtype)
        w_hh = self.w_hh
        dh_rec = None
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            dh = grad[t] if dh_rec is None else grad[t] + dh_rec
            dn = dgx[t, :, 2 * H:]
            xp.multiply(dh, dn_dh[t], out=dn)
            xp.multiply(dn, dr_dn[t], out=dgh[t, :, :H])
            xp.multiply(dh, dz_dh[t], out=dgh[t, :, H:2 * H])
            xp.multiply(dn, r[t], out=dgh[t, :, 2 * H:])
            dh_rec = dgh[t] @ w_hh
            dh_rec += dh * z[t]
        dgx[:, :, :2 * H] = dgh[:, :, :2 * H]
        grads = _sequence_grads(self, dgx, dgh, lambda: prev)
        return (*grads, dh_rec if _needs(self, 5) else None)


class RNNSequence(Function):
    """Elman RNN layer: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act tanh or relu."""

    saves_output = True

    def forward(self, x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
        xp = get_array_module(x)
        T = x.shape[0]
        out = _project(x, w_ih, b_ih, b_hh)  # pre-activations, overwritten by states
        tmp_t = xp.empty(out.shape[:0:-1], x.dtype)
        h = h0
        for k in range(T):
            t = T - 1 - k if reverse else k
            xp.matmul(w_hh, h.T, out=tmp_t)  # (W h^T)^T, as in LSTMSequence
            o = out[t]
            o += tmp_t.T
            if nonlinearity == "tanh":
                xp.tanh(o, out=o)
            else:
                xp.maximum(o, 0, out=o)
            h = o
        self.x, self.w_ih, self.w_hh, self.h0 = x, w_ih, w_hh, h0
        self.out, self.nonlinearity, self.reverse = out, nonlinearity, reverse
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        out, reverse = self.out, self.reverse
        T = out.shape[0]
        deriv = 1 - out * out if self.nonlinearity == "tanh" else (out > 0).astype(out.dtype)
        dz = xp.empty_like(out)
        w_hh = self.w_hh
        dh_rec = None
        for k in range(T - 1, -1, -1):
            t = T - 1 - k if reverse else k
            dh = grad[t] if dh_rec is None else grad[t] + dh_rec
            xp.multiply(dh, deriv[t], out=dz[t])
            dh_rec = dz[t] @ w_hh
        grads = _sequence_grads(self, dz, dz, lambda: _previous(xp, self.h0, out, reverse))
        return (*grads, dh_rec if _needs(self, 5) else None)


def lstm_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    """One LSTM layer over time-major ``x (T, B, I)``; returns ``(T + 1, B, H)``: the
    hidden state of every step, then the final cell state."""
    return LSTMSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=reverse)


def gru_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    """One GRU layer over time-major ``x (T, B, I)``; returns the states ``(T, B, H)``."""
    return GRUSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=reverse)


def rnn_sequence(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
    """One Elman RNN layer over time-major ``x (T, B, I)``; returns the states ``(T, B, H)``."""
    return RNNSequence.apply(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity=nonlinearity,
                             reverse=reverse)


# --- NumPy float64 references (one step at a time, the textbook equations) --------------

def _sig(a):
    return 1 / (1 + np.exp(-a))


def _ref_lstm(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    H = w_hh.shape[1]
    h, c, hs = h0, c0, [None] * len(x)
    for t in (reversed(range(len(x))) if reverse else range(len(x))):
        g = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = (g[:, k * H:(k + 1) * H] for k in range(4))
        c = _sig(f) * c + _sig(i) * np.tanh(gg)
        h = hs[t] = _sig(o) * np.tanh(c)
    return np.concatenate([np.stack(hs), c[None]])


def _ref_gru(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    H = w_hh.shape[1]
    h, hs = h0, [None] * len(x)
    for t in (reversed(range(len(x))) if reverse else range(len(x))):
        gx, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = _sig(gx[:, :H] + gh[:, :H])
        z = _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        h = hs[t] = (1 - z) * n + z * h
    return np.stack(hs)


def _ref_rnn(x, w_ih, w_hh, b_ih, b_hh, h0, act=np.tanh, reverse=False):
    h, hs = h0, [None] * len(x)
    for t in (reversed(range(len(x))) if reverse else range(len(x))):
        h = hs[t] = act(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
    return np.stack(hs)


def _torch_lstm(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    out, _, c = TORCH._VF.lstm(x.flip(0) if reverse else x, (h0[None], c0[None]),
                               [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)
    return TORCH.cat([out.flip(0) if reverse else out, c])


def _torch_gru(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    out, _ = TORCH._VF.gru(x.flip(0) if reverse else x, h0[None], [w_ih, w_hh, b_ih, b_hh],
                           True, 1, 0.0, False, False, False)
    return out.flip(0) if reverse else out


def _torch_rnn(x, w_ih, w_hh, b_ih, b_hh, h0, relu=False):
    f = TORCH._VF.rnn_relu if relu else TORCH._VF.rnn_tanh
    out, _ = f(x, h0[None], [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)
    return out


def _shapes(T, B, I, H, G):
    return ((T, B, I), (G * H, I), (G * H, H), (G * H,), (G * H,), (B, H))


SPECS = [
    OpSpec("lstm_sequence", lstm_sequence, _ref_lstm, [_shapes(3, 2, 3, 2, 4) + ((2, 2),)],
           _torch_lstm, low=-1.0, high=1.0),
    OpSpec("lstm_sequence_reverse", lambda *a: lstm_sequence(*a, reverse=True),
           lambda *a: _ref_lstm(*a, reverse=True), [_shapes(3, 2, 2, 2, 4) + ((2, 2),)],
           lambda *a: _torch_lstm(*a, reverse=True), low=-1.0, high=1.0),
    OpSpec("gru_sequence", gru_sequence, _ref_gru, [_shapes(3, 2, 3, 2, 3)], _torch_gru,
           low=-1.0, high=1.0),
    OpSpec("gru_sequence_reverse", lambda *a: gru_sequence(*a, reverse=True),
           lambda *a: _ref_gru(*a, reverse=True), [_shapes(3, 2, 2, 2, 3)],
           lambda *a: _torch_gru(*a, reverse=True), low=-1.0, high=1.0),
    OpSpec("rnn_sequence_tanh", rnn_sequence, _ref_rnn, [_shapes(3, 2, 3, 2, 1)], _torch_rnn,
           low=-1.0, high=1.0),
    OpSpec("rnn_sequence_relu", lambda *a: rnn_sequence(*a, nonlinearity="relu", reverse=True),
           lambda *a: _ref_rnn(*a, act=lambda v: np.maximum(v, 0), reverse=True),
           [_shapes(3, 2, 3, 2, 1)], None, low=-1.0, high=1.0),
]
for _spec in SPECS:
    _spec.no_gradgrad = "the fused sequence kernels' backwards run on arrays"
