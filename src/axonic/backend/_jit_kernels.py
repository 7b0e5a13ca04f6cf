"""The numba kernels behind :mod:`axonic.backend.jit` (imported only through it).

Each kernel walks rows of C-contiguous 2-d arrays; outputs are preallocated by the
caller. Row sums are float64 (the literals ``0.0``) and may be reassociated, so LLVM
vectorises them; no other fast-math assumption is made (NaN and infinity behave as in
NumPy).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FAST = {"reassoc", "contract"}


def _jit(fn):
    try:
        return njit(cache=True, nogil=True, fastmath=_FAST)(fn)
    except RuntimeError:  # no writable cache location: compile in every process instead
        return njit(nogil=True, fastmath=_FAST)(fn)


@_jit
def _layer_norm_forward(x, w, b, eps, out, xhat, rstd):
    n, d = x.shape
    for r in range(n):
        row = x[r]
        s = 0.0
        for j in range(d):
            s += row[j]
        mean = s / d
        q = 0.0
        for j in range(d):
            c = row[j] - mean
            q += c * c
        inv = 1.0 / np.sqrt(q / d + eps)
        rstd[r] = inv
        for j in range(d):
            h = (row[j] - mean) * inv
            xhat[r, j] = h
            out[r, j] = h * w[j] + b[j]


@_jit
def _layer_norm_backward(g, xhat, rstd, w, gx, gw, gb):
    n, d = g.shape
    for r in range(n):
        m1 = 0.0
        m2 = 0.0
        for j in range(d):
            gh = g[r, j] * w[j]
            m1 += gh
            m2 += gh * xhat[r, j]
        m1 /= d
        m2 /= d
        inv = rstd[r]
        for j in range(d):
            gx[r, j] = inv * (g[r, j] * w[j] - m1 - xhat[r, j] * m2)
            gw[j] += g[r, j] * xhat[r, j]
            gb[j] += g[r, j]


def layer_norm_forward(x, w, b, eps):
    """``(out, xhat, rstd)`` of a LayerNorm over the last axis of 2-d ``x`` (``w``, ``b``
    vectors of its width): ``xhat = (x - mean) / sqrt(var + eps)``, ``out = xhat*w + b``."""
    out, xhat = np.empty_like(x), np.empty_like(x)
    rstd = np.empty(x.shape[0], x.dtype)
    _layer_norm_forward(x, w, b, x.dtype.type(eps), out, xhat, rstd)
    return out, xhat, rstd


def layer_norm_backward(g, xhat, rstd, w):
    """``(gx, gw, gb)``: the gradients of ``layer_norm_forward`` given ``g`` (2-d)."""
    gx = np.empty_like(g)
    gw, gb = np.zeros(g.shape[1], np.float64), np.zeros(g.shape[1], np.float64)
    _layer_norm_backward(g, xhat, rstd, w, gx, gw, gb)
    return gx, gw.astype(g.dtype), gb.astype(g.dtype)


@_jit
def lstm_backward_step(g_out, dh_rec, acts, tc, dc, dz):
    """One step of an LSTM's backward through time, gate arithmetic only (the layout of
    ``axonic.ops.recurrent_lstm``): ``acts`` rows ``[c, g, f, i, o]`` (the step's starting
    cell state and its activated gates), ``tc = tanh(c')``; ``dh = g_out + dh_rec``; ``dc``
    (the cell gradient from the next step) becomes this step's; ``dz`` rows ``[g, f, i,
    o]`` receive the pre-activation gradients. Every array is C-contiguous, so each
    ``(H, B)`` block is walked as one flat run (one long loop LLVM vectorises)."""
    n = dc.size
    go, dr, a, t_, c_, z = g_out.ravel(), dh_rec.ravel(), acts.ravel(), tc.ravel(), \
        dc.ravel(), dz.ravel()
    for j in range(n):
        dh = go[j] + dr[j]
        t = t_[j]
        c, g, f, i, o = a[j], a[n + j], a[2 * n + j], a[3 * n + j], a[4 * n + j]
        d = c_[j] + (1 - t * t) * o * dh
        z[j] = d * i * (1 - g * g)
        z[n + j] = c * d * (f * (1 - f))
        z[2 * n + j] = g * d * (i * (1 - i))
        z[3 * n + j] = dh * t * (o * (1 - o))
        c_[j] = d * f


@_jit
def lstm_forward_gates(acts, c_next):
    """One step of an LSTM's forward after its gates went through ``tanh`` (the layout of
    ``axonic.ops.recurrent_lstm``): ``acts`` rows ``[c, g, f, i, o]`` hold the cell state
    and ``tanh`` of the gates, the sigmoid gates' pre-activations halved, so
    ``sigmoid = 0.5 * tanh + 0.5`` is written back for them; ``c_next = f * c + i * g``."""
    n = c_next.size
    a, cn = acts.ravel(), c_next.ravel()
    for j in range(n):
        f = 0.5 * a[2 * n + j] + 0.5
        i = 0.5 * a[3 * n + j] + 0.5
        a[2 * n + j] = f
        a[3 * n + j] = i
        a[4 * n + j] = 0.5 * a[4 * n + j] + 0.5
        cn[j] = f * a[j] + i * a[n + j]


@_jit
def _shift_by_row_max(x, out):
    n, d = x.shape
    for r in range(n):
        m = x[r, 0]
        for j in range(1, d):
            v = x[r, j]
            if v > m or v != v:  # a NaN is the maximum, as in NumPy's max
                m = v
        for j in range(d):
            out[r, j] = x[r, j] - m


@_jit
def _divide_by_row_sum(e):
    n, d = e.shape
    for r in range(n):
        s = 0.0
        for j in range(d):
            s += e[r, j]
        for j in range(d):
            e[r, j] = e[r, j] / s


@_jit
def _softmax_backward(g, y, out):
    n, d = g.shape
    for r in range(n):
        s = 0.0
        for j in range(d):
            s += g[r, j] * y[r, j]
        for j in range(d):
            out[r, j] = y[r, j] * (g[r, j] - s)


def softmax_rows(x):
    """Softmax of each row of 2-d ``x``: the row maximum subtracted in one loop, NumPy's
    vectorised ``exp``, then each row divided by its sum in another."""
    out = np.empty_like(x)
    _shift_by_row_max(x, out)
    np.exp(out, out=out)
    _divide_by_row_sum(out)
    return out


def softmax_rows_backward(g, y):
    """The gradient of ``softmax_rows`` with output ``y``: ``y * (g - sum(g * y))``."""
    out = np.empty_like(g)
    _softmax_backward(g, y, out)
    return out


@_jit
def _relu_backward(g, out, dx):
    a, o, d = g.ravel(), out.ravel(), dx.ravel()
    for j in range(a.size):
        d[j] = a[j] * (1.0 if o[j] > 0 else 0.0)


def relu_backward(g, out):
    """``g * (out > 0)`` in one pass (NumPy's form: a bool array, then a product), the
    same values: a NaN or infinite gradient times zero is still NaN, as there."""
    dx = np.empty_like(g)
    _relu_backward(g, out, dx)
    return dx

