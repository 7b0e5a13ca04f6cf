"""ONNX LSTM, GRU and RNN, step by step from axonic ops (so every attribute works:
directions, layouts, sequence_lens, clip, peepholes, activations, linear_before_reset)."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, to_value

_NEEDS = {"Affine": 2, "LeakyRelu": 1, "ThresholdedRelu": 1, "ScaledTanh": 2,
          "HardSigmoid": 2, "Elu": 1}


def _activation(name, alpha, beta, ctx):
    fns = {
        "Sigmoid": axonic.sigmoid, "Tanh": axonic.tanh, "Relu": F.relu,
        "Affine": lambda x: alpha * x + beta,
        "LeakyRelu": lambda x: F.leaky_relu(x, alpha),
        "ThresholdedRelu": lambda x: x * (x > alpha).to(x.dtype),
        "ScaledTanh": lambda x: alpha * axonic.tanh(beta * x),
        "HardSigmoid": lambda x: axonic.clamp(alpha * x + beta, 0.0, 1.0),
        "Elu": lambda x: F.elu(x, alpha),
        "Softsign": lambda x: x / (1 + axonic.abs(x)),
        "Softplus": lambda x: axonic.log(1 + axonic.exp(x)),
    }
    if name not in fns:
        raise NotImplementedError(f"ONNX import: {ctx}: activation {name!r} is not supported; "
                                  f"expected one of {sorted(fns)}")
    return fns[name]


def _activations(attrs, defaults, n_dir, ctx):
    names = attrs.get("activations") or defaults * n_dir
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    out = []
    for name in names:
        k = _NEEDS.get(name, 0)
        a = alphas.pop(0) if k >= 1 and alphas else {"LeakyRelu": 0.01, "HardSigmoid": 0.2,
                                                        "Elu": 1.0}.get(name, 1.0)
        b = betas.pop(0) if k >= 2 and betas else (0.5 if name == "HardSigmoid" else 0.0)
        out.append(_activation(name, a, b, ctx))
    per = len(defaults)
    return [out[i * per:(i + 1) * per] for i in range(n_dir)]


class _Seq:
    """The parts of an ONNX recurrent node shared by the three cells."""

    def __init__(self, inputs, attrs, gates, ctx):
        opt = list(inputs) + [None] * (8 - len(inputs))
        self.x, self.w, self.r, self.b, lens, self.h0 = opt[:6]
        self.rest = opt[6:]
        self.layout = attrs.get("layout", 0)
        if self.layout:
            self.x = self.x.permute(1, 0, 2)
        self.T, self.B = self.x.shape[:2]
        self.H = attrs.get("hidden_size") or self.r.shape[-1]
        self.G = gates
        self.clip = attrs.get("clip")
        direction = attrs.get("direction", "forward")
        self.n_dir = 2 if direction == "bidirectional" else 1
        self.reverse = [False, True] if self.n_dir == 2 else [direction == "reverse"]
        self.lens = None if lens is None else np.asarray(arr(lens)).astype(np.int64)

    def zeros(self):
        return to_value(np.zeros((self.B, self.H), dtype=arr(self.x).dtype))

    def state(self, v, d):
        return self.zeros() if v is None else v[d]

    def inputs_proj(self, d):
        # all steps' input projections in one matmul: (T, B, G*H)
        y = axonic.matmul(self.x, self.w[d].transpose(0, 1))
        if self.b is not None:
            gh = self.G * self.H
            y = y + self.b[d][:gh]
        return y

    def rec_bias(self, d):
        gh = self.G * self.H
        return None if self.b is None else self.b[d][gh:]

    def cut(self, z):
        return axonic.clamp(z, -self.clip, self.clip) if self.clip else z

    def steps(self, d):
        return range(self.T - 1, -1, -1) if self.reverse[d] else range(self.T)

    def mask(self, t):
        if self.lens is None:
            return None
        return to_value((t < self.lens).astype(arr(self.x).dtype).reshape(self.B, 1))

    def run(self, step, states):
        """Run ``step(d, t, x_proj_t, *states) -> new states`` per direction; returns Y and
        the final states stacked over directions."""
        ys, finals = [], []
        for d in range(self.n_dir):
            xp = self.inputs_proj(d)
            st = [s(d) for s in states]
            out = [None] * self.T
            for t in self.steps(d):
                new = step(d, xp[t], *st)
                m = self.mask(t)
                if m is not None:
                    new = [n * m + s * (1 - m) for n, s in zip(new, st)]
                    out[t] = new[0] * m
                else:
                    out[t] = new[0]
                st = new
            ys.append(axonic.stack(out, 0) if out else None)
            finals.append(st)
        y = axonic.stack(ys, 1)  # (T, dirs, B, H)
        if self.layout:
            y = y.permute(2, 0, 1, 3)
        last = [axonic.stack([f[i] for f in finals], 0) for i in range(len(states))]
        if self.layout:
            last = [s.permute(1, 0, 2) for s in last]
        return (y, *last)


@onnx_op("LSTM")
def lstm(inputs, attrs, ctx):
    s = _Seq(inputs, attrs, 4, ctx)
    if s.layout and s.h0 is not None:
        s.h0 = s.h0.permute(1, 0, 2)
    c0, p = s.rest
    if s.layout and c0 is not None:
        c0 = c0.permute(1, 0, 2)
    acts = _activations(attrs, ["Sigmoid", "Tanh", "Tanh"], s.n_dir, ctx)
    H = s.H

    def step(d, xp, h, c):
        f, g, act_h = acts[d]
        z = xp + axonic.matmul(h, s.r[d].transpose(0, 1))
        rb = s.rec_bias(d)
        if rb is not None:
            z = z + rb
        zi, zo, zf, zc = (z[:, k * H:(k + 1) * H] for k in range(4))
        if p is not None:
            zi = zi + p[d][:H] * c
            zf = zf + p[d][2 * H:] * c
        i = f(s.cut(zi))
        ff = 1 - i if attrs.get("input_forget", 0) else f(s.cut(zf))
        c_new = ff * c + i * g(s.cut(zc))
        if p is not None:
            zo = zo + p[d][H:2 * H] * c_new
        o = f(s.cut(zo))
        return [o * act_h(c_new), c_new]

    y, h, c = s.run(step, [lambda d: s.state(s.h0, d), lambda d: s.state(c0, d)])
    return y, h, c


@onnx_op("GRU")
def gru(inputs, attrs, ctx):
    s = _Seq(inputs, attrs, 3, ctx)
    if s.layout and s.h0 is not None:
        s.h0 = s.h0.permute(1, 0, 2)
    acts = _activations(attrs, ["Sigmoid", "Tanh"], s.n_dir, ctx)
    H = s.H
    before = attrs.get("linear_before_reset", 0)

    def step(d, xp, h):
        f, g = acts[d]
        rd = s.r[d]
        rb = s.rec_bias(d)
        hr = axonic.matmul(h, rd[:2 * H].transpose(0, 1))
        if rb is not None:
            hr = hr + rb[:2 * H]
        z = f(s.cut(xp[:, :H] + hr[:, :H]))
        r = f(s.cut(xp[:, H:2 * H] + hr[:, H:]))
        if before:
            hh = axonic.matmul(h, rd[2 * H:].transpose(0, 1))
            if rb is not None:
                hh = hh + rb[2 * H:]
            n = g(s.cut(xp[:, 2 * H:] + r * hh))
        else:
            hh = axonic.matmul(r * h, rd[2 * H:].transpose(0, 1))
            if rb is not None:
                hh = hh + rb[2 * H:]
            n = g(s.cut(xp[:, 2 * H:] + hh))
        return [(1 - z) * n + z * h]

    y, h = s.run(step, [lambda d: s.state(s.h0, d)])
    return y, h


@onnx_op("RNN")
def rnn(inputs, attrs, ctx):
    s = _Seq(inputs, attrs, 1, ctx)
    if s.layout and s.h0 is not None:
        s.h0 = s.h0.permute(1, 0, 2)
    acts = _activations(attrs, ["Tanh"], s.n_dir, ctx)

    def step(d, xp, h):
        z = xp + axonic.matmul(h, s.r[d].transpose(0, 1))
        rb = s.rec_bias(d)
        if rb is not None:
            z = z + rb
        return [acts[d][0](s.cut(z))]

    y, h = s.run(step, [lambda d: s.state(s.h0, d)])
    return y, h
