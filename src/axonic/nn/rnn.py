"""Recurrent layers: ``RNN`` (tanh or relu), ``LSTM``, ``GRU`` and their one-step cells
``RNNCell``, ``LSTMCell``, ``GRUCell``, with PyTorch's parameter names, shapes, gate
orders and default initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

Each layer and direction runs as one fused Function (``axonic.ops.recurrent``): per step
one GEMM on the stacked ``[h; 1; x]`` and the gates; the weight gradients after the loop.
"""

from __future__ import annotations

import math

from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.backend.random import default_generator
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops.creation import empty
from axonic.ops.join import cat, stack
from axonic.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_sizes(name, **sizes):
    for key, v in sizes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{name}: {key} must be a positive integer, got {v!r}")


def _new_param(shape, bound, dtype, device):
    p = Parameter(empty(*shape, dtype=dtype, device=device))
    init.uniform_(p, -bound, bound)
    return p


def _zero_state(x, batch, hidden):
    """A zero initial state as a bare array: the kernel takes it as a constant, so no
    tensor, graph node or indexing op is made for it."""
    return get_array_module(x._data).zeros((batch, hidden), x._data.dtype)


def _check_dtype(module, x, weight):
    if x.dtype != weight.dtype:
        raise module.input_error(
            f"input dtype {x.dtype} does not match the parameters' dtype {weight.dtype}; "
            f"convert one of them (e.g. input.to({weight.dtype.name!s}) or module.double())")


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU``: parameters per layer and
    direction, state checks, layer stacking, dropout between layers."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        _check_sizes(name, input_size=input_size, hidden_size=hidden_size,
                     num_layers=num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1), got {dropout!r}")
        if proj_size:
            raise ValueError(f"{name}: proj_size={proj_size!r} is not supported (only 0)")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        gates = _GATES[mode] * hidden_size
        bound = 1 / math.sqrt(hidden_size)
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for d in range(directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx,
                        _new_param((gates, layer_in), bound, dtype, device))
                setattr(self, "weight_hh" + sfx,
                        _new_param((gates, hidden_size), bound, dtype, device))
                if self.bias:
                    setattr(self, "bias_ih" + sfx, _new_param((gates,), bound, dtype, device))
                    setattr(self, "bias_hh" + sfx, _new_param((gates,), bound, dtype, device))

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """Kept for PyTorch code that calls it; the weights need no re-packing here."""

    @property
    def all_weights(self):
        """``[[w_ih, w_hh, b_ih, b_hh], ...]`` per layer and direction, as in PyTorch."""
        d = 2 if self.bidirectional else 1
        return [[w for w in self._weights(layer, k) if w is not None]
                for layer in range(self.num_layers) for k in range(d)]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        p = self._parameters
        return (p["weight_ih" + sfx], p["weight_hh" + sfx],
                p.get("bias_ih" + sfx), p.get("bias_hh" + sfx))

    def _check_input(self, input):
        if not isinstance(input, Tensor):
            raise self.input_error(f"expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(batch, seq, features)" if self.batch_first else "(seq, batch, features)"
            raise self.input_error(
                f"expected input of shape {layout} or (seq, features) with features="
                f"{self.input_size}, got shape {tuple(input.shape)}")
        if input.shape[0 if input.ndim == 2 or not self.batch_first else 1] == 0:
            raise self.input_error(
                f"expected a sequence length larger than 0, got input shape {tuple(input.shape)}")
        _check_dtype(self, input, self.weight_ih_l0)

    def _check_state(self, state, what, batch, batched):
        directions = 2 if self.bidirectional else 1
        want = (self.num_layers * directions, batch, self.hidden_size)
        if not batched:
            want = (want[0], want[2])
        if not isinstance(state, Tensor) or tuple(state.shape) != want:
            got = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
            raise self.input_error(f"expected {what} of shape {want}, got {got}")
        if not batched:
            state = state.unsqueeze(1)
        return state

    def _initial_states(self, hx, batch, batched, x):
        count = 2 if self.mode == "LSTM" else 1
        if hx is None:  # one zero array for every layer and direction (the kernels copy it)
            return [_zero_state(x, batch, self.hidden_size)] * count
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise self.input_error(
                    f"expected the initial state as a tuple (h_0, c_0), got {type(hx).__name__}")
            return [self._check_state(s, w, batch, batched) for s, w in zip(hx, ("h_0", "c_0"))]
        return [self._check_state(hx, "h_0", batch, batched)]

    def _layers(self, x, states, zero_start, run):
        """Every layer and direction in turn (dropout between layers in training), each by
        ``run(x, weights, initial states, reverse)``; returns the last layer's output and
        the final states stacked ``(layers * directions, B, H)``."""
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                keep = 1 - self.dropout
                mask = default_generator.bernoulli(keep, x.shape, x.dtype, x.device)
                x = x * Tensor(mask / keep, dtype=x.dtype, device=x.device)
            outs = []
            for d in range(directions):
                idx = layer * directions + d
                s0 = [s if zero_start else s[idx] for s in states]
                seq, last = run(x, self._weights(layer, d), s0, d == 1)
                for k, f in enumerate(last):
                    finals[k].append(f)
                outs.append(seq)
            x = outs[0] if directions == 1 else cat(outs, 2)
        # one layer and direction: indexing adds the axis (measured 2.4 us, stack 8.8)
        return x, [f[0][None] if len(f) == 1 else stack(f) for f in finals]

    def _run(self, x, w, s0, reverse):
        """One layer and direction over ``x`` from states ``s0``: ``(seq, [h_last, c_last])``."""
        T = x.shape[0]
        if self.mode == "LSTM":
            packed = lstm_sequence(x, *w, *s0, reverse=reverse)
            seq, extra = packed[:T], [packed[T]]
        elif self.mode == "GRU":
            seq, extra = gru_sequence(x, *w, *s0, reverse=reverse), []
        else:
            seq, extra = rnn_sequence(x, *w, *s0, reverse=reverse, nonlinearity="relu"
                                      if self.mode == "RNN_RELU" else "tanh"), []
        return seq, [seq[0] if reverse else seq[T - 1], *extra]

    def forward(self, input, hx=None):
        from axonic.nn.utils.rnn import PackedSequence

        if isinstance(input, PackedSequence):
            from axonic.nn.rnn_packed import forward_packed

            return forward_packed(self, input, hx)
        self._check_input(input)
        batched = input.ndim == 3
        if not batched:
            x = input.unsqueeze(1)
        elif self.batch_first:
            x = input.transpose(0, 1)
        else:
            x = input
        batch = x.shape[1]
        states = self._initial_states(hx, batch, batched, x)
        output, finals = self._layers(x, states, hx is None, self._run)
        if not batched:
            output = output.squeeze(1)
            finals = [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act tanh or relu.

    >>> import axonic
    >>> rnn = RNN(10, 20, num_layers=2)
    >>> out, h_n = rnn(axonic.randn(5, 3, 10))
    >>> out.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory, gates in PyTorch's order i, f, g, o. Returns
    ``(output, (h_n, c_n))``.

    >>> import axonic
    >>> lstm = LSTM(10, 20, batch_first=True, bidirectional=True)
    >>> out, (h_n, c_n) = lstm(axonic.randn(3, 5, 10))
    >>> out.shape, h_n.shape, c_n.shape
    ((3, 5, 40), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates in PyTorch's order r, z, n with
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    >>> import axonic
    >>> gru = GRU(10, 20)
    >>> out, h_n = gru(axonic.randn(5, 10))  # unbatched: (seq, features)
    >>> out.shape, h_n.shape
    ((5, 20), (1, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# --- cells: one time step ------------------------------------------------------------------

class RNNCellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size=input_size, hidden_size=hidden_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bool(bias)
        gates = _GATES[mode] * hidden_size
        bound = 1 / math.sqrt(hidden_size)
        self.weight_ih = _new_param((gates, input_size), bound, dtype, device)
        self.weight_hh = _new_param((gates, hidden_size), bound, dtype, device)
        if self.bias:
            self.bias_ih = _new_param((gates,), bound, dtype, device)
            self.bias_hh = _new_param((gates,), bound, dtype, device)
        else:
            self.bias_ih = self.bias_hh = None

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s

    def _state(self, s, what, batch, batched):
        want = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if not isinstance(s, Tensor) or tuple(s.shape) != want:
            got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
            raise self.input_error(f"expected {what} of shape {want}, got {got}")
        return s if batched else s.unsqueeze(0)

    def forward(self, input, hx=None):
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) \
                or input.shape[-1] != self.input_size:
            got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise self.input_error(
                f"expected input of shape (batch, {self.input_size}) or ({self.input_size},), "
                f"got {got}")
        _check_dtype(self, input, self.weight_ih)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        batch = x.shape[0]
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        x = x.unsqueeze(0)  # a sequence of one step
        if hx is None:
            h = _zero_state(x, batch, self.hidden_size)
            hx = (h, h) if self.mode == "LSTM" else h
        elif self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise self.input_error(
                    f"expected the state as a tuple (h, c), got {type(hx).__name__}")
            hx = tuple(self._state(s, w_, batch, batched) for s, w_ in zip(hx, ("h", "c")))
        else:
            hx = self._state(hx, "hx", batch, batched)
        if self.mode == "LSTM":
            packed = lstm_sequence(x, *w, *hx)
            h, c = packed[0], packed[1]
            return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
        if self.mode == "GRU":
            h = gru_sequence(x, *w, hx)[0]
        else:
            h = rnn_sequence(x, *w, hx,
                             nonlinearity="relu" if self.mode == "RNN_RELU" else "tanh")[0]
        return h if batched else h.squeeze(0)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.

    >>> import axonic
    >>> cell = RNNCell(10, 20)
    >>> cell(axonic.randn(3, 10)).shape
    (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias, device=device, dtype=dtype)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``.

    >>> import axonic
    >>> cell = LSTMCell(10, 20)
    >>> h, c = cell(axonic.randn(3, 10))
    >>> h.shape, c.shape
    ((3, 20), (3, 20))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device=device, dtype=dtype)


class GRUCell(RNNCellBase):
    """One GRU step; returns ``h'``.

    >>> import axonic
    >>> cell = GRUCell(10, 20)
    >>> cell(axonic.randn(10)).shape
    (20,)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device=device, dtype=dtype)
