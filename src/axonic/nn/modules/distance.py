"""``torch.nn.modules.distance``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    CosineSimilarity,
    PairwiseDistance,
)

__all__ = [
    "PairwiseDistance", "CosineSimilarity"
]
