"""Pooling over sliding windows: ``max_pool{1,2}d`` and ``avg_pool{1,2}d``.

Max and average pooling loop over the KH*KW kernel offsets, each a strided slice of
the (padded) input covering every window at once; max pooling's backward sends each
window's gradient to its first maximum (adding where windows overlap). Adaptive pooling
is in ``axonic.ops.adaptive_pooling``.

>>> import axonic
>>> max_pool2d(axonic.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, threads
from axonic.ops._pool_windows import (
    _alloc,
    _channels_last,
    _like,
    _offsets,
    _padded,
    pool_out_size,
    pool_problem,
)
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.conv import ntuple


def _first_hits(buf, best, offsets):
    """Per kernel offset, where that offset holds its window's maximum, first offset
    winning a tie (PyTorch's choice); a NaN counts as the maximum of its window."""
    xp = get_array_module(buf)
    nan = bool(xp.isnan(best).any())
    taken = None
    for sl in offsets:
        v = buf[sl]
        hit = v == best
        if nan:
            hit |= v != v
        if taken is None:
            taken = hit
        else:
            hit &= ~taken
            taken |= hit
        yield sl, hit


def _tiled_backward(xp, buf, best, g, dbuf, kernel) -> bool:
    """Max pooling's backward when the windows tile the input (kernel == stride): the
    (N, C, OH, KH, OW, KW) view of the input against each window's maximum finds every
    window's hit in one comparison, and the gradient goes to the hits in one product
    (measured on the CNN benchmark's two pools: 3.5 -> 2.3 ms and 1.6 -> 1.1 ms). When some
    window has no single hit (a tie or a NaN) it returns False having written nothing that
    counts, and the caller takes the general path, which picks the first maximum."""
    n, c, oh, ow = best.shape
    kh, kw = kernel
    hit = _tiles(xp, buf, kernel, oh, ow) == best[:, :, :, None, :, None]
    # one hit per window: as many hits as windows, none of them NaN (a NaN window has none)
    if int(xp.count_nonzero(hit)) != best.size or bool(xp.isnan(best).any()):
        return False
    xp.multiply(hit, g[:, :, :, None, :, None], out=_tiles(xp, dbuf, kernel, oh, ow))
    h, w = oh * kh, ow * kw
    if h < dbuf.shape[2]:  # rows and columns no window covers (floor mode)
        dbuf[:, :, h:] = 0
    if w < dbuf.shape[3]:
        dbuf[:, :, :h, w:] = 0
    return True


def _tiles(xp, a, kernel, oh, ow):
    """The (N, C, OH, KH, OW, KW) view of (N, C, H, W) ``a``'s windows, always a view."""
    sn, sc, sh, sw = a.strides
    kh, kw = kernel
    return xp.lib.stride_tricks.as_strided(
        a, (a.shape[0], a.shape[1], oh, kh, ow, kw), (sn, sc, sh * kh, sh, sw * kw, sw))


class MaxPool2dFunction(Function):
    """Max over each window: a running ``maximum`` over the kernel offsets. Backward finds
    each window's first maximum by comparing every offset with the result (branch-free
    passes, faster in NumPy than tracking an argmax through the forward)."""
    onnx_sized = ("out_hw",)  # follows the input size; ONNX derives it

    # backward scatters into arrays (argmax / window sums); no second derivative yet
    double_backward = False

    def forward(self, x, kernel, stride, padding, dilation, out_hw, ceil_mode=False):
        xp = get_array_module(x)
        buf = _padded(x, padding, out_hw, kernel, stride, dilation, -np.inf)
        offsets = list(_offsets(kernel, dilation, stride, out_hw))
        # the result kept for backward is a copy (the output may be changed in place); none
        # is made when no gradient is wanted (inference)
        need = self.needs_input_grad[0]
        best = xp.empty_like(buf[offsets[0]])
        kept = xp.empty_like(best) if need else None

        def rows(a, b):  # samples a:b; the samples are split across the intra-op threads
            part, out = buf[a:b], best[a:b]
            out[...] = part[offsets[0]]
            for sl in offsets[1:]:
                xp.maximum(out, part[sl], out=out)  # propagates NaN, as PyTorch does
            if need:
                kept[a:b] = out

        threads.parallel_for(rows, buf)
        # windows that share cells need their gradients added, not written
        self.overlap = any(d * (k - 1) >= s for k, s, d in zip(kernel, stride, dilation))
        # windows that tile the input exactly (kernel == stride, no dilation)
        self.tiled = (tuple(kernel) == tuple(stride) and tuple(dilation) == (1, 1)
                      and x.ndim == 4)
        self.kernel = tuple(kernel)
        self.offsets, self.geom = offsets, (x.shape, padding)
        if need:
            self.save_for_backward(buf, kept)
        return best

    def backward(self, g):
        xp = get_array_module(g)
        shape, padding = self.geom
        buf, best = self.saved_tensors
        channels_last = _channels_last(buf)
        dbuf = _alloc(buf.shape, None, g.dtype, xp, channels_last)
        if self.tiled and _tiled_backward(xp, buf, best, _like(g, channels_last), dbuf,
                                          self.kernel):
            return dbuf[..., padding[0]:padding[0] + shape[-2],
                        padding[1]:padding[1] + shape[-1]]

        def rows(a, b):
            d, gs = dbuf[a:b], _like(g[a:b], channels_last)
            d.fill(0)
            for sl, hit in _first_hits(buf[a:b], best[a:b], self.offsets):
                if self.overlap:
                    d[sl] += gs * hit
                else:
                    xp.multiply(gs, hit, out=d[sl])

        threads.parallel_for(rows, dbuf)
        return dbuf[..., padding[0]:padding[0] + shape[-2], padding[1]:padding[1] + shape[-1]]

    def to_onnx(self, g, x, kernel, stride, padding, dilation, out_hw, ceil_mode=False):
        return g.op("MaxPool", x, kernel_shape=list(kernel), strides=list(stride),
                    pads=list(padding) * 2, dilations=list(dilation), ceil_mode=int(ceil_mode))


def _avg_divisor(size, out, k, s, p, count_include_pad):
    """Per output position along one axis: how many cells its window counts."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class AvgPool2dFunction(Function):
    onnx_sized = ("out_hw",)  # follows the input size; ONNX derives it

    def forward(self, x, kernel, stride, padding, out_hw, ceil_mode, count_include_pad,
                divisor_override):
        xp = get_array_module(x)
        one = (1, 1)
        buf = _padded(x, padding, out_hw, kernel, stride, one, 0)
        offsets = list(_offsets(kernel, one, stride, out_hw))
        if divisor_override:
            div = xp.asarray(float(divisor_override), dtype=x.dtype)
        else:
            dh, dw = (_avg_divisor(n, o, k, s, p, count_include_pad) for n, o, k, s, p in
                      zip(x.shape[-2:], out_hw, kernel, stride, padding))
            div = xp.asarray(np.outer(dh, dw), dtype=x.dtype)
        total = xp.empty_like(buf[offsets[0]])

        def rows(a, b):  # samples a:b; the samples are split across the intra-op threads
            part, out = buf[a:b], total[a:b]
            out[...] = part[offsets[0]]
            for sl in offsets[1:]:
                out += part[sl]
            out /= div

        threads.parallel_for(rows, buf)
        self.offsets, self.channels_last = offsets, _channels_last(buf)
        self.geom = (x.shape, buf.shape, padding)
        self.kernel, self.stride, self.out_hw = kernel, stride, out_hw
        self.save_for_backward(div)
        return total

    def backward(self, g):
        shape, buf_shape, padding = self.geom
        (div,) = self.saved_tensors
        if self._graph_mode:
            return self._graph_backward(g, div)
        xp = get_array_module(g)
        dbuf = _alloc(buf_shape, None, g.dtype, xp, self.channels_last)

        def rows(a, b):
            d, gd = dbuf[a:b], _like(g[a:b], self.channels_last) / div
            d.fill(0)
            for sl in self.offsets:
                d[sl] += gd

        threads.parallel_for(rows, dbuf)
        return dbuf[..., padding[0]:padding[0] + shape[-2], padding[1]:padding[1] + shape[-1]]

    def _graph_backward(self, g, div):
        """Linear in g (create_graph): each window's share added back into it by indexing's
        own gradient, so the result is differentiable in g."""
        from axonic.ops.indexing import IndexAdd

        shape, buf_shape, padding = self.geom
        xp, (kh, kw), (sh, sw), (oh, ow) = self.xp, self.kernel, self.stride, self.out_hw
        rows = np.arange(oh)[:, None] * sh + np.arange(kh)[None, :]
        cols = np.arange(ow)[:, None] * sw + np.arange(kw)[None, :]
        where = (Ellipsis, rows[:, None, :, None], cols[None, :, None, :])
        share = xp.broadcast_to(xp.expand_dims(g / div, (-2, -1)), g.shape + (kh, kw))
        dbuf = IndexAdd.apply(share, shape=buf_shape, index=where, basic=False)
        return dbuf[..., padding[0]:padding[0] + shape[-2], padding[1]:padding[1] + shape[-1]]

    def to_onnx(self, g, x, kernel, stride, padding, out_hw, ceil_mode, count_include_pad,
                divisor_override):
        if divisor_override:
            raise g.error(f"divisor_override={divisor_override} has no ONNX AveragePool form")
        return g.op("AveragePool", x, kernel_shape=list(kernel), strides=list(stride),
                    pads=list(padding) * 2, ceil_mode=int(bool(ceil_mode)),
                    count_include_pad=int(bool(count_include_pad)))


# --- the functions -------------------------------------------------------------------


def _check_rank(op, input, spatial):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    names = "(N, C, L) or (C, L)" if spatial == 1 else "(N, C, H, W) or (C, H, W)"
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-d or {spatial + 2}-d input {names}, "
                         f"got shape {tuple(input.shape)}")


def _pool_args(op, kernel_size, stride, padding, dilation, n):
    kernel = ntuple(kernel_size, n, "kernel_size", op)
    stride = kernel if stride is None or stride == () else ntuple(stride, n, "stride", op)
    padding = ntuple(padding, n, "padding", op, minimum=0)
    dilation = ntuple(dilation, n, "dilation", op)
    return kernel, stride, padding, dilation


def _max_pool(op, input, kernel, stride, padding, dilation, ceil_mode, return_indices):
    problem = pool_problem(input.shape[-2:], kernel, stride, padding, dilation, ceil_mode)
    if problem:
        raise ValueError(f"{op}: {problem}")
    out_hw = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                   zip(input.shape[-2:], kernel, stride, padding, dilation))
    out = MaxPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding,
                                  dilation=dilation, out_hw=out_hw, ceil_mode=ceil_mode)
    if not return_indices:
        return out, None
    xp = get_array_module(input._data)
    buf = _padded(input._data, padding, out_hw, kernel, stride, dilation, -np.inf)
    arg = xp.zeros(out.shape, np.int64)
    offsets = list(_offsets(kernel, dilation, stride, out_hw))
    for k, (_, hit) in enumerate(_first_hits(buf, out._data, offsets)):
        arg += hit * k
    kh, kw = divmod(arg, kernel[1])
    rows = xp.arange(out_hw[0]).reshape(-1, 1) * stride[0] - padding[0] + kh * dilation[0]
    cols = xp.arange(out_hw[1]) * stride[1] - padding[1] + kw * dilation[1]
    return out, _make(rows * input.shape[-1] + cols)


@op()
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-d max pooling over (N, C, H, W), as ``F.max_pool2d`` (padding is -inf).

    With ``return_indices`` also returns each maximum's flat index into H*W.

    >>> import axonic
    >>> max_pool2d(axonic.tensor([[[[1.0, 3.0], [2.0, 0.0]]]]), 2).item()
    3.0
    """
    _check_rank("max_pool2d", input, 2)
    args = _pool_args("max_pool2d", kernel_size, stride, padding, dilation, 2)
    out, idx = _max_pool("max_pool2d", input, *args, ceil_mode, return_indices)
    return (out, idx) if return_indices else out


def _check_1d(op, input, kernel, stride, padding, dilation, ceil_mode):
    """The size check in the 1-d terms the caller used (before the 2-d pooling runs)."""
    problem = pool_problem(input.shape[-1:], kernel, stride, padding, dilation, ceil_mode)
    if problem:
        raise ValueError(f"{op}: {problem}")


@op()
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-d max pooling over (N, C, L), as ``F.max_pool1d``."""
    _check_rank("max_pool1d", input, 1)
    k, s, p, d = _pool_args("max_pool1d", kernel_size, stride, padding, dilation, 1)
    _check_1d("max_pool1d", input, k, s, p, d, ceil_mode)
    out, idx = _max_pool("max_pool1d", input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                         (1,) + d, ceil_mode, return_indices)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


def _avg_pool(op, input, kernel, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    if divisor_override is not None and (not isinstance(divisor_override, int | np.integer)
                                         or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, "
                         f"got {divisor_override!r}")
    problem = pool_problem(input.shape[-2:], kernel, stride, padding, (1, 1), ceil_mode)
    if problem:
        raise ValueError(f"{op}: {problem}")
    out_hw = tuple(pool_out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in
                   zip(input.shape[-2:], kernel, stride, padding))
    return AvgPool2dFunction.apply(input, kernel=kernel, stride=stride, padding=padding,
                                   out_hw=out_hw, ceil_mode=ceil_mode,
                                   count_include_pad=count_include_pad,
                                   divisor_override=divisor_override)


@op()
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-d average pooling over (N, C, H, W), as ``F.avg_pool2d``.

    >>> import axonic
    >>> avg_pool2d(axonic.tensor([[[[1.0, 3.0], [2.0, 0.0]]]]), 2).item()
    1.5
    """
    _check_rank("avg_pool2d", input, 2)
    k, s, p, _ = _pool_args("avg_pool2d", kernel_size, stride, padding, 1, 2)
    return _avg_pool("avg_pool2d", input, k, s, p, ceil_mode, count_include_pad,
                     divisor_override)


@op()
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-d average pooling over (N, C, L), as ``F.avg_pool1d``."""
    _check_rank("avg_pool1d", input, 1)
    k, s, p, _ = _pool_args("avg_pool1d", kernel_size, stride, padding, 1, 1)
    _check_1d("avg_pool1d", input, k, s, p, (1,), ceil_mode)
    return _avg_pool("avg_pool1d", input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                     ceil_mode, count_include_pad, None).squeeze(-2)


# --- float64 NumPy references for the op harness: a loop over output positions ---------


def np_max_pool2d(x, k, s, p=(0, 0), d=(1, 1), ceil_mode=False):
    h, w = x.shape[-2:]
    oh, ow = (pool_out_size(n, kk, ss, pp, dd, ceil_mode) for n, kk, ss, pp, dd in
              zip((h, w), k, s, p, d))
    out = np.full(x.shape[:-2] + (oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    r, c = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= c < w:
                        out[..., i, j] = np.maximum(out[..., i, j], x[..., r, c])
    return out


def np_avg_pool2d(x, k, s, p=(0, 0), ceil_mode=False, count_include_pad=True):
    h, w = x.shape[-2:]
    oh, ow = (pool_out_size(n, kk, ss, pp, 1, ceil_mode) for n, kk, ss, pp in
              zip((h, w), k, s, p))
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, c1 = min(r0 + k[0], h + p[0]), min(c0 + k[1], w + p[1])
            window = x[..., max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            n = (r1 - r0) * (c1 - c0) if count_include_pad else window.shape[-1] * window.shape[-2]
            out[..., i, j] = window.sum(axis=(-1, -2)) / n
    return out


def _distinct(shape):
    """Inputs without ties (max pooling's gradient is undefined at a tie)."""
    return lambda rng: (rng.permutation(math.prod(shape)).reshape(shape) / 7.0,)


def _tnn():
    return TORCH.nn.functional


SPECS = [
    OpSpec("max_pool2d", lambda x: max_pool2d(x, 2), lambda x: np_max_pool2d(x, (2, 2), (2, 2)),
           [_distinct((2, 3, 6, 5))], lambda x: _tnn().max_pool2d(x, 2)),
    OpSpec("max_pool2d_overlap_pad_dilation_ceil",
           lambda x: max_pool2d(x, 3, 2, padding=1, dilation=(1, 2), ceil_mode=True),
           lambda x: np_max_pool2d(x, (3, 3), (2, 2), (1, 1), (1, 2), True),
           [_distinct((1, 2, 8, 9))],
           lambda x: _tnn().max_pool2d(x, 3, 2, padding=1, dilation=(1, 2), ceil_mode=True)),
    OpSpec("max_pool1d", lambda x: max_pool1d(x, 3, 2, padding=1),
           lambda x: np_max_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0],
           [_distinct((2, 3, 8))], lambda x: _tnn().max_pool1d(x, 3, 2, padding=1)),
    OpSpec("avg_pool2d", lambda x: avg_pool2d(x, 2), lambda x: np_avg_pool2d(x, (2, 2), (2, 2)),
           [((2, 3, 6, 5),)], lambda x: _tnn().avg_pool2d(x, 2)),
    OpSpec("avg_pool2d_pad_ceil_exclude_pad",
           lambda x: avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False),
           lambda x: np_avg_pool2d(x, (3, 3), (2, 2), (1, 1), True, False),
           [((1, 2, 6, 7),)],
           lambda x: _tnn().avg_pool2d(x, 3, 2, padding=1, ceil_mode=True,
                                       count_include_pad=False)),
    OpSpec("avg_pool1d", lambda x: avg_pool1d(x, 3, 2, padding=1),
           lambda x: np_avg_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0],
           [((2, 3, 8),)], lambda x: _tnn().avg_pool1d(x, 3, 2, padding=1)),
]
for _spec in SPECS:
    if _spec.name.startswith("max_pool"):
        _spec.no_gradgrad = "max pooling's backward writes each window's first maximum into arrays"
