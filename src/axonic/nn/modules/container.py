"""``torch.nn.modules.container``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)

__all__ = [
    "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"
]
