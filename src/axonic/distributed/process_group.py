"""The default process group over MPI and its collectives (``all_reduce``, ``broadcast``,
``all_gather``, ``barrier``), each on tensors in place as in PyTorch."""

from __future__ import annotations

import enum

from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' values (PyTorch's names)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _Group:
    """The one process group: an MPI communicator and what it knows."""

    def __init__(self, comm, mpi):
        self.comm = comm
        self.mpi = mpi
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()


_DEFAULT: list = [None]


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:  # the one line a user without the extra sees
        raise ImportError("axonic.distributed needs mpi4py and an MPI library: "
                          "pip install 'axonic[mpi]' (and e.g. apt-get install openmpi-bin "
                          "libopenmpi-dev)") from None
    return MPI


def is_available() -> bool:
    """True when mpi4py imports (an MPI library is installed)."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


_WORLD_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_world_size() -> int:
    """How many processes the launcher (``mpirun``, ``srun``) started, read from its
    environment without starting MPI; 1 for a plain ``python`` run."""
    import os

    for name in _WORLD_SIZE_VARS:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def init_process_group(backend: str = "mpi", init_method=None, world_size: int = -1,
                       rank: int = -1, timeout=None, **kwargs) -> None:
    """Join the processes started by ``mpirun``/``srun``; rank and world size come from
    MPI. ``world_size``/``rank``, when given, must agree with what MPI says."""
    if backend not in ("mpi", None):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; axonic "
                         "runs its processes over 'mpi'")
    if _DEFAULT[0] is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group() first)")
    MPI = _mpi()
    group = _Group(MPI.COMM_WORLD.Dup(), MPI)
    for name, given, actual in (("world_size", world_size, group.size),
                                ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but MPI started this process "
                             f"with {name}={actual}")
    _DEFAULT[0] = group


def destroy_process_group(group=None) -> None:
    g = _DEFAULT[0]
    if g is not None:
        g.comm.Free()
    _DEFAULT[0] = None


def is_initialized() -> bool:
    return _DEFAULT[0] is not None


def _group() -> _Group:
    g = _DEFAULT[0]
    if g is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group() (under mpirun or srun)")
    return g


def get_backend(group=None) -> str:
    _group()
    return "mpi"


def get_rank(group=None) -> int:
    return _group().rank


def get_world_size(group=None) -> int:
    return _group().size


def barrier(group=None) -> None:
    _group().comm.Barrier()


def _array(tensor, op: str):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    data = tensor._data
    if not data.flags.c_contiguous:
        raise ValueError(f"{op}: the tensor must be contiguous (got strides {data.strides}); "
                         "call .contiguous() first")
    return data


def _mpi_op(g: _Group, op: ReduceOp):
    M = g.mpi
    table = {ReduceOp.SUM: M.SUM, ReduceOp.AVG: M.SUM, ReduceOp.PRODUCT: M.PROD,
             ReduceOp.MIN: M.MIN, ReduceOp.MAX: M.MAX}
    if op not in table:
        raise ValueError(f"all_reduce: op must be a ReduceOp, got {op!r}")
    return table[op]


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks, in place (every rank gets the result)."""
    g = _group()
    data = _array(tensor, "all_reduce")
    g.comm.Allreduce(g.mpi.IN_PLACE, data, op=_mpi_op(g, op))
    if op is ReduceOp.AVG:
        data /= g.size
    tensor._vc[0] += 1
    return None


def broadcast(tensor: Tensor, src: int, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` to every rank, in place."""
    g = _group()
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src={src} is not a rank of a world of size {g.size}")
    data = _array(tensor, "broadcast")
    g.comm.Bcast(data, root=src)
    tensor._vc[0] += 1
    return None


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor`` on every rank."""
    g = _group()
    data = _array(tensor, "all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a world "
                         f"of size {g.size}")
    xp = get_array_module(data)
    out = xp.empty((g.size,) + data.shape, dtype=data.dtype)
    g.comm.Allgather(data, out)
    for r, t in enumerate(tensor_list):
        if tuple(t.shape) != data.shape:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {tuple(t.shape)}, "
                             f"expected {data.shape}")
        t._data[...] = out[r]
        t._vc[0] += 1
    return None


def all_gather_object(obj, group=None) -> list:
    """Every rank's ``obj``, in rank order (pickled between this job's own processes, as
    PyTorch's ``all_gather_object``; never use it on data from outside the job)."""
    return _group().comm.allgather(obj)


def iall_reduce_sum(arrays: list):
    """Start a non-blocking sum of each array across ranks, in place; returns the requests
    (``waitall`` them). Used by DistributedDataParallel's gradient buckets."""
    g = _group()
    return [g.comm.Iallreduce(g.mpi.IN_PLACE, a, op=g.mpi.SUM) for a in arrays]


def waitall(requests) -> None:
    if requests:
        _group().mpi.Request.Waitall(requests)
