"""``torch.nn.modules.conv``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
)
from axonic.nn.conv import _ConvNd  # noqa: F401  (isinstance checks)
from axonic.nn.conv import _ConvTranspose as _ConvTransposeNd  # noqa: F401
from axonic.nn.conv3d import Conv3d

__all__ = [
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"
]
