"""Sliding windows for N-d pooling and convolution: padding from ONNX's attributes
(``pads``, ``auto_pad``, ``ceil_mode``) and a differentiable window view by indexing."""

from __future__ import annotations

import math

import numpy as np

import axonic.nn.functional as F


def window_pads(spatial, kernel, strides, dilations, attrs, ceil_mode=False):
    """``(begin, end, extra)`` per spatial dim: explicit padding at each side and the extra
    end padding that ``ceil_mode`` needs (not counted as padding by average pooling)."""
    d = len(spatial)
    auto = attrs.get("auto_pad", "NOTSET")
    pads = attrs.get("pads") or [0] * (2 * d)
    begin, end, extra = list(pads[:d]), list(pads[d:]), [0] * d
    for i, size in enumerate(spatial):
        span = dilations[i] * (kernel[i] - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out = -(-size // strides[i])
            total = max((out - 1) * strides[i] + span - size, 0)
            small, big = total // 2, total - total // 2
            begin[i], end[i] = (small, big) if auto == "SAME_UPPER" else (big, small)
        elif auto == "VALID":
            begin[i] = end[i] = 0
        if ceil_mode:
            padded = size + begin[i] + end[i]
            out = math.ceil((padded - span) / strides[i]) + 1
            if (out - 1) * strides[i] >= size + begin[i]:
                out -= 1
            extra[i] = max((out - 1) * strides[i] + span - padded, 0)
    return begin, end, extra


def pad_spatial(x, begin, end, value=0.0):
    """Pad the trailing ``len(begin)`` dims of ``x`` (constant ``value``)."""
    flat = []
    for b, e in zip(reversed(begin), reversed(end)):
        flat += [b, e]
    if not any(flat):
        return x
    return F.pad(x, tuple(flat), value=value)


def window_index(spatial, kernel, strides, dilations):
    """Index arrays that turn ``(N, C, *spatial)`` into ``(N, C, *out, *kernel)``."""
    d = len(spatial)
    index = []
    for i in range(d):
        out = (spatial[i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1
        pos = np.arange(out)[:, None] * strides[i] + np.arange(kernel[i])[None, :] * dilations[i]
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = out, kernel[i]
        index.append(pos.reshape(shape))
    return index


def windows(x, kernel, strides, dilations):
    """The ``(N, C, *out, *kernel)`` windows of an already padded ``x``."""
    index = window_index(x.shape[2:], kernel, strides, dilations)
    return x[(slice(None), slice(None)) + tuple(index)]
