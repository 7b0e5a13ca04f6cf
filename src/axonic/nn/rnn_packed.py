"""The recurrent layers on a ``PackedSequence`` (``nn.utils.rnn``): the batch unpacked in
its sorted order, each layer and direction run over the runs of steps during which the same
sequences are still running (one fused call each), the output packed again and the final
states put back in the caller's order.
"""

from __future__ import annotations

from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.nn.rnn import _check_dtype
from axonic.nn.utils.rnn import chunks, packed_output, pad_packed_sequence
from axonic.ops.join import cat


def run_packed(layer, x, w, s0, reverse, runs):
    """``layer._run`` over a padded batch sorted by decreasing length: each run of steps with
    the same active sequences is one fused call, so every sequence starts (reverse: at
    its own last step) and ends where it should; padded steps stay zero."""
    B = x.shape[1]
    xp = get_array_module(x._data)
    s0 = [s if isinstance(s, Tensor) else Tensor(s) for s in s0]
    pieces, done, state, active = [], [], None, 0

    def widen(seq, n):  # a run's output, zero for the sequences not running
        if n == B:
            return seq
        zeros = Tensor(xp.zeros((seq.shape[0], B - n, seq.shape[2]), x._data.dtype))
        return cat([seq, zeros], 1)

    if not reverse:
        state, active = [s[:B] for s in s0], B
        for t0, t1, n in runs:
            if n < active:  # sequences n..active ended at the previous step
                done.append([s[n:active] for s in state])
                state = [s[:n] for s in state]
            seq, state = layer._run(x[t0:t1, :n], w, state, False)
            pieces.append(widen(seq, n))
            active = n
        finals = [cat([s, *(d[k] for d in reversed(done))], 0) if done else s
                  for k, s in enumerate(state)]
        return cat(pieces, 0), finals
    for t0, t1, n in reversed(runs):  # the longest sequences start first
        start = ([cat([s, s0[k][active:n]], 0) for k, s in enumerate(state)]
                 if state is not None and n > active else
                 state if state is not None else [s[:n] for s in s0])
        seq, state = layer._run(x[t0:t1, :n], w, start, True)
        pieces.append(widen(seq, n))
        active = n
    return cat(pieces[::-1], 0), state


def forward_packed(layer, input, hx):
    """``layer(input, hx)`` for a PackedSequence ``input``: ``(PackedSequence, h_n)``
    (``(h_n, c_n)`` for an LSTM), the states in the caller's batch order."""
    data = input.data
    if data.ndim != 2 or data.shape[-1] != layer.input_size:
        raise layer.input_error(f"expected a PackedSequence of data (steps, features) with "
                                f"features={layer.input_size}, got {tuple(data.shape)}")
    _check_dtype(layer, data, layer.weight_ih_l0)
    order = input.sorted_indices
    x, _ = pad_packed_sequence(type(input)(data, input.batch_sizes))  # sorted order
    batch = x.shape[1]
    if hx is not None and order is not None:  # the caller's order -> the sorted one
        idx = order._data
        hx = (tuple(h[:, idx] if isinstance(h, Tensor) and h.ndim == 3 else h for h in hx)
              if isinstance(hx, tuple | list) else
              hx[:, idx] if isinstance(hx, Tensor) and hx.ndim == 3 else hx)
    states = layer._initial_states(hx, batch, True, x)
    runs = chunks(input.batch_sizes)
    x, finals = layer._layers(x, states, hx is None, lambda *a: run_packed(layer, *a, runs))
    if input.unsorted_indices is not None:  # back to the caller's order
        finals = [f[:, input.unsorted_indices._data] for f in finals]
    output = packed_output(x, input)
    return output, (tuple(finals) if layer.mode == "LSTM" else finals[0])
