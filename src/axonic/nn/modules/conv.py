"""``torch.nn.modules.conv``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
)

__all__ = [
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"
]
