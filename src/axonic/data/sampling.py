"""Sampling images on an inverse-mapped grid, for a whole batch at once.

Geometric transforms say, for every output pixel, where in the input it comes from
(``affine_grid``); ``sample_grid`` then reads those points with nearest or bilinear
interpolation using one gather per corner over the batch. Coordinates are in pixels,
``x`` to the right and ``y`` down, pixel centres at integers.
"""

from __future__ import annotations

import numpy as np

from axonic.backend import get_array_module


def gather_pixels(a, rows, cols):
    """``a[n, :, rows[n], cols[n]]`` for integer index grids ``(N, h, w)``, as (N, C, h, w)."""
    xp = get_array_module(a)
    n, c, h, w = a.shape
    lin = (rows * w + cols).reshape(n, 1, -1)
    out = xp.take_along_axis(a.reshape(n, c, h * w), lin, axis=2)
    return out.reshape(n, c, *rows.shape[1:])


def sample_grid(a, ys, xs, mode="bilinear", fill=0.0):
    """Sample ``a`` (N, C, H, W) at pixel coordinates ``ys, xs`` (N, Ho, Wo).

    Points outside the image take ``fill``; bilinear weights a partly outside
    neighbourhood with ``fill`` for the missing pixels. Integer images are interpolated
    in float32 and rounded back to their dtype.
    """
    xp = get_array_module(a)
    n, c, h, w = a.shape
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {mode!r}")
    # channels last, so each gathered pixel is one contiguous row of C values
    rows = xp.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(n * h * w, c)
    base = (xp.arange(n, dtype=np.int64) * (h * w)).reshape(n, 1, 1)

    def gather(iy, ix):
        inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        lin = xp.where(inside, iy * w + ix, 0) + base
        return xp.take(rows, lin.reshape(-1), axis=0).reshape(*lin.shape, c), inside

    if mode == "nearest":
        vals, inside = gather(xp.rint(ys).astype(np.int64), xp.rint(xs).astype(np.int64))
        out = xp.where(inside[..., None], vals, xp.asarray(fill, dtype=a.dtype))
        return xp.ascontiguousarray(out.transpose(0, 3, 1, 2))
    work = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    y0, x0 = xp.floor(ys), xp.floor(xs)
    wy, wx = (ys - y0).astype(work), (xs - x0).astype(work)
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    out, missing = None, None
    for iy, ix, wgt in ((y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                        (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)):
        vals, inside = gather(iy, ix)
        term = vals * xp.where(inside, wgt, 0)[..., None]
        out = term if out is None else out + term
        if fill:
            lost = xp.where(inside, 0, wgt)
            missing = lost if missing is None else missing + lost
    if fill:
        out += missing[..., None] * xp.asarray(fill, dtype=work)
    out = out.transpose(0, 3, 1, 2)
    if a.dtype.kind != "f":
        out = xp.rint(out)
        if a.dtype.kind in "iu":
            info = np.iinfo(a.dtype)
            out = xp.clip(out, info.min, info.max)
    return xp.ascontiguousarray(out.astype(a.dtype, copy=False))


def affine_grid(matrices, offsets, size, center):
    """Source coordinates for output pixels of ``size`` (h, w): for each image ``n``,
    ``p_in = center + matrices[n] @ (p_out - center - offsets[n])`` with ``p = (x, y)``."""
    h, w = size
    cx, cy = center
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    u = xx[None] - cx - offsets[:, 0, None, None]
    v = yy[None] - cy - offsets[:, 1, None, None]
    m = matrices
    xs = cx + m[:, 0, 0, None, None] * u + m[:, 0, 1, None, None] * v
    ys = cy + m[:, 1, 0, None, None] * u + m[:, 1, 1, None, None] * v
    return ys, xs


def forward_matrices(angles, scales=None, shears=None):
    """The forward maps ``scale * R(angle) @ Shear(shear)`` (N, 2, 2) in (x right, y down)
    pixel coordinates; angles and shears in degrees, positive angle counter-clockwise."""
    t = np.deg2rad(np.asarray(angles, dtype=np.float64))
    cos, sin = np.cos(t), np.sin(t)
    rot = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    if shears is not None:
        sh = np.tan(np.deg2rad(np.asarray(shears, dtype=np.float64)))  # (N, 2): x and y shear
        shear = np.stack([np.stack([np.ones_like(sh[:, 0]), sh[:, 0]], -1),
                          np.stack([sh[:, 1], np.ones_like(sh[:, 0])], -1)], -2)
        rot = rot @ shear
    if scales is not None:
        rot = rot * np.asarray(scales, dtype=np.float64)[:, None, None]
    return rot
