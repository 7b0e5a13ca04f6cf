"""Data-parallel training: ``DistributedDataParallel`` (PyTorch's name and arguments), and
``DataParallel`` / ``data_parallel`` for programs written for one process (on one device)."""

from axonic.nn.parallel.data_parallel import DataParallel, data_parallel
from axonic.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
