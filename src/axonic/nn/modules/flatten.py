"""``torch.nn.modules.flatten``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Flatten,
    Unflatten,
)

__all__ = [
    "Flatten", "Unflatten"
]
