"""Adaptive max pooling, PyTorch's ``AdaptiveMaxPool1d/2d``: the maximum of each of
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


def _pool(op: str, x, output_size, return_indices: bool):
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-d input (N, C, H, W) or an unbatched 3-d one, "
                         f"got shape {tuple(x.shape)}")
    if x._data.dtype.kind != "f" or 0 in x.shape[-2:]:
        raise ValueError(f"{op}: expected a non-empty floating-point input, got shape "
                         f"{tuple(x.shape)} of {x._data.dtype.name}")
    h, w = x.shape[-2:]
    oh, ow = adaptive_output_size(output_size, (h, w), op)
    rows, cols = _windows(h, oh), _windows(w, ow)
    r = rows[:, None, :, None]  # (oh, 1, kh, 1)
    c = cols[None, :, None, :]  # (1, ow, 1, kw)
    lead = (slice(None),) * (x.ndim - 2)
    blocks = x[lead + (r, c)]  # (..., oh, ow, kh, kw)
    out = blocks.amax((-2, -1))
    if not return_indices:
        return out
    flat = to_numpy(blocks._data).reshape(*blocks.shape[:-2], -1)
    best = flat.argmax(-1)  # the first maximum in row-major window order, as PyTorch
    kh, kw = rows.shape[1], cols.shape[1]
    i, j = np.unravel_index(best, (kh, kw))
    grid_r = np.broadcast_to(np.arange(oh)[:, None], (oh, ow))
    grid_c = np.broadcast_to(np.arange(ow)[None, :], (oh, ow))
    index = rows[grid_r, i] * w + cols[grid_c, j]
    return out, Tensor(index.astype(np.int64))


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
