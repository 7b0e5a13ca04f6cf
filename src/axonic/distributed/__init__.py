"""Processes that train together, with PyTorch's names (``torch.distributed``), over MPI.

axonic runs on an existing distributed engine rather than a home-made one: MPI, through
``mpi4py`` (extra ``mpi``). Start the processes with ``mpirun -n N python train.py`` (or
``srun`` under Slurm); each calls ``init_process_group()`` and learns its rank and the
world size from the MPI environment.

Collectives work on tensors in place, as PyTorch's do. On the GPU the same calls pass
CuPy arrays to a CUDA-aware MPI (one code path; see docs/DISTRIBUTED.md).

>>> import axonic.distributed as dist
>>> dist.is_initialized()
False
"""

from axonic.distributed.process_group import (
    ReduceOp,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    launched_world_size,
)

__all__ = ["ReduceOp", "all_gather", "all_gather_object", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "launched_world_size"]
