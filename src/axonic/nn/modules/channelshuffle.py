"""``torch.nn.modules.channelshuffle``'s names in axonic (the layers live in ``axonic.nn``)."""

from axonic.nn.instancenorm import ChannelShuffle

__all__ = ["ChannelShuffle"]
