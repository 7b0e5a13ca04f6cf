"""``torch.utils.data.distributed``'s name (the sampler lives in ``axonic.data.distributed``)."""

from axonic.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
