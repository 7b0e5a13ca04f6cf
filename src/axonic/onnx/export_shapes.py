"""Shape work shared by several ops' ``to_onnx``: basic indexing as Slice/Squeeze/Unsqueeze
(bounds on a dynamic axis counted from its end), and the fused recurrent layers as ONNX's
LSTM/GRU/RNN (gate rows reordered: ONNX's LSTM is i, o, f, c where PyTorch's is i, f, g, o;
its GRU is z, r, h where PyTorch's is r, z, n, with ``linear_before_reset=1``).

>>> from axonic.onnx.export_graph import OnnxGraph
>>> g = OnnxGraph()
>>> basic_index(g, "x", (slice(1, 3), 0), (4, 5), (slice(1, 3), 0), (4, 5))
'Squeeze_0'
"""

from __future__ import annotations

import numpy as np

_END = np.iinfo(np.int64).max
_BEGIN = np.iinfo(np.int64).min

# Rows of PyTorch's stacked gate weights, in the order ONNX stacks them.
GATE_ROWS = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}


def _expand(index, ndim) -> list:
    index = list(index) if isinstance(index, tuple) else [index]
    if any(i is Ellipsis for i in index):
        k = next(j for j, i in enumerate(index) if i is Ellipsis)
        used = sum(1 for i in index if i is not None and i is not Ellipsis)
        index[k:k + 1] = [slice(None)] * (ndim - used)
    return index


def basic_index(g, x, index, shape, twin_index, twin_shape) -> str:
    """``x[index]`` for ints, slices, None and ``...``; ``shape`` is x's shape, and the
    ``twin_`` ones the same in the second pass (with the dynamic axes longer)."""
    items, twins = _expand(index, len(shape)), _expand(twin_index, len(shape))
    starts, ends, axes, steps, squeeze, new = [], [], [], [], [], []
    axis = out_pos = 0
    for item, twin in zip(items, twins):
        if item is None:
            new.append(out_pos)
            out_pos += 1
            continue
        size_a, size_b = shape[axis], twin_shape[axis]
        if isinstance(item, slice):
            (a0, a1, st), (b0, b1, _) = item.indices(size_a), twin.indices(size_b)
            if (a0, a1, st) != (0, size_a, 1):
                starts.append(g.bound(a0, b0, size_a, size_b))
                end = g.bound(a1, b1, size_a, size_b)
                ends.append(_END if end == size_a or (end == 0 and a1 == size_a) else
                            _BEGIN if st < 0 and a1 < 0 else end)
                axes.append(axis)
                steps.append(st)
            out_pos += 1
        else:
            i = int(item) % size_a
            j = int(twin) % size_b
            start = g.bound(i, j, size_a, size_b)
            starts.append(start)
            ends.append(_END if start == -1 else start + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    out = x
    if axes:
        out = g.op("Slice", out, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps))
    if squeeze:
        out = g.op("Squeeze", out, g.ints(squeeze))
    if new:
        out = g.op("Unsqueeze", out, g.ints(new))
    return out if out is not x else g.op("Identity", x)


def recurrent(g, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0=None, reverse=False, **attrs):
    """One direction of a fused recurrent layer as ONNX's op; returns ``(Y, Y_h, Y_c)``
    names (``Y``: (T, B, H))."""
    hidden = g.dims(w_hh)[1]
    rows = np.concatenate([np.arange(hidden) + k * hidden for k in GATE_ROWS[mode]])
    order = g.ints(rows)

    def stacked(w):
        return g.op("Unsqueeze", g.op("Gather", w, order, axis=0), g.ints([0]))

    bias = ""
    if b_ih is not None or b_hh is not None:
        zeros = g.const(np.zeros(len(rows), g.out_dtype))
        bias = g.op("Concat", *[g.op("Gather", b, order, axis=0) if b is not None else zeros
                                for b in (b_ih, b_hh)], axis=0)
        bias = g.op("Unsqueeze", bias, g.ints([0]))
    states = [g.op("Unsqueeze", s, g.ints([0])) for s in (h0, c0) if s is not None]
    direction = "reverse" if reverse else "forward"
    outs = g.op(mode, x, stacked(w_ih), stacked(w_hh), bias, "", *states, outputs=3 if
                mode == "LSTM" else 2, hidden_size=int(hidden), direction=direction, **attrs)
    y = g.op("Squeeze", outs[0], g.ints([1]))
    return (y, *outs[1:])
