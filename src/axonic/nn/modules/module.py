"""``torch.nn.modules.module``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Module,
)

__all__ = [
    "Module"
]
