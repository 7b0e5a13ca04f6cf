"""Batch transforms and augmentation, vectorised over the whole batch.

Each transform takes a batch ``(N, C, H, W)`` (or one image ``(C, H, W)``) as an axonic
``Tensor`` or a NumPy/CuPy array and returns the same kind. Random transforms draw one
parameter set per image from ``generator``: the one passed to the call, else the one a
``DataLoader`` sets for the batch being built, else ``axonic``'s default generator.

This file holds the pixel-value transforms (``ToTensor``, ``Normalize``); the base classes
are in ``transforms_base``, the geometric transforms in ``transforms_geometric``, and every
name stays importable from here.

>>> import numpy as np
>>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
>>> t = Compose([RandomHorizontalFlip(p=1.0), Normalize([8.0], [2.0])])
>>> t(x)[0, 0, 0].tolist()
[-2.5, -3.0, -3.5, -4.0]
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.data.sampling import affine_grid, forward_matrices, sample_grid  # noqa: F401
from axonic.data.transforms_base import Compose, Lambda, Transform, using_generator
from axonic.data.transforms_geometric import (
    CenterCrop,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)


class ToTensor:
    """uint8 ``(H, W, C)`` images (or ``(N, H, W, C)`` batches, or PIL images) -> float32
    ``(C, H, W)`` / ``(N, C, H, W)`` tensors in [0, 1]; float input keeps its scale.

    >>> ToTensor()(np.full((2, 2, 3), 255, np.uint8)).shape
    (3, 2, 2)
    """

    def __call__(self, pic, generator=None):
        a = np.asarray(pic)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim not in (3, 4):
            raise ValueError(f"ToTensor: expected an image (H, W[, C]) or a batch (N, H, W, C), "
                             f"got shape {a.shape}")
        a = np.moveaxis(a, -1, -3)
        if a.dtype == np.uint8:
            out = a.astype(np.float32)
            out *= np.float32(1 / 255)
        elif a.dtype.kind == "f":
            out = a.astype(np.float32)
        elif a.dtype == np.bool_:
            out = a.astype(np.float32)
        else:
            raise TypeError(f"ToTensor: expected uint8, bool or float pixels, got {a.dtype}")
        return _make(np.ascontiguousarray(out))


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` for each channel ``c``.

    Works on any ``(N, C, ...)`` batch, including ``(N, features)`` tables.

    >>> Normalize([1.0, 2.0], [2.0, 4.0])(np.array([[3.0, 6.0]], np.float32)).tolist()
    [[1.0, 1.0]]
    """

    needs_image = False

    def __init__(self, mean, std, inplace=False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError("Normalize: mean and std must be numbers or 1-D sequences")
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float64, "
                             f"leading to division by zero: std={self.std.tolist()}")
        self.inplace = inplace

    def __call__(self, x, generator=None):
        is_tensor = isinstance(x, Tensor)
        a = x._data if is_tensor else x
        if a.ndim < 2 or a.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float batch (N, C, ...), got shape "
                            f"{tuple(a.shape)} dtype {a.dtype}; convert images with ToTensor")
        c = a.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, c):
                raise ValueError(f"Normalize: got {v.size} values for {name} but the input has "
                                 f"{c} channels (shape {tuple(a.shape)})")
        xp = get_array_module(a)
        shape = (-1,) + (1,) * (a.ndim - 2)
        mean = xp.asarray(self.mean.astype(a.dtype).reshape(shape))
        std = xp.asarray(self.std.astype(a.dtype).reshape(shape))
        if self.inplace:
            a -= mean
            a /= std
            out = a
        else:
            out = (a - mean) / std
        return _make(out) if is_tensor else out


__all__ = ["CenterCrop", "Compose", "Lambda", "Normalize", "RandomAffine", "RandomCrop",
           "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip", "Resize", "ToTensor",
           "Transform", "affine_grid", "sample_grid", "using_generator"]
