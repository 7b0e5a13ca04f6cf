"""Adaptive average pooling: ``adaptive_avg_pool1d`` and ``adaptive_avg_pool2d``.

Any input size is averaged down (or up) to a fixed output size over PyTorch's bins
``[floor(i * in / out), ceil((i + 1) * in / out))``. Each spatial axis is one small
averaging matrix, so the pooling is two GEMMs over all (N, C) planes at once, and so is
its backward.

>>> import axonic
>>> adaptive_avg_pool2d(axonic.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[2.5, 4.5], [10.5, 12.5]]]]
"""

from __future__ import annotations

import math

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops.pooling import _check_rank


def adaptive_bins(size: int, out: int):
    """PyTorch's adaptive pooling bins: [floor(i*size/out), ceil((i+1)*size/out))."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _averaging_matrix(size, out, dtype, xp):
    m = np.zeros((out, size))
    for i, (a, b) in enumerate(adaptive_bins(size, out)):
        m[i, a:b] = 1.0 / (b - a)
    return xp.asarray(m, dtype=dtype)


class AdaptiveAvgPool2dFunction(Function):
    """out = Ph @ x @ Pw.T per (N, C) plane, as two GEMMs over all planes at once."""


    def forward(self, x, out_hw):
        xp = get_array_module(x)
        *lead, h, w = x.shape
        oh, ow = out_hw
        ph = _averaging_matrix(h, oh, x.dtype, xp)
        pw = _averaging_matrix(w, ow, x.dtype, xp)
        planes = math.prod(lead)
        t = x.reshape(planes * h, w) @ pw.T  # (P*H, OW)
        t = t.reshape(planes, h, ow).transpose(0, 2, 1).reshape(planes * ow, h) @ ph.T
        self.shape = x.shape
        self.save_for_backward(ph, pw)
        return t.reshape(*lead, ow, oh).swapaxes(-1, -2)

    def backward(self, g):
        ph, pw = self.saved_tensors
        if self._graph_mode:  # linear in g: Ph.T @ g @ Pw with the constant bin matrices
            xp = self.xp
            return xp.matmul(xp.matmul(ph.T, g), pw)
        *lead, h, w = self.shape
        oh, ow = g.shape[-2:]
        planes = math.prod(lead)
        t = g.reshape(planes * oh, ow) @ pw  # (P*OH, W)
        t = t.reshape(planes, oh, w).transpose(0, 2, 1).reshape(planes * w, oh) @ ph
        return t.reshape(*lead, w, h).swapaxes(-1, -2)

    def to_onnx(self, g, x, out_hw):
        hw = g.dims(x)[-2:]
        if tuple(out_hw) == (1, 1):
            return g.op("GlobalAveragePool", x)
        if not all(isinstance(n, int) for n in hw):
            raise g.error(f"output size {tuple(out_hw)} needs a static input size (a dynamic "
                          "height or width): ONNX has no adaptive pooling")
        if not all(n % o == 0 for n, o in zip(hw, out_hw)):
            raise g.error(f"output size {tuple(out_hw)} does not divide the input size "
                          f"{hw}; ONNX has no adaptive pooling for uneven windows")
        kernel = [n // o for n, o in zip(hw, out_hw)]
        return g.op("AveragePool", x, kernel_shape=kernel, strides=kernel)


def adaptive_output_size(output_size, spatial, op) -> tuple:
    """``output_size`` (int or tuple, None meaning 'as the input') as a tuple of ints."""
    n = len(spatial)
    sizes = (output_size,) * n if isinstance(output_size, int | np.integer | None) \
        else tuple(output_size)
    if len(sizes) != n or not all(s is None or (isinstance(s, int | np.integer) and s >= 1)
                                  for s in sizes):
        raise ValueError(f"{op}: output_size must be a positive int or a tuple of {n} "
                         f"positive ints (or None), got {output_size!r}")
    return tuple(int(s) if s is not None else int(d) for s, d in zip(sizes, spatial))


@op()
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (OH, OW), as ``F.adaptive_avg_pool2d``.

    >>> import axonic
    >>> adaptive_avg_pool2d(axonic.ones(2, 3, 7, 5), 1).shape
    (2, 3, 1, 1)
    """
    _check_rank("adaptive_avg_pool2d", input, 2)
    out_hw = adaptive_output_size(output_size, input.shape[-2:], "adaptive_avg_pool2d")
    if 0 in input.shape[-2:]:
        raise ValueError(f"adaptive_avg_pool2d: expected a non-empty input, got shape "
                         f"{tuple(input.shape)}")
    return AdaptiveAvgPool2dFunction.apply(input, out_hw=out_hw)


@op()
def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed length, as ``F.adaptive_avg_pool1d``."""
    _check_rank("adaptive_avg_pool1d", input, 1)
    (out,) = adaptive_output_size(output_size, input.shape[-1:], "adaptive_avg_pool1d")
    if input.shape[-1] == 0:
        raise ValueError(f"adaptive_avg_pool1d: expected a non-empty input, got shape "
                         f"{tuple(input.shape)}")
    return AdaptiveAvgPool2dFunction.apply(input.unsqueeze(-2), out_hw=(1, out)).squeeze(-2)


# --- float64 NumPy reference for the op harness: the mean of each bin ------------------


def np_adaptive_avg_pool2d(x, out_hw):
    rows, cols = (adaptive_bins(n, o) for n, o in zip(x.shape[-2:], out_hw))
    out = np.zeros(x.shape[:-2] + tuple(out_hw))
    for i, (a, b) in enumerate(rows):
        for j, (c, d) in enumerate(cols):
            out[..., i, j] = x[..., a:b, c:d].mean(axis=(-1, -2))
    return out


def _tnn():
    return TORCH.nn.functional


SPECS = [
    OpSpec("adaptive_avg_pool2d", lambda x: adaptive_avg_pool2d(x, (3, 2)),
           lambda x: np_adaptive_avg_pool2d(x, (3, 2)), [((2, 3, 7, 5),)],
           lambda x: _tnn().adaptive_avg_pool2d(x, (3, 2))),
    OpSpec("adaptive_avg_pool1d", lambda x: adaptive_avg_pool1d(x, 4),
           lambda x: np_adaptive_avg_pool2d(x[:, :, None], (1, 4))[:, :, 0], [((2, 3, 7),)],
           lambda x: _tnn().adaptive_avg_pool1d(x, 4)),
]
