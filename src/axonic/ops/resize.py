"""Resizing: ``interpolate`` (``nearest``, ``nearest-exact``, ``linear``, ``bilinear``,
``trilinear``, ``area``) and ``pixel_shuffle`` / ``pixel_unshuffle``, as PyTorch's.

Interpolation is separable: each spatial axis in turn is gathered at the source indices
PyTorch computes (nearest), or at the two neighbours of each source coordinate and mixed
with their weights (linear), so the gradients and second derivatives are those of
indexing, multiplication and addition. ``area`` is adaptive average pooling.

>>> import axonic
>>> x = axonic.tensor([[[1.0, 2.0, 4.0]]])
>>> interpolate(x, scale_factor=2, mode="nearest").tolist()
[[[1.0, 1.0, 2.0, 2.0, 4.0, 4.0]]]
>>> interpolate(x, size=5, mode="linear", align_corners=True).tolist()
[[[1.0, 1.5, 2.0, 3.0, 4.0]]]
"""

from __future__ import annotations

import math

import numpy as np

from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area")


def _tnn():
    return TORCH.nn.functional


def _per_axis(value, n: int, what: str, kind) -> tuple:
    values = tuple(value) if isinstance(value, list | tuple) else (value,) * n
    if len(values) != n or not all(isinstance(v, kind) and not isinstance(v, bool)
                                   for v in values):
        raise ValueError(f"interpolate: {what} must be one {kind.__name__} or {n} of them "
                         f"(one per spatial dim), got {value!r}")
    return values


def _sizes(shape, size, scale_factor, recompute) -> tuple[tuple, tuple]:
    """Output sizes and the scales (input / output per axis) the source indices use."""
    n = len(shape) - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor, got "
                         f"size={size!r}, scale_factor={scale_factor!r}")
    if size is not None:
        out = _per_axis(size, n, "size", int)
        if any(s <= 0 for s in out):
            raise ValueError(f"interpolate: size must be positive, got {size!r}")
        return out, tuple(i / o for i, o in zip(shape[2:], out))
    factors = tuple(float(f) for f in _per_axis(scale_factor, n, "scale_factor", int | float))
    if not all(f > 0 and math.isfinite(f) for f in factors):
        raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
    out = tuple(int(math.floor(i * f)) for i, f in zip(shape[2:], factors))
    if any(s <= 0 for s in out):
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} makes an empty output "
                         f"from the input's spatial shape {tuple(shape[2:])}")
    if recompute:
        return out, tuple(i / o for i, o in zip(shape[2:], out))
    return out, tuple(1.0 / f for f in factors)


def _nearest(length: int, out: int, scale: float, exact: bool) -> np.ndarray:
    """PyTorch's nearest source indices (computed in float32, as its kernels do)."""
    dst = np.arange(out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    src = np.floor(dst * np.float32(scale)).astype(np.int64)
    return np.minimum(src, length - 1)


def _linear(length: int, out: int, scale: float, align_corners: bool):
    """The two source indices of each output position and their weights."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        src = dst * ((length - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), length - 1)
    hi = np.minimum(lo + 1, length - 1)
    frac = src - lo
    return lo, hi, 1.0 - frac, frac


def _gather(x, axis: int, index):
    return x[(slice(None),) * axis + (index,)]


def _weights(like, w, axis: int):
    """``w`` as a constant tensor along ``axis`` of ``like`` (its dtype and device)."""
    from axonic.autograd.tensor import _make
    from axonic.backend import get_array_module

    shape = [1] * like.ndim
    shape[axis] = w.size
    xp = get_array_module(like._data)
    return _make(xp.asarray(w.astype(like._data.dtype).reshape(shape)))


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resize the spatial dims of ``(N, C, *spatial)`` to ``size`` or by ``scale_factor``
    (``F.interpolate``): ``nearest`` (PyTorch's index rule, ``floor(dst * in / out)``),
    ``nearest-exact`` (pixel centres), ``linear`` / ``bilinear`` / ``trilinear`` for 1, 2
    and 3 spatial dims (``align_corners`` False by default), ``area`` (adaptive average
    pooling, 1 or 2 spatial dims). ``bicubic`` and ``antialias`` are not implemented."""
    if mode not in _MODES:
        hint = " (not implemented in axonic)" if mode == "bicubic" else ""
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}, got "
                         f"{mode!r}{hint}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not implemented in axonic")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-d, 4-d or 5-d input (N, C, *spatial), "
                         f"got shape {tuple(input.shape)}")
    n = input.ndim - 2
    if mode in _LINEAR and _LINEAR[mode] != n:
        raise ValueError(f"interpolate: mode {mode!r} takes a {_LINEAR[mode] + 2}-d input, "
                         f"got shape {tuple(input.shape)}")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("interpolate: align_corners can only be set with the linear modes "
                         f"(linear, bilinear, trilinear), not with mode {mode!r}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got "
                        f"{input._data.dtype.name}")
    out, scales = _sizes(input.shape, size, scale_factor, recompute_scale_factor)
    if any(s == 0 for s in input.shape[2:]):
        raise ValueError(f"interpolate: the input's spatial dims must be non-empty, got shape "
                         f"{tuple(input.shape)}")
    if mode == "area":
        from axonic.ops.adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

        if n == 3:
            raise ValueError("interpolate: mode 'area' takes 3-d or 4-d input in axonic, got "
                             f"shape {tuple(input.shape)}")
        return adaptive_avg_pool1d(input, out) if n == 1 else adaptive_avg_pool2d(input, out)
    y = input
    for k, (length, o, s) in enumerate(zip(input.shape[2:], out, scales)):
        axis = k + 2
        if o == length and (mode not in _LINEAR or align_corners or s == 1.0):
            continue  # PyTorch's indices are the identity here
        if mode in ("nearest", "nearest-exact"):
            y = _gather(y, axis, _nearest(length, o, s, mode == "nearest-exact"))
            continue
        lo, hi, w_lo, w_hi = _linear(length, o, s, bool(align_corners))
        y = (_gather(y, axis, lo) * _weights(y, w_lo, axis)
             + _gather(y, axis, hi) * _weights(y, w_hi, axis))
    return y if y is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """``F.upsample``: ``interpolate`` under its old name."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """``F.upsample_nearest``: ``interpolate(..., mode="nearest")``."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``F.upsample_bilinear``: bilinear with ``align_corners=True`` (as PyTorch's)."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def _factor(value, name: str, op_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{op_name}: {name} must be a positive int, got {value!r}")
    return int(value)


@op()
def pixel_shuffle(input, upscale_factor):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)`` (``F.pixel_shuffle``).

    >>> import axonic
    >>> pixel_shuffle(axonic.arange(8.0).reshape(1, 4, 1, 2), 2).shape
    (1, 1, 2, 4)
    """
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected an input (*, C * {r * r}, H, W) whose "
                         f"channel dim divides by upscale_factor^2 = {r * r}, got shape "
                         f"{tuple(input.shape)}")
    *lead, c, h, w = input.shape
    y = input.reshape(*lead, c // (r * r), r, r, h, w)
    k = len(lead)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


@op()
def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)``, the inverse of ``pixel_shuffle``."""
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected an input (*, C, H, W) whose H and W "
                         f"divide by downscale_factor = {r}, got shape {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    k = len(lead)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, c * r * r, h // r, w // r)


# --- NumPy float64 references: direct per-output formulas, independent of the above -----
def np_interpolate(x, out, mode, align_corners=False, scale_factor=None):
    """Each output element from its own source coordinate (one axis at a time)."""
    y = np.asarray(x, dtype=np.float64)
    for k, o in enumerate(out):
        axis, length = k + 2, y.shape[k + 2]
        scale = 1.0 / scale_factor if scale_factor else length / o
        cols = []
        for d in range(o):
            if mode == "nearest":
                i = min(int(np.floor(np.float32(d) * np.float32(scale))), length - 1)
                cols.append(np.take(y, i, axis=axis))
                continue
            s = (d * (length - 1) / (o - 1) if o > 1 else 0.0) if align_corners else \
                max((d + 0.5) * scale - 0.5, 0.0)
            i0 = min(int(np.floor(s)), length - 1)
            i1, f = min(i0 + 1, length - 1), s - min(int(np.floor(s)), length - 1)
            cols.append((1 - f) * np.take(y, i0, axis=axis) + f * np.take(y, i1, axis=axis))
        y = np.stack(cols, axis=axis)
    return y


def np_pixel_shuffle(x, r):
    n, c, h, w = x.shape
    out = np.empty((n, c // (r * r), h * r, w * r))
    for ch in range(c):
        oc, rem = divmod(ch, r * r)
        i, j = divmod(rem, r)
        out[:, oc, i::r, j::r] = x[:, ch]
    return out


SPECS = [
    OpSpec("interpolate_nearest_2d", lambda x: interpolate(x, size=(5, 7)),
           lambda x: np_interpolate(x, (5, 7), "nearest"), [((2, 3, 3, 4),)],
           lambda x: _tnn().interpolate(x, size=(5, 7))),
    OpSpec("interpolate_nearest_scale_down", lambda x: interpolate(x, scale_factor=0.5),
           lambda x: np_interpolate(x, (3,), "nearest", scale_factor=0.5), [((2, 3, 7),)],
           lambda x: _tnn().interpolate(x, scale_factor=0.5)),
    OpSpec("interpolate_linear", lambda x: interpolate(x, size=9, mode="linear"),
           lambda x: np_interpolate(x, (9,), "linear"), [((2, 3, 4),)],
           lambda x: _tnn().interpolate(x, size=9, mode="linear")),
    OpSpec("interpolate_bilinear", lambda x: interpolate(x, scale_factor=(2, 1.5),
                                                         mode="bilinear"),
           lambda x: np_interpolate(x, (6, 6), "linear"), [((2, 2, 3, 4),)],
           lambda x: _tnn().interpolate(x, scale_factor=(2, 1.5), mode="bilinear")),
    OpSpec("interpolate_bilinear_align_corners",
           lambda x: interpolate(x, size=(4, 9), mode="bilinear", align_corners=True),
           lambda x: np_interpolate(x, (4, 9), "linear", align_corners=True),
           [((1, 2, 5, 3),)],
           lambda x: _tnn().interpolate(x, size=(4, 9), mode="bilinear", align_corners=True)),
    OpSpec("interpolate_trilinear", lambda x: interpolate(x, size=(3, 4, 2), mode="trilinear"),
           lambda x: np_interpolate(x, (3, 4, 2), "linear"), [((1, 2, 2, 3, 3),)],
           lambda x: _tnn().interpolate(x, size=(3, 4, 2), mode="trilinear")),
    OpSpec("pixel_shuffle", lambda x: pixel_shuffle(x, 2), lambda x: np_pixel_shuffle(x, 2),
           [((2, 8, 3, 2),)], lambda x: _tnn().pixel_shuffle(x, 2)),
    OpSpec("pixel_unshuffle", lambda x: pixel_unshuffle(x, 2),
           lambda x: np.einsum("ncxiyj->ncijxy", x.reshape(2, 2, 2, 2, 3, 2)).reshape(
               2, 8, 2, 3), [((2, 2, 4, 6),)], lambda x: _tnn().pixel_unshuffle(x, 2)),
]
