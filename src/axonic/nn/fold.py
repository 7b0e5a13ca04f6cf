"""Sliding local blocks, PyTorch's ``F.unfold`` / ``nn.Unfold`` (im2col: every
``kernel_size`` block of a batched image as a column) and ``F.fold`` / ``nn.Fold`` (col2im:
columns summed back into an image, overlaps added). A convolution is an unfold, a matrix
product and a reshape (tests/nn/test_fold.py checks it against ``conv2d``).

Both are one indexing op (unfold gathers, fold scatters with accumulation), so their
gradients are each other.

>>> import axonic
>>> x = axonic.arange(16.0).reshape(1, 1, 4, 4)
>>> cols = unfold(x, kernel_size=2, stride=2)
>>> cols.shape, cols[0, :, 0].tolist()
((1, 4, 4), [0.0, 1.0, 4.0, 5.0])
>>> fold(cols, (4, 4), kernel_size=2, stride=2).equal(x)
True
"""

from __future__ import annotations

import numpy as np

from axonic.nn.module import Module
from axonic.ops.conv import ntuple


def _args(op: str, kernel_size, dilation, padding, stride):
    return (ntuple(kernel_size, 2, "kernel_size", op), ntuple(dilation, 2, "dilation", op),
            ntuple(padding, 2, "padding", op, minimum=0), ntuple(stride, 2, "stride", op))


def _blocks(op: str, size, k, d, p, s):
    """How many blocks fit along each spatial dim, and the gather indices
    ``(rows (kh, 1, oh, 1), cols (1, kw, 1, ow))`` into the padded image."""
    counts = []
    for n, kk, dd, pp, ss in zip(size, k, d, p, s):
        span = dd * (kk - 1) + 1
        if n + 2 * pp < span:
            raise ValueError(f"{op}: the kernel spans {span} (kernel_size {kk}, dilation {dd}) "
                             f"but the padded input has {n + 2 * pp} along a spatial dim "
                             f"(size {n}, padding {pp})")
        counts.append((n + 2 * pp - span) // ss + 1)
    oh, ow = counts
    rows = (np.arange(k[0]) * d[0]).reshape(-1, 1, 1, 1) + (np.arange(oh) * s[0]).reshape(
        1, 1, -1, 1)
    cols = (np.arange(k[1]) * d[1]).reshape(1, -1, 1, 1) + (np.arange(ow) * s[1]).reshape(
        1, 1, 1, -1)
    return (oh, ow), rows, cols


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """``(N, C, H, W) -> (N, C * kh * kw, L)``: each block of the (zero-padded) input as a
    column, channel-major, ``L`` blocks in row-major order; ``(C, H, W)`` unbatched."""
    from axonic.ops.join import pad

    op = "unfold"
    if input.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-d input (N, C, H, W) or an unbatched 3-d one, "
                         f"got shape {tuple(input.shape)}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    k, d, p, s = _args(op, kernel_size, dilation, padding, stride)
    (oh, ow), rows, cols = _blocks(op, x.shape[2:], k, d, p, s)
    if any(p):
        x = pad(x, (p[1], p[1], p[0], p[0]))
    n, c = x.shape[:2]
    out = x[:, :, rows, cols].reshape(n, c * k[0] * k[1], oh * ow)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """``(N, C * kh * kw, L) -> (N, C, H, W)``: the columns of ``unfold`` added back into an
    image of ``output_size`` (overlapping blocks sum); ``(C * kh * kw, L)`` unbatched."""
    from axonic.ops.indexing import IndexAdd

    op = "fold"
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-d input (N, C * kh * kw, L) or an unbatched 2-d "
                         f"one, got shape {tuple(input.shape)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    size = ntuple(output_size, 2, "output_size", op)
    k, d, p, s = _args(op, kernel_size, dilation, padding, stride)
    (oh, ow), rows, cols = _blocks(op, size, k, d, p, s)
    n, ck, length = x.shape
    if ck % (k[0] * k[1]) or length != oh * ow:
        raise ValueError(f"{op}: expected an input (N, C * {k[0] * k[1]}, {oh * ow}) for "
                         f"output_size {size} and kernel_size {k} ({oh} x {ow} blocks), got "
                         f"shape {tuple(input.shape)}")
    c = ck // (k[0] * k[1])
    blocks = x.reshape(n, c, k[0], k[1], oh, ow)
    shape = (n, c, size[0] + 2 * p[0], size[1] + 2 * p[1])
    out = IndexAdd.apply(blocks, shape=shape, index=(slice(None), slice(None), rows, cols),
                         basic=False)
    out = out[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
    return out if input.ndim == 3 else out.squeeze(0)


class Unfold(Module):
    """``F.unfold`` as a layer."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _args("Unfold", kernel_size, dilation, padding, stride)
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        try:
            return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("unfold: ")) from None

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """``F.fold`` as a layer."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        _args("Fold", kernel_size, dilation, padding, stride)
        ntuple(output_size, 2, "output_size", "Fold")
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        try:
            return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                        self.stride)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("fold: ")) from None

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
