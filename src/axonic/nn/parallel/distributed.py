"""``DistributedDataParallel``: one replica of a module per process, gradients averaged.

At construction the parameters and buffers of rank 0 are broadcast to every rank, so all
replicas start equal. Each backward then ends with the gradients summed over the ranks
in buckets of about ``bucket_cap_mb`` (one non-blocking MPI all-reduce per bucket, all in
flight together) and divided by the world size: every rank holds the same averaged
gradient, the optimizers take the same step and the replicas stay equal.

axonic's engine hands leaves their gradients at the end of the backward traversal, so
the all-reduces start when the backward's computing is done: they overlap each other,
not the backward (docs/DISTRIBUTED.md has the measurement).

``no_sync()`` skips the averaging for gradient accumulation: the gradients add up
locally and the first backward outside the context averages the total, as in PyTorch.
"""

from __future__ import annotations

import contextlib
import time

from axonic.nn.module import Module


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    >>> # under mpirun -n 2:  model = DistributedDataParallel(net); loss.backward()
    >>> DistributedDataParallel.__name__
    'DistributedDataParallel'
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an axonic.nn.Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        from axonic import distributed as dist

        self._dist = dist
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.world_size = dist.get_world_size()
        self.require_backward_grad_sync = True
        self.last_allreduce_seconds = 0.0
        self._queued = False
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = _buckets(params, bucket_cap_mb * 2 ** 20)
        for p in module.parameters():
            dist.broadcast(p, 0)
        for b in module.buffers():
            dist.broadcast(b, 0)
        for p in params:
            p.register_hook(self._on_grad)

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.world_size > 1:
            for b in self.module.buffers():  # rank 0's running statistics, as PyTorch
                self._dist.broadcast(b, 0)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally; the next backward outside averages the total."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _on_grad(self, grad):
        if self.require_backward_grad_sync and not self._queued:
            from axonic.autograd.engine import queue_callback

            self._queued = True
            queue_callback(self._average)
        return None

    def _average(self) -> None:
        self._queued = False
        if self.world_size == 1:
            return
        start = time.perf_counter()
        flats = [b.gather() for b in self._buckets]
        pg = self._dist.process_group
        pg.waitall(pg.iall_reduce_sum(flats))
        for b, flat in zip(self._buckets, flats):
            b.scatter(flat, 1.0 / self.world_size)
        self.last_allreduce_seconds = time.perf_counter() - start


class _Bucket:
    """Parameters of one dtype whose gradients travel as one flat array."""

    def __init__(self, params):
        self.params = params
        self.sizes = [p._data.size for p in params]

    def gather(self):
        from axonic.backend import get_array_module

        p0 = self.params[0]._data
        xp = get_array_module(p0)
        flat = xp.zeros(sum(self.sizes), dtype=p0.dtype)
        i = 0
        for p, n in zip(self.params, self.sizes):
            if p.grad is not None:
                flat[i:i + n] = p.grad._data.reshape(-1)
            i += n
        return flat

    def scatter(self, flat, scale: float) -> None:
        from axonic.autograd.tensor import _make

        flat *= scale
        i = 0
        for p, n in zip(self.params, self.sizes):
            part = flat[i:i + n].reshape(p._data.shape)
            if p.grad is None:
                if part.any():  # used on another rank: it gets the average too
                    p.grad = _make(part.copy())
            else:
                p.grad._data[...] = part
                p.grad._vc[0] += 1
            i += n


def _buckets(params, cap_bytes: float) -> list:
    """Parameters in reverse registration order (the order backward reaches them, as
    PyTorch's), cut into buckets of at most ``cap_bytes`` and one dtype."""
    buckets, cur, size = [], [], 0
    for p in reversed(params):
        nbytes = p._data.nbytes
        if cur and (size + nbytes > cap_bytes or p._data.dtype != cur[0]._data.dtype):
            buckets.append(_Bucket(cur))
            cur, size = [], 0
        cur.append(p)
        size += nbytes
    if cur:
        buckets.append(_Bucket(cur))
    return buckets
