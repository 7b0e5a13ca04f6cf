"""Geometric batch transforms: flips, crops, ``RandomAffine``, ``RandomRotation`` and
``Resize``. Each output pixel is mapped back to the input (an inverse affine map about the
image centre) and sampled there, nearest or bilinear, with array ops over the whole batch;
pixels that fall outside the input take ``fill``. Angles are in degrees, positive
counter-clockwise, as in torchvision.

>>> import numpy as np
>>> CenterCrop(2)(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0].tolist()
[[5.0, 6.0], [9.0, 10.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from axonic.backend import get_array_module
from axonic.data.sampling import affine_grid, forward_matrices, gather_pixels, sample_grid
from axonic.data.transforms_base import Transform


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = _probability(p, "RandomHorizontalFlip")

    def apply(self, a, gen):
        flip = _flags(gen, a.shape[0], self.p, a)
        return get_array_module(a).where(flip, a[..., ::-1], a)


class RandomVerticalFlip(Transform):
    """Mirror each image top-bottom with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = _probability(p, "RandomVerticalFlip")

    def apply(self, a, gen):
        flip = _flags(gen, a.shape[0], self.p, a)
        return get_array_module(a).where(flip, a[..., ::-1, :], a)


def _probability(p, who):
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"{who}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def _flags(gen, n, p, like):
    draw = gen.uniform(0.0, 1.0, (n,), dtype=np.float64) < p
    return get_array_module(like).asarray(draw).reshape(n, 1, 1, 1)


def _pair(v, who, what):
    if isinstance(v, numbers.Integral):
        return int(v), int(v)
    if isinstance(v, list | tuple) and len(v) == 2:
        return int(v[0]), int(v[1])
    raise ValueError(f"{who}: {what} must be an int or a pair (h, w), got {v!r}")


class RandomCrop(Transform):
    """Cut a random ``size`` window from each image, after optional padding.

    ``padding``: int, (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode``: 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = _pair(size, "RandomCrop", "size")
        if padding is None:
            self.padding = (0, 0, 0, 0)
        elif isinstance(padding, numbers.Integral):
            self.padding = (int(padding),) * 4
        elif isinstance(padding, list | tuple) and len(padding) in (2, 4):
            p = [int(v) for v in padding]
            self.padding = tuple(p * 2) if len(p) == 2 else tuple(p)
        else:
            raise ValueError(f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, "
                             f"got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("RandomCrop: padding_mode must be 'constant', 'edge', 'reflect' or "
                             f"'symmetric', got {padding_mode!r}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def apply(self, a, gen):
        xp = get_array_module(a)
        left, top, right, bottom = self.padding
        h, w = self.size
        if self.pad_if_needed:
            top, bottom = (top, bottom + max(0, h - (a.shape[2] + top + bottom)))
            left, right = (left, right + max(0, w - (a.shape[3] + left + right)))
        if left or top or right or bottom:
            widths = ((0, 0), (0, 0), (top, bottom), (left, right))
            extra = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
            a = xp.pad(a, widths, mode=self.padding_mode, **extra)
        n, _, hp, wp = a.shape
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop size {(h, w)} is larger than the (padded) input "
                             f"{(hp, wp)}; add padding or pad_if_needed=True")
        oy = xp.asarray(gen.integers(0, hp - h + 1, (n,)))
        ox = xp.asarray(gen.integers(0, wp - w + 1, (n,)))
        rows = oy[:, None, None] + xp.arange(h)[None, :, None]
        cols = ox[:, None, None] + xp.arange(w)[None, None, :]
        return gather_pixels(a, xp.broadcast_to(rows, (n, h, w)), xp.broadcast_to(cols, (n, h, w)))


class CenterCrop(Transform):
    """Cut the central ``size`` window of each image."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop", "size")

    def apply(self, a, gen):
        h, w = self.size
        if h > a.shape[2] or w > a.shape[3]:
            raise ValueError(f"CenterCrop: crop size {(h, w)} is larger than the input "
                             f"{tuple(a.shape[2:])}")
        top = int(round((a.shape[2] - h) / 2.0))
        left = int(round((a.shape[3] - w) / 2.0))
        return a[:, :, top : top + h, left : left + w].copy()


def _range(v, who, what, symmetric=True, low=None):
    if isinstance(v, numbers.Real):
        if symmetric and v < 0:
            raise ValueError(f"{who}: if {what} is a single number, it must be non-negative, "
                             f"got {v!r}")
        return (-float(v), float(v)) if symmetric else (float(v), float(v))
    if isinstance(v, list | tuple) and len(v) == 2 and v[0] <= v[1]:
        if low is not None and v[0] < low:
            raise ValueError(f"{who}: {what} values must be >= {low}, got {v!r}")
        return float(v[0]), float(v[1])
    raise ValueError(f"{who}: {what} must be a number or a pair (min, max) with min <= max, "
                     f"got {v!r}")


class RandomAffine(Transform):
    """Random rotation, translation, scale and shear of each image.

    ``degrees``: d or (min, max); ``translate``: (a, b), fractions of width and height
    (shifts drawn in [-a*W, a*W] and [-b*H, b*H], rounded to whole pixels);
    ``scale``: (min, max); ``shear``: s, (min, max) along x, or (xmin, xmax, ymin, ymax).

    >>> x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    >>> bool((RandomAffine(degrees=(90, 90))(x)[0, 0] == np.rot90(x[0, 0])).all())
    True
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation="nearest", fill=0, center=None):
        who = type(self).__name__
        self.degrees = _range(degrees, who, "degrees")
        if translate is not None:
            if not (isinstance(translate, list | tuple) and len(translate) == 2
                    and all(0 <= t <= 1 for t in translate)):
                raise ValueError(f"{who}: translate must be a pair of fractions in [0, 1], got "
                                 f"{translate!r}")
        self.translate = translate
        if scale is not None:
            scale = _range(scale, who, "scale", symmetric=False, low=1e-12)
            if scale[0] <= 0:
                raise ValueError(f"{who}: scale values must be positive, got {scale!r}")
        self.scale = scale
        if shear is not None:
            if isinstance(shear, list | tuple) and len(shear) == 4:
                shear = (_range(tuple(shear[:2]), who, "shear"), _range(tuple(shear[2:]), who,
                                                                        "shear"))
            else:
                shear = (_range(shear, who, "shear"), (0.0, 0.0))
        self.shear = shear
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{who}: interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        self.fill = fill
        self.center = center

    def apply(self, a, gen):
        n, _, h, w = a.shape
        angles = gen.uniform(*self.degrees, (n,), dtype=np.float64)
        offsets = np.zeros((n, 2))
        if self.translate is not None:
            mx, my = self.translate[0] * w, self.translate[1] * h
            offsets[:, 0] = np.round(gen.uniform(-mx, mx, (n,), dtype=np.float64))
            offsets[:, 1] = np.round(gen.uniform(-my, my, (n,), dtype=np.float64))
        scales = None if self.scale is None else gen.uniform(*self.scale, (n,), np.float64)
        shears = None
        if self.shear is not None:
            shears = np.stack([gen.uniform(*self.shear[0], (n,), dtype=np.float64),
                               gen.uniform(*self.shear[1], (n,), dtype=np.float64)], -1)
        inverse = np.linalg.inv(forward_matrices(angles, scales, shears))
        center = self.center or ((w - 1) / 2.0, (h - 1) / 2.0)
        ys, xs = affine_grid(inverse, offsets, (h, w), center)
        xp = get_array_module(a)
        return sample_grid(a, xp.asarray(ys), xp.asarray(xs), self.interpolation, self.fill)


class RandomRotation(RandomAffine):
    """Rotate each image by an angle drawn from ``degrees`` (d -> [-d, d]) about its centre.

    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> bool((RandomRotation((90, 90))(x)[0, 0] == np.rot90(x[0, 0])).all())
    True
    """

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        if expand:
            raise ValueError("RandomRotation: expand=True would change the image size inside a "
                             "batch; crop or pad the output instead")
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center)


class Resize(Transform):
    """Resize each image to ``size`` (h, w) with bilinear or nearest sampling
    (pixel centres aligned, edges clamped; no antialiasing when shrinking)."""

    def __init__(self, size, interpolation="bilinear"):
        self.size = _pair(size, "Resize", "size")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"Resize: interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}")
        self.interpolation = interpolation

    def apply(self, a, gen):
        xp = get_array_module(a)
        n, _, h, w = a.shape
        ho, wo = self.size
        ys = np.clip((np.arange(ho) + 0.5) * (h / ho) - 0.5, 0, h - 1)
        xs = np.clip((np.arange(wo) + 0.5) * (w / wo) - 0.5, 0, w - 1)
        if self.interpolation == "nearest":
            ys = np.floor((np.arange(ho) + 0.5) * (h / ho)).clip(0, h - 1)
            xs = np.floor((np.arange(wo) + 0.5) * (w / wo)).clip(0, w - 1)
        gy = np.broadcast_to(ys[None, :, None], (n, ho, wo))
        gx = np.broadcast_to(xs[None, None, :], (n, ho, wo))
        return sample_grid(a, xp.asarray(gy), xp.asarray(gx), self.interpolation)
