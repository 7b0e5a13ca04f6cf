"""``torch.nn.modules.batchnorm``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
)
from axonic.nn.normalization import _BatchNorm  # noqa: F401  (isinstance checks)

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"
]
