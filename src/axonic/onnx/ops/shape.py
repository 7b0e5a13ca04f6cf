"""ONNX shape ops: Reshape, Flatten, Transpose, Squeeze/Unsqueeze, Concat, Split, Expand,
Tile, Shape, Size, Slice, Pad, DepthToSpace/SpaceToDepth. Attributes that became inputs
(Reshape 5, Slice 10, Pad 11, Squeeze/Unsqueeze/Split 13) are handled at each version."""

from __future__ import annotations

import numpy as np

import axonic
import axonic.nn.functional as F
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, axis_of, const, ints, scalar, to_value


def _reshape(x, shape, allowzero, ctx):
    shape = list(shape)
    if not allowzero:
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    if not isinstance(x, axonic.Tensor):
        return arr(x).reshape(shape)
    try:
        return x.reshape(*shape) if shape else x.reshape(())
    except Exception as e:
        raise ValueError(f"ONNX import: {ctx}: cannot reshape {tuple(x.shape)} to "
                         f"{shape}: {e}") from None


@onnx_op("Reshape", until=4)
def reshape_attr(inputs, attrs, ctx):
    return _reshape(inputs[0], attrs["shape"], False, ctx)


@onnx_op("Reshape", since=5)
def reshape(inputs, attrs, ctx):
    return _reshape(inputs[0], ints(inputs[1]), attrs.get("allowzero", 0), ctx)


@onnx_op("Flatten")
def flatten(inputs, attrs, ctx):
    x = inputs[0]
    axis = attrs.get("axis", 1)
    axis = axis_of(axis + x.ndim if axis < 0 else axis, x.ndim + 1, ctx)
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return x.reshape(lead, int(np.prod(x.shape[axis:], dtype=np.int64)))


@onnx_op("Transpose")
def transpose(inputs, attrs, ctx):
    x = inputs[0]
    perm = attrs.get("perm") or list(range(x.ndim))[::-1]
    if not isinstance(x, axonic.Tensor):
        return np.transpose(x, perm)
    return x.permute(*perm) if perm else x


def _squeeze(x, axes, ctx):
    if axes is None:
        axes = [i for i, s in enumerate(x.shape) if s == 1]
    axes = sorted(axis_of(a, x.ndim, ctx) for a in axes)
    shape = [s for i, s in enumerate(x.shape) if i not in axes]
    return x.reshape(*shape) if shape else x.reshape(())


def _unsqueeze(x, axes, ctx):
    rank = x.ndim + len(axes)
    axes = sorted(axis_of(a, rank, ctx) for a in axes)
    shape, it = [], iter(x.shape)
    for i in range(rank):
        shape.append(1 if i in axes else next(it))
    return x.reshape(*shape)


onnx_op("Squeeze", until=12)(lambda i, a, c: _squeeze(i[0], a.get("axes"), c))
onnx_op("Squeeze", since=13)(
    lambda i, a, c: _squeeze(i[0], ints(i[1]) if len(i) > 1 and i[1] is not None else None, c))
onnx_op("Unsqueeze", until=12)(lambda i, a, c: _unsqueeze(i[0], a["axes"], c))
onnx_op("Unsqueeze", since=13)(lambda i, a, c: _unsqueeze(i[0], ints(i[1]), c))


@onnx_op("Concat")
def concat(inputs, attrs, ctx):
    xs = [x for x in inputs if x is not None]
    axis = axis_of(attrs.get("axis", 1), xs[0].ndim, ctx)
    if any(x._data.dtype.kind == "f" for x in xs if isinstance(x, axonic.Tensor)):
        return axonic.cat([x for x in xs if x.shape[axis] > 0] or xs[:1], axis)
    return const(np.concatenate([arr(x) for x in xs], axis))


def _split(x, axis, sizes, n, ctx):
    axis = axis_of(axis, x.ndim, ctx)
    dim = x.shape[axis]
    if sizes is None:
        chunk = -(-dim // n)
        sizes = [min(chunk, dim - i * chunk) for i in range(n)]
    starts = np.cumsum([0] + list(sizes))
    index = [slice(None)] * x.ndim
    out = []
    for s, e in zip(starts[:-1], starts[1:]):
        index[axis] = slice(int(s), int(e))
        out.append(x[tuple(index)])
    return tuple(out)


@onnx_op("Split", until=12)
def split_attr(inputs, attrs, ctx):
    sizes = attrs.get("split") or (ints(inputs[1]) if len(inputs) > 1 else None)
    return _split(inputs[0], attrs.get("axis", 0), sizes, len(ctx.outputs), ctx)


@onnx_op("Split", since=13)
def split(inputs, attrs, ctx):
    sizes = ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else None
    n = attrs.get("num_outputs", len(ctx.outputs))
    return _split(inputs[0], attrs.get("axis", 0), sizes, n, ctx)


@onnx_op("Expand", since=8)
def expand(inputs, attrs, ctx):
    x, shape = inputs[0], ints(inputs[1])
    target = np.broadcast_shapes(tuple(x.shape), tuple(shape))
    if not isinstance(x, axonic.Tensor):
        return np.broadcast_to(x, target).copy()
    return x.expand(*target) if target else x


@onnx_op("Tile")
def tile(inputs, attrs, ctx):
    return axonic.tile(inputs[0], tuple(ints(inputs[1])))


@onnx_op("Shape")
def shape(inputs, attrs, ctx):
    dims = np.array(inputs[0].shape, dtype=np.int64)
    start = attrs.get("start", 0)
    end = attrs.get("end", None)
    return to_value(dims[start:end])


@onnx_op("Size")
def size(inputs, attrs, ctx):
    return to_value(np.array(int(np.prod(inputs[0].shape, dtype=np.int64)), dtype=np.int64))


def _slice(x, starts, ends, axes, steps, ctx):
    axes = list(range(len(starts))) if axes is None else [axis_of(a, x.ndim, ctx) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        dim = x.shape[a]
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        if st > 0:
            s, e = min(max(s, 0), dim), min(max(e, 0), dim)
        else:
            s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
        index[a] = slice(s, e if e >= 0 else None, st)
    return x[tuple(index)]


@onnx_op("Slice", until=9)
def slice_attr(inputs, attrs, ctx):
    return _slice(inputs[0], attrs["starts"], attrs["ends"], attrs.get("axes"), None, ctx)


@onnx_op("Slice", since=10)
def slice_(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (5 - len(inputs))
    axes = ints(opt[3]) if opt[3] is not None else None
    steps = ints(opt[4]) if opt[4] is not None else None
    return _slice(inputs[0], ints(opt[1]), ints(opt[2]), axes, steps, ctx)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
              "wrap": "circular"}


def _pad(x, pads, mode, value, axes, ctx):
    rank = x.ndim
    axes = list(range(rank)) if axes is None else [axis_of(a, rank, ctx) for a in axes]
    n = len(axes)
    begin, end = dict(zip(axes, pads[:n])), dict(zip(axes, pads[n:]))
    if mode not in _PAD_MODES:
        raise ValueError(f"ONNX import: {ctx}: pad mode {mode!r}; expected one of "
                         f"{list(_PAD_MODES)}")
    if not isinstance(x, axonic.Tensor) or x._data.dtype.kind != "f":
        width = [(begin.get(i, 0), end.get(i, 0)) for i in range(rank)]
        np_mode = {"edge": "edge", "reflect": "reflect", "wrap": "wrap"}.get(mode, "constant")
        kw = {"constant_values": value} if np_mode == "constant" else {}
        return to_value(np.pad(arr(x), [(max(b, 0), max(e, 0)) for b, e in width],
                               mode=np_mode, **kw))
    flat = []
    last = max([i for i in range(rank) if begin.get(i, 0) or end.get(i, 0)], default=-1)
    for i in range(rank - 1, -1, -1):
        if i < last and not flat:
            continue
        flat += [begin.get(i, 0), end.get(i, 0)]
    if not any(flat):
        return x
    if mode == "constant":
        return F.pad(x, tuple(flat), value=float(value))
    # F.pad's reflect/replicate/circular modes pad trailing dims of a batched input
    lead = rank - len(flat) // 2
    y = x.reshape(1, 1, *x.shape) if lead < 2 else x
    y = F.pad(y, tuple(flat), mode=_PAD_MODES[mode])
    return y.reshape(*y.shape[2:]) if lead < 2 else y


@onnx_op("Pad", until=10)
def pad_attr(inputs, attrs, ctx):
    return _pad(inputs[0], attrs.get("pads") or attrs.get("paddings"),
                attrs.get("mode", "constant"), attrs.get("value", 0.0), None, ctx)


@onnx_op("Pad", since=11)
def pad(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (4 - len(inputs))
    value = scalar(opt[2]) if opt[2] is not None and arr(opt[2]).size else 0
    axes = ints(opt[3]) if opt[3] is not None else None
    return _pad(inputs[0], ints(opt[1]), attrs.get("mode", "constant"), value, axes, ctx)


@onnx_op("DepthToSpace")
def depth_to_space(inputs, attrs, ctx):
    x, b = inputs[0], attrs["blocksize"]
    n, c, h, w = x.shape
    if attrs.get("mode", "DCR") == "DCR":
        y = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // (b * b), b, b, h, w).permute(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


@onnx_op("SpaceToDepth")
def space_to_depth(inputs, attrs, ctx):
    x, b = inputs[0], attrs["blocksize"]
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b)
    if attrs.get("mode", "DCR") == "CRD":
        y = y.permute(0, 1, 3, 5, 2, 4)
    else:
        y = y.permute(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)
