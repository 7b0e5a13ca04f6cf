"""``torch.nn.modules.linear``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Bilinear,
    Identity,
    Linear,
)

__all__ = [
    "Bilinear", "Identity", "Linear"
]
