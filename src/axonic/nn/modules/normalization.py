"""``torch.nn.modules.normalization``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    GroupNorm,
    LayerNorm,
    RMSNorm,
)
from axonic.nn.instancenorm import LocalResponseNorm

__all__ = [
    "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"
]
