"""ONNX vision ops: GridSample (N-d; nearest, linear, cubic; zeros, border, reflection
padding; gradients flow to the input, not to the grid), AffineGrid (differentiable in theta)
and NonMaxSuppression."""

from __future__ import annotations

import itertools

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, scalar, to_value


def _reflect(x, lo, hi):
    span = hi - lo
    below, above = x < lo, x > hi
    dx = np.where(below, lo - x, np.where(above, x - hi, 0.0))
    n = np.floor(dx / span)
    r = dx - n * span
    even = n % 2 == 0
    return np.where(below, np.where(even, lo + r, hi - r),
                    np.where(above, np.where(even, hi - r, lo + r), x))


def _cubic(t, a=-0.75):
    d = np.stack([t + 1, t, 1 - t, 2 - t], -1)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(np.arange(4) % 3 == 0, far, near)


def _taps(x, mode):
    """Per dim: integer taps ``(..., k)`` and their weights."""
    if mode == "nearest":
        return x.astype(np.int64)[..., None], np.ones(x.shape + (1,))
    base = np.floor(x)
    t = x - base
    if mode == "linear":
        return (base[..., None] + np.arange(2)).astype(np.int64), np.stack([1 - t, t], -1)
    return (base[..., None] + np.arange(-1, 3)).astype(np.int64), _cubic(t)


@onnx_op("GridSample", since=16)
def grid_sample(inputs, attrs, ctx):
    x, grid = inputs
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(attrs.get("mode", "linear"),
                                                          attrs.get("mode", "linear"))
    pad = attrs.get("padding_mode", "zeros")
    align = attrs.get("align_corners", 0)
    dims = x.shape[2:]
    d = len(dims)
    g = np.asarray(arr(grid), dtype=np.float64)[..., ::-1]  # (N, *out, D) in dim order
    size = np.array(dims, dtype=np.float64)
    pos = (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2
    lo = np.zeros(d) if align else np.full(d, -0.5)
    hi = size - 1 if align else size - 0.5
    if mode == "nearest":
        pos = np.rint(pos)
    if pad == "border":
        pos = np.where((pos < lo) | (pos > hi), np.clip(pos, 0, size - 1), pos)
    elif pad == "reflection":
        pos = _reflect(pos, lo, hi)
    taps = [_taps(pos[..., i], mode) for i in range(d)]
    n = x.shape[0]
    flat = x.reshape(n, x.shape[1], -1)
    batch = np.arange(n).reshape((n,) + (1,) * (pos.ndim - 2))
    out = None
    for combo in itertools.product(*[range(t[0].shape[-1]) for t in taps]):
        weight = np.ones(pos.shape[:-1])
        index = np.zeros(pos.shape[:-1], dtype=np.int64)
        valid = np.ones(pos.shape[:-1], dtype=bool)
        for i, k in enumerate(combo):
            idx, w = taps[i][0][..., k], taps[i][1][..., k]
            if pad == "zeros":
                valid &= (idx >= 0) & (idx < dims[i])
            elif pad == "border":
                idx = np.clip(idx, 0, dims[i] - 1)
            else:
                idx = np.clip(_reflect(idx.astype(np.float64), lo[i], hi[i]).astype(np.int64),
                              0, dims[i] - 1)
            weight = weight * w
            index = index * dims[i] + np.clip(idx, 0, dims[i] - 1)
        weight = weight * valid
        picked = flat[batch, :, index]  # (N, *out, C)
        term = picked * to_value(weight[..., None].astype(arr(x).dtype))
        out = term if out is None else out + term
    return out.movedim(-1, 1)


@onnx_op("NonMaxSuppression", since=10)
def non_max_suppression(inputs, attrs, ctx):
    opt = list(inputs) + [None] * (5 - len(inputs))
    boxes, scores = arr(opt[0]).astype(np.float64), arr(opt[1])
    limit = int(scalar(opt[2])) if opt[2] is not None and arr(opt[2]).size else 0
    iou_max = float(scalar(opt[3])) if opt[3] is not None and arr(opt[3]).size else 0.0
    floor = float(scalar(opt[4])) if opt[4] is not None and arr(opt[4]).size else None
    if attrs.get("center_point_box", 0):
        c, half = boxes[..., :2], boxes[..., 2:] / 2
        corners = np.concatenate([c - half, c + half], -1)
    else:
        y1x1, y2x2 = boxes[..., :2], boxes[..., 2:]
        corners = np.concatenate([np.minimum(y1x1, y2x2), np.maximum(y1x1, y2x2)], -1)
    picked = []
    for b in range(scores.shape[0]):
        bx = corners[b]
        area = np.prod(bx[:, 2:] - bx[:, :2], axis=1)
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = [i for i in np.argsort(-s, kind="stable") if floor is None or s[i] > floor]
            keep = []
            for i in order:
                if len(keep) >= limit:
                    break
                ok = True
                for j in keep:
                    inter = np.prod(np.clip(np.minimum(bx[i, 2:], bx[j, 2:])
                                            - np.maximum(bx[i, :2], bx[j, :2]), 0, None))
                    union = area[i] + area[j] - inter
                    if union > 0 and inter / union > iou_max:
                        ok = False
                        break
                if ok:
                    keep.append(i)
            picked += [[b, c, i] for i in keep]
    return to_value(np.array(picked, dtype=np.int64).reshape(-1, 3))




@onnx_op("AffineGrid", since=20)
def affine_grid(inputs, attrs, ctx):
    theta, size = inputs
    spatial = [int(s) for s in arr(size)[2:]]
    align = attrs.get("align_corners", 0)
    axes = []
    for n in spatial:
        i = np.arange(n, dtype=np.float64)
        axes.append(i * 2 / max(n - 1, 1) - 1 if align else (2 * i + 1) / n - 1)
    mesh = np.meshgrid(*axes, indexing="ij")  # per dim, in dim order (z, y, x)
    base = np.stack(list(mesh[::-1]) + [np.ones(spatial)], -1)  # (*spatial, x y (z) 1)
    base = to_value(base.reshape(-1, len(spatial) + 1).astype(arr(theta).dtype))
    grid = axonic.matmul(base, theta.transpose(1, 2))  # (N, points, d)
    return grid.reshape(theta.shape[0], *spatial, len(spatial))
