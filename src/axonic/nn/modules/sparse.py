"""``torch.nn.modules.sparse``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Embedding,
)

__all__ = [
    "Embedding"
]
