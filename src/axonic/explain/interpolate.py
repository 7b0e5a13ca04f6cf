"""Resizing attribution maps to the input's size, as ``torch.nn.functional.interpolate``
does it (nearest, or linear along each axis with ``align_corners=False``)."""

from __future__ import annotations

import numpy as np

MODES = ("nearest", "linear", "bilinear", "trilinear")


def _nearest_axis(a: np.ndarray, axis: int, size: int) -> np.ndarray:
    n = a.shape[axis]
    idx = np.minimum(np.floor(np.arange(size) * (n / size)).astype(np.int64), n - 1)
    return np.take(a, idx, axis=axis)


def _linear_axis(a: np.ndarray, axis: int, size: int) -> np.ndarray:
    n = a.shape[axis]
    src = np.maximum((np.arange(size) + 0.5) * (n / size) - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.where(i0 < n - 1, i0 + 1, i0)
    w1 = (src - i0).astype(a.dtype)
    shape = [1] * a.ndim
    shape[axis] = size
    w1 = w1.reshape(shape)
    return np.take(a, i0, axis=axis) * (1 - w1) + np.take(a, i1, axis=axis) * w1


def interpolate(array: np.ndarray, size, mode: str = "nearest") -> np.ndarray:
    """Resize the trailing (spatial) axes of an ``(N, C, ...)`` array to ``size``.

    >>> interpolate(np.arange(4.0).reshape(1, 1, 2, 2), (4, 4))[0, 0, 0].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(MODES)}, got {mode!r}")
    size = (size,) if isinstance(size, int) else tuple(size)
    if array.ndim != len(size) + 2:
        raise ValueError(f"interpolate: an array of shape {array.shape} has "
                         f"{array.ndim - 2} spatial axes but size {size} has {len(size)}")
    resize = _nearest_axis if mode == "nearest" else _linear_axis
    out = array
    for k, s in enumerate(size):
        out = resize(out, 2 + k, s)
    return out
