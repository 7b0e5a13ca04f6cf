"""``torch.nn.modules.dropout``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Dropout,
    Dropout1d,
    Dropout2d,
)

__all__ = [
    "Dropout", "Dropout1d", "Dropout2d"
]
