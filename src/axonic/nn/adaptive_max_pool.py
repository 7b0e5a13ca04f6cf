"""Adaptive max pooling, PyTorch's ``AdaptiveMaxPool1d/2d/3d``: the maximum of each of
``output_size`` windows, window ``i`` of a dim of size ``n`` running from
``floor(i * n / out)`` to ``ceil((i + 1) * n / out)`` (windows may overlap), optionally with
the flat index of each maximum (``return_indices``).

One gather of every window (shorter windows repeat their last element, which leaves the
maximum unchanged) and one ``amax``.

>>> import axonic
>>> adaptive_max_pool1d(axonic.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]), 2).tolist()
[[[5.0, 3.0]]]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import to_numpy
from axonic.nn.module import Module
from axonic.ops.adaptive_pooling import adaptive_output_size


def _windows(n: int, out: int) -> np.ndarray:
    """``(out, longest window)`` indices of each window, the last one repeated."""
    start = (np.arange(out) * n) // out
    stop = -((-(np.arange(out) + 1) * n) // out)  # ceil
    width = int((stop - start).max())
    return np.minimum(start[:, None] + np.arange(width)[None, :], stop[:, None] - 1)


def _pool(op: str, x, output_size, return_indices: bool, n: int = 2):
    """Adaptive max pooling over the last ``n`` dims of a batched or unbatched input."""
    if x.ndim not in (n + 1, n + 2):
        dims = "(N, C, H, W)" if n == 2 else "(N, C, D, H, W)"
        raise ValueError(f"{op}: expected a {n + 2}-d input {dims} or an unbatched {n + 1}-d "
                         f"one, got shape {tuple(x.shape)}")
    spatial = tuple(x.shape[-n:])
    if x._data.dtype.kind != "f" or 0 in spatial:
        raise ValueError(f"{op}: expected a non-empty floating-point input, got shape "
                         f"{tuple(x.shape)} of {x._data.dtype.name}")
    outs = adaptive_output_size(output_size, spatial, op)
    windows = [_windows(size, o) for size, o in zip(spatial, outs)]
    index = []
    for axis, win in enumerate(windows):  # (o, k) -> o at ``axis``, k at ``n + axis``
        shape = [1] * (2 * n)
        shape[axis], shape[n + axis] = win.shape
        index.append(win.reshape(shape))
    lead = (slice(None),) * (x.ndim - n)
    blocks = x[lead + tuple(index)]  # (..., *outs, *window lengths)
    out = blocks.amax(tuple(range(-n, 0)))
    if not return_indices:
        return out
    flat = to_numpy(blocks._data).reshape(*blocks.shape[:-n], -1)
    best = flat.argmax(-1)  # the first maximum in row-major window order, as PyTorch
    within = np.unravel_index(best, tuple(w.shape[1] for w in windows))
    grids = np.meshgrid(*(np.arange(o) for o in outs), indexing="ij")
    strides = np.cumprod((1,) + spatial[:0:-1])[::-1]  # row-major strides of the spatial dims
    flat_index = sum(windows[a][grids[a], within[a]] * int(strides[a]) for a in range(n))
    return out, Tensor(np.asarray(flat_index).astype(np.int64))


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max over ``output_size`` adaptive windows of (N, C, H, W) or (C, H, W)."""
    return _pool("adaptive_max_pool2d", input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max over ``output_size`` adaptive windows of (N, C, L) or (C, L)."""
    op = "adaptive_max_pool1d"
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-d input (N, C, L) or an unbatched 2-d one, got "
                         f"shape {tuple(input.shape)}")
    (size,) = adaptive_output_size(output_size, input.shape[-1:], op)
    result = _pool(op, input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def adaptive_max_pool3d(input, output_size, return_indices: bool = False):
    """Max over ``output_size`` adaptive windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _pool("adaptive_max_pool3d", input, output_size, return_indices, 3)


class _AdaptiveMaxPool(Module):
    _fn = None

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, input):
        try:
            return type(self)._fn(input, self.output_size, self.return_indices)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[-1]) from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of (N, C, L) to a fixed length."""

    _fn = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling of (N, C, H, W) to a fixed (OH, OW)."""

    _fn = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling of (N, C, D, H, W) to a fixed (OD, OH, OW)."""

    _fn = staticmethod(adaptive_max_pool3d)
