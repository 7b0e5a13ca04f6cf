"""``torch.nn.modules.instancenorm``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
