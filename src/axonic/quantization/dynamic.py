"""Dynamic quantisation: int8 weights stored once, activations quantised per batch from
their own range, results back in float. No calibration. ``quantize_dynamic`` swaps
``Linear`` and ``LSTM`` for ``DynamicLinear``/``DynamicLSTM`` (int8), or stores Linear
weights as float16 or bfloat16.

>>> import axonic
>>> from axonic import nn
>>> q = quantize_dynamic(nn.Sequential(nn.Linear(4, 3)), {nn.Linear}, dtype=axonic.qint8)
>>> type(q[0]).__name__, q(axonic.ones(2, 4)).shape
('DynamicLinear', (2, 3))
"""

from __future__ import annotations

import copy

import numpy as np

from axonic.autograd.tensor import _make, tensor
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.rnn import LSTM
from axonic.quantization import kernels
from axonic.quantization.observer import choose_qparams_dynamic, values
from axonic.quantization.qconfig import (
    bfloat16_dynamic_qconfig,
    float16_dynamic_qconfig,
    per_channel_dynamic_qconfig,
)
from axonic.quantization.qtypes import QDtype, bfloat16, qint8, quantize_array, quint8


def _weights(qconfig, w: np.ndarray):
    obs = qconfig.weight()
    obs(w)
    scale, zp = obs.calculate_qparams()
    rows = w.shape[0]
    scale = np.broadcast_to(scale, (rows,)).astype(np.float32)
    zp = np.broadcast_to(zp, (rows,)).astype(np.int64)
    d = obs.dtype
    return quantize_array(w, scale, zp, d.quant_min, d.quant_max, d.storage, 0), scale, zp


class _DynamicWeights:
    """One int8 weight matrix (rows = outputs) and its float GEMM form."""

    def __init__(self, ints, scale, zp):
        self.scale = scale
        w = ints.astype(np.float32) - zp[:, None].astype(np.float32)
        self.w_t = np.ascontiguousarray(w.T)
        self.bound = int(np.abs(w).max(initial=1))

    def __call__(self, x: np.ndarray, reduce_range: bool) -> np.ndarray:
        """``x @ W.T`` with ``x`` quantised to uint8 from its own range (per call)."""
        qmax = 127 if reduce_range else 255
        sx, zx = choose_qparams_dynamic(x, 0, qmax)
        xq = quantize_array(x, sx, zx, 0, qmax, np.uint8)
        acc = kernels.qlinear_acc(xq, zx, max(zx, qmax - zx), self.w_t, self.bound)
        return acc.astype(np.float32) * (sx * self.scale)


class DynamicLinear(Module):
    """``Linear`` with int8 weights (per output channel by default) and per-batch uint8
    activations (7-bit ``reduce_range`` as on x86); or float16/bfloat16 weights."""

    def __init__(self, in_features, out_features, weight, weight_scale=None,
                 weight_zero_point=None, bias=None, dtype=qint8, reduce_range=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.dtype, self.reduce_range = dtype, reduce_range
        self.register_buffer("weight", _make(weight))
        if isinstance(dtype, QDtype):
            self.register_buffer("weight_scale", _make(np.asarray(weight_scale, np.float32)))
            self.register_buffer("weight_zero_point",
                                 _make(np.asarray(weight_zero_point, np.int64)))
        self.register_buffer("bias", None if bias is None else _make(
            np.array(bias, np.float32)))
        self._cache = None

    @classmethod
    def from_float(cls, mod, qconfig):
        w = values(mod.weight)
        bias = None if mod.bias is None else values(mod.bias)
        kind = qconfig.weight().dtype
        if kind == "float16":
            return cls(mod.in_features, mod.out_features, w.astype(np.float16), bias=bias,
                       dtype="float16")
        if kind == "bfloat16":  # bfloat16 bits kept as int16 (the file formats know int16)
            bits = w.astype(bfloat16()).view(np.int16)
            return cls(mod.in_features, mod.out_features, bits, bias=bias, dtype="bfloat16")
        ints, scale, zp = _weights(qconfig, w)
        return cls(mod.in_features, mod.out_features, ints, scale, zp, bias, dtype=qint8)

    def weight_float(self) -> np.ndarray:
        """The weights as float32, as the layer uses them."""
        w = self.weight._data
        if self.dtype == "float16":
            return w.astype(np.float32)
        if self.dtype == "bfloat16":
            return w.view(bfloat16()).astype(np.float32)
        return ((w.astype(np.float32) - self.weight_zero_point._data[:, None])
                * self.weight_scale._data[:, None]).astype(np.float32)

    def _kernel(self):
        version = self.weight._vc[0]
        if self._cache is None or self._cache[0] != version:
            if isinstance(self.dtype, QDtype):
                k = _DynamicWeights(self.weight._data, self.weight_scale._data,
                                    self.weight_zero_point._data)
            else:
                k = np.ascontiguousarray(self.weight_float().T)
            self._cache = (version, k)
        return self._cache[1]

    def forward(self, input):
        x = values(input)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise self.input_error(f"expected input with last dimension {self.in_features}, "
                                   f"got shape {tuple(x.shape)}")
        k = self._kernel()
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        y = k(x2, self.reduce_range) if isinstance(k, _DynamicWeights) else x2 @ k
        if self.bias is not None:
            y = y + self.bias._data
        return tensor(y.reshape(*lead, self.out_features).astype(np.float32))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={self.dtype!r}")


class DynamicLSTM(Module):
    """``LSTM`` whose weight matrices are int8; the input sequence of a layer and each
    step's hidden state are quantised from their own ranges (as PyTorch's dynamic LSTM).
    Gate order i, f, g, o."""

    def __init__(self, lstm, qconfig):
        super().__init__()
        for k in ("input_size", "hidden_size", "num_layers", "batch_first", "bidirectional"):
            setattr(self, k, getattr(lstm, k))
        self.reduce_range = True
        self._cells = []
        for name, p in lstm.named_parameters():
            if name.startswith("weight"):
                ints, scale, zp = _weights(qconfig, values(p))
                self.register_buffer(name, _make(ints))
                self.register_buffer(name + "_scale", _make(scale))
                self.register_buffer(name + "_zero_point", _make(zp))
            else:
                self.register_buffer(name, _make(values(p).copy()))
        self._kernels = None

    def _layer_kernels(self):
        version = tuple(b._vc[0] for b in self._buffers.values())  # new after load_state_dict
        if self._kernels is None or self._kernels[0] != version:
            self._kernels = (version, {})
            for name, buf in self._buffers.items():
                if name.startswith("weight") and not name.endswith(("_scale", "_zero_point")):
                    self._kernels[1][name] = _DynamicWeights(
                        buf._data, self._buffers[name + "_scale"]._data,
                        self._buffers[name + "_zero_point"]._data)
        return self._kernels[1]

    def _direction(self, xs, sfx, h, c):
        k, rr = self._layer_kernels(), self.reduce_range
        b = np.zeros(4 * self.hidden_size, np.float32)
        for part in ("bias_ih", "bias_hh"):
            if part + sfx in self._buffers:
                b = b + self._buffers[part + sfx]._data
        # the input projection of the whole sequence at once (one activation range), as
        # PyTorch's; the recurrent one per step
        seq = np.stack(xs)
        pre = k["weight_ih" + sfx](seq.reshape(-1, seq.shape[-1]), rr).reshape(
            len(xs), seq.shape[1], -1) + b
        outs = []
        for p in pre:
            gates = p + k["weight_hh" + sfx](h, rr)
            i, f, g, o = np.split(gates, 4, axis=1)
            sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = (sig(o) * np.tanh(c)).astype(np.float32)
            outs.append(h)
        return outs, h, c

    def forward(self, input, hx=None):
        x = values(input)
        batched = x.ndim == 3
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise self.input_error(f"expected input (L, N, {self.input_size}) (or batch_first,"
                                   f" or unbatched), got shape {tuple(x.shape)}")
        if not batched:
            x = x[:, None]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        dirs = 2 if self.bidirectional else 1
        n, hs = x.shape[1], self.hidden_size
        if hx is None:
            h0 = np.zeros((self.num_layers * dirs, n, hs), np.float32)
            c0 = h0
        else:
            h0, c0 = (values(s).reshape(self.num_layers * dirs, n, hs) for s in hx)
        seq, hn, cn = list(x), [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                steps = seq[::-1] if d else seq
                o, h, c = self._direction(steps, sfx, h0[layer * dirs + d], c0[layer * dirs + d])
                outs.append(o[::-1] if d else o)
                hn.append(h)
                cn.append(c)
            seq = [np.concatenate(s, axis=1) for s in zip(*outs)]
        out = np.stack(seq)
        out = out.transpose(1, 0, 2) if batched and self.batch_first else out
        out = out if batched else out[:, 0]
        hn, cn = np.stack(hn), np.stack(cn).astype(np.float32)
        if not batched:
            hn, cn = hn[:, 0], cn[:, 0]
        return tensor(out), (tensor(hn), tensor(cn))


def _qconfig_for(dtype):
    if dtype in (qint8, "qint8"):
        return per_channel_dynamic_qconfig
    name = getattr(dtype, "name", dtype)
    if name in ("float16", "half"):
        return float16_dynamic_qconfig
    if name == "bfloat16":
        bfloat16()  # a clear ImportError now if ml_dtypes is missing
        return bfloat16_dynamic_qconfig
    raise ValueError(f"quantize_dynamic: dtype must be axonic.qint8, axonic.float16 or "
                     f"axonic.bfloat16, got {dtype!r}")


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """Swap the module types in ``qconfig_spec`` (a set of types, or a dict of type or
    dotted name -> QConfig; default ``{Linear, LSTM}``) for dynamically quantised ones.
    ``dtype=axonic.qint8`` gives per output channel int8 weights."""
    if not isinstance(model, Module):
        raise TypeError(f"quantize_dynamic: expected an axonic.nn.Module, got "
                        f"{type(model).__name__}")
    if dtype == quint8:
        raise ValueError("quantize_dynamic: dtype must be axonic.qint8, axonic.float16 or "
                         "axonic.bfloat16, got axonic.quint8 (activations are uint8, weights "
                         "int8)")
    default = _qconfig_for(dtype)
    spec = qconfig_spec if qconfig_spec is not None else {Linear, LSTM}
    if not isinstance(spec, dict):
        spec = {k: default for k in spec}
    if not inplace:
        model = copy.deepcopy(model)

    def swapped(child, path):
        qc = spec.get(path, spec.get(type(child)))
        if qc is not None and isinstance(child, Linear):
            return DynamicLinear.from_float(child, qc)
        if qc is not None and isinstance(child, LSTM):
            if qc.weight().dtype != qint8:
                raise ValueError(f"quantize_dynamic: {path or 'the model'} (LSTM) supports "
                                 f"dtype axonic.qint8 only, got {qc.weight().dtype!r}")
            return DynamicLSTM(child, qc)
        return None

    def visit(m, prefix):
        for name, child in list(m.named_children()):
            path = f"{prefix}.{name}" if prefix else name
            new = swapped(child, path)
            if new is not None:
                setattr(m, name, new)
            else:
                visit(child, path)

    root = swapped(model, "")
    if root is not None:
        return root
    visit(model, "")
    return model
