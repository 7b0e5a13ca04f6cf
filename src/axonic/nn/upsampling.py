"""Resizing layers: ``Upsample`` (and its fixed-mode forms ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``), ``PixelShuffle`` and ``PixelUnshuffle``, as PyTorch's.

>>> import axonic
>>> from axonic import nn
>>> nn.Upsample(scale_factor=2, mode="bilinear")(axonic.ones(1, 3, 4, 5)).shape
(1, 3, 8, 10)
>>> nn.PixelShuffle(2)(axonic.ones(1, 8, 3, 3)).shape
(1, 2, 6, 6)
"""

from __future__ import annotations

from axonic.nn.module import Module
from axonic.ops.resize import _MODES, interpolate, pixel_shuffle, pixel_unshuffle


class Upsample(Module):
    """``F.interpolate`` as a layer: ``size`` or ``scale_factor``, ``mode`` (``nearest``,
    ``nearest-exact``, ``linear``, ``bilinear``, ``trilinear``, ``area``), ``align_corners``
    and ``recompute_scale_factor`` as in ``torch.nn.Upsample``."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {', '.join(_MODES)}, "
                             f"got {mode!r}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of size and "
                             f"scale_factor, got size={size!r}, scale_factor={scale_factor!r}")
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (tuple(float(f) for f in scale_factor)
                             if isinstance(scale_factor, list | tuple)
                             else None if scale_factor is None else float(scale_factor))
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        try:
            return interpolate(input, self.size, self.scale_factor, self.mode,
                               self.align_corners, self.recompute_scale_factor)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("interpolate: ")) from None

    def extra_repr(self) -> str:
        what = (f"size={self.size}" if self.size is not None
                else f"scale_factor={self.scale_factor}")
        return f"{what}, mode='{self.mode}'"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode="nearest")`` for 4-d inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode="bilinear", align_corners=True)`` (PyTorch's fixed choice)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class PixelShuffle(Module):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)``: sub-pixel convolution's rearrangement
    (Shi et al., 2016)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        try:
            return pixel_shuffle(input, self.upscale_factor)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("pixel_shuffle: ")) from None

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)``, the inverse of ``PixelShuffle``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        try:
            return pixel_unshuffle(input, self.downscale_factor)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("pixel_unshuffle: ")) from None

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
