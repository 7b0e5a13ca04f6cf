"""``torch.nn.modules.pooling``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from axonic.nn.adaptive_max_pool import AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d
from axonic.nn.conv3d import AdaptiveAvgPool3d, AvgPool3d, MaxPool3d
from axonic.nn.lp_pool import LPPool1d, LPPool2d
from axonic.nn.pooling import _AdaptiveAvgPool as _AdaptiveAvgPoolNd  # noqa: F401
from axonic.nn.pooling import _AvgPool as _AvgPoolNd  # noqa: F401
from axonic.nn.pooling import _MaxPool as _MaxPoolNd  # noqa: F401

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "LPPool1d", "LPPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"
]
