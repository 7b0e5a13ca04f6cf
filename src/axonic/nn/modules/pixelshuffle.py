"""``torch.nn.modules.pixelshuffle``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn.upsampling import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
