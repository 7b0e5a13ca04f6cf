"""Data-parallel training: ``DistributedDataParallel`` (PyTorch's name and arguments)."""

from axonic.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
