"""Joining and splitting: cat stack split chunk unbind narrow, and pad."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import common_dtype, norm_dim


class Cat(Function):

    def forward(self, *arrays, axis):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return get_array_module(arrays[0]).concatenate(arrays, axis=axis)

    def backward(self, g):
        lead, start, grads = (slice(None),) * self.axis, 0, []
        for n in self.sizes:
            grads.append(g[lead + (slice(start, start + n),)])
            start += n
        return tuple(grads)

    def to_onnx(self, g, *arrays, axis):
        return g.op("Concat", *arrays, axis=int(axis))


class Stack(Function):

    def forward(self, *arrays, axis):
        self.axis, self.n = axis, len(arrays)
        return get_array_module(arrays[0]).stack(arrays, axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] for i in range(self.n))

    def to_onnx(self, g, *arrays, axis):
        axes = g.ints([int(axis) % len(g.out_dims)])
        return g.op("Concat", *[g.op("Unsqueeze", a, axes) for a in arrays], axis=int(axis))


def _check_same(tensors, op, skip_axis=None):
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected tensors, got {type(t).__name__}")
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], 1):
        s = t.shape
        bad = len(s) != len(first) or any(
            a != b for k, (a, b) in enumerate(zip(s, first)) if k != skip_axis)
        if bad:
            where = "" if skip_axis is None else f"except in the concatenation dim {skip_axis}"
            raise ValueError(
                f"{op}: tensor 0 has shape {tuple(first)} but tensor {i} has shape {tuple(s)}; "
                f"shapes must match {where}".rstrip()
            )


def _same_dtype(tensors):
    dt = common_dtype(tensors)
    return [t if t._data.dtype == dt else t.to(dt) for t in tensors]


@op("cat", "concatenate")
def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing dim.

    >>> import axonic
    >>> axonic.cat([axonic.zeros(2, 1), axonic.ones(2, 2)], dim=1)
    tensor([[0., 1., 1.],
            [0., 1., 1.]])
    """
    tensors = list(tensors)
    if axis is not None:
        dim = axis
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    (d,) = norm_dim(dim, tensors[0].ndim, "cat")
    _check_same(tensors, "cat", d)
    return Cat.apply(*_same_dtype(tensors), axis=d)


concatenate = cat


@op()
def stack(tensors, dim=0, *, axis=None):
    """Join tensors of one shape along a new dim.

    >>> import axonic
    >>> axonic.stack([axonic.zeros(3), axonic.ones(3)]).shape
    (2, 3)
    """
    tensors = list(tensors)
    if axis is not None:
        dim = axis
    _check_same(tensors, "stack")
    (d,) = norm_dim(dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(*_same_dtype(tensors), axis=d)


@op(methods=("narrow",))
def narrow(input, dim, start, length):
    (d,) = norm_dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise ValueError(
            f"narrow: start {start} + length {length} does not fit in dim {dim} of size {n}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


@op(methods=("split",))
def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the sizes
    listed in ``split_size_or_sections``."""
    (d,) = norm_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(
                f"split: sizes {sizes} sum to {sum(sizes)} but dim {dim} has size {n}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return _multi_view(out, "split")


def _multi_view(pieces, name):
    """Mark views returned together: PyTorch refuses in-place changes to them."""
    for p in pieces:
        if p.grad_fn is not None:
            p.grad_fn.multi_output_view = name
    return tuple(pieces)


@op(methods=("chunk",))
def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller).

    >>> import axonic
    >>> [c.tolist() for c in axonic.arange(5).chunk(2)]
    [[0, 1, 2], [3, 4]]
    """
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    (d,) = norm_dim(dim, input.ndim, "chunk")
    size = -(-input.shape[d] // chunks)
    return split(input, max(size, 1), d)


@op(methods=("unbind",))
def unbind(input, dim=0):
    (d,) = norm_dim(dim, input.ndim, "unbind")
    return _multi_view([input[(slice(None),) * d + (i,)] for i in range(input.shape[d])],
                       "unbind")


class PadConstant(Function):

    def forward(self, x, widths, value):
        self.slices = tuple(slice(a, a + n) for (a, _), n in zip(widths, x.shape))
        return get_array_module(x).pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.slices]

    def to_onnx(self, g, x, widths, value):
        pads = [int(a) for a, _ in widths] + [int(b) for _, b in widths]
        return g.op("Pad", x, g.ints(pads), g.const(value, g.out_dtype))


class PadIndexed(Function):
    """reflect / replicate / circular padding as a gather along each padded dim; the
    backward scatters with accumulation (border values are used several times)."""


    def forward(self, x, index_per_axis):
        self.shape = x.shape
        self.index = index_per_axis
        xp = get_array_module(x)
        for axis, idx in index_per_axis:
            x = xp.take(x, idx, axis=axis)
        return x

    def backward(self, g):
        from axonic.ops.indexing import IndexAdd, _index_add

        for axis, idx in reversed(self.index):
            shape = list(g.shape)
            shape[axis] = self.shape[axis]
            where = (slice(None),) * axis + (idx,)
            if self._graph_mode:  # the scatter as its own op, so it is differentiable
                g = IndexAdd.apply(g, shape=tuple(shape), index=where, basic=False)
            else:
                g = _index_add(g, tuple(shape), where, False)
        return g

    def to_onnx(self, g, x, index_per_axis):
        from axonic.backend import to_numpy

        for axis, idx in index_per_axis:  # the same gathers: exact for every mode and opset
            x = g.op("Gather", x, g.const(to_numpy(idx).astype(np.int64)), axis=int(axis))
        return x


def _pad_index(n, before, after, mode):
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    # reflect: mirror without repeating the edge
    period = 2 * (n - 1)
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


@op()
def pad(input, pad, mode="constant", value=0.0):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left_last, right_last, left_prev, ...)``,
    as ``torch.nn.functional.pad``. Modes: constant, reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: expected an even number of values for at most {input.ndim} dims, got {pad}"
        )
    k = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - k) + [
        (pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]) for i in range(k)]
    if mode == "constant":
        if any(a < 0 or b < 0 for a, b in widths):
            # negative padding crops
            slices = tuple(slice(-a if a < 0 else 0, (n + b) if b < 0 else n)
                           for (a, b), n in zip(widths, input.shape))
            input = input[slices]
            widths = [(max(a, 0), max(b, 0)) for a, b in widths]
        return PadConstant.apply(input, widths=widths, value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    index = []
    for axis, ((a, b), n) in enumerate(zip(widths, input.shape)):
        if a or b:
            if mode == "reflect" and (a >= n or b >= n):
                raise ValueError(
                    f"pad: reflect padding ({a}, {b}) must be smaller than the size {n} "
                    f"of dim {axis}"
                )
            if mode == "circular" and (a > n or b > n):
                raise ValueError(
                    f"pad: circular padding ({a}, {b}) must be at most the size {n} of dim {axis}"
                )
            xp = get_array_module(input._data)
            index.append((axis, xp.asarray(_pad_index(n, a, b, mode))))
    return PadIndexed.apply(input, index_per_axis=index)


def _np_pad_mode(a, widths, mode):
    return np.pad(a, widths, mode={"reflect": "reflect", "replicate": "edge",
                                   "circular": "wrap"}[mode])


SPECS = [
    OpSpec("cat", lambda a, b: cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
           [((2, 3), (2, 4)), ((2, 0), (2, 2))], lambda a, b: TORCH.cat([a, b], 1)),
    OpSpec("cat3", lambda a, b, c: cat([a, b, c]), lambda a, b, c: np.concatenate([a, b, c]),
           [((1, 3), (2, 3), (3, 3))], lambda a, b, c: TORCH.cat([a, b, c])),
    OpSpec("stack", lambda a, b: stack([a, b], -1), lambda a, b: np.stack([a, b], -1),
           [((2, 3), (2, 3)), ((), ())], lambda a, b: TORCH.stack([a, b], -1)),
    OpSpec("split_sum", lambda a: split(a, 2, 1)[1] * 2 + split(a, 2, 1)[0],
           lambda a: a[:, 2:4] * 2 + a[:, 0:2], [((3, 5),)], lambda a: a.split(2, 1)[1] * 2 +
           a.split(2, 1)[0]),
    OpSpec("chunk", lambda a: chunk(a, 3, 0)[2], lambda a: a[4:], [((6, 2),)],
           lambda a: a.chunk(3, 0)[2]),
    OpSpec("pad_constant", lambda a: pad(a, (1, 2, 0, 1), value=0.5),
           lambda a: np.pad(a, [(0, 0), (0, 1), (1, 2)], constant_values=0.5), [((2, 3, 4),)],
           lambda a: TORCH.nn.functional.pad(a, (1, 2, 0, 1), value=0.5)),
    OpSpec("pad_reflect", lambda a: pad(a, (2, 1), mode="reflect"),
           lambda a: _np_pad_mode(a, [(0, 0), (0, 0), (2, 1)], "reflect"), [((2, 3, 4),)],
           lambda a: TORCH.nn.functional.pad(a, (2, 1), mode="reflect")),
    OpSpec("pad_replicate", lambda a: pad(a, (1, 2, 2, 0), mode="replicate"),
           lambda a: _np_pad_mode(a, [(0, 0), (2, 0), (1, 2)], "replicate"), [((1, 3, 4),)],
           lambda a: TORCH.nn.functional.pad(a, (1, 2, 2, 0), mode="replicate")),
    OpSpec("pad_circular", lambda a: pad(a, (1, 2), mode="circular"),
           lambda a: _np_pad_mode(a, [(0, 0), (0, 0), (1, 2)], "circular"), [((1, 2, 4),)],
           lambda a: TORCH.nn.functional.pad(a, (1, 2), mode="circular")),
]
