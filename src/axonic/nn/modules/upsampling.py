"""``torch.nn.modules.upsampling``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
