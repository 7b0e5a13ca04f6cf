"""``torch.nn.modules.sparse``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Embedding,
)
from axonic.nn.embedding_bag import EmbeddingBag

__all__ = [
    "Embedding", "EmbeddingBag"
]
