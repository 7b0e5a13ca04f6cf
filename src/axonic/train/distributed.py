"""``DataParallel``: what ``Trainer(distributed=True)`` hands to the process group.

Each of the N processes (started by ``mpirun -n N``) trains a replica wrapped in
``DistributedDataParallel`` on its shard of every epoch (``DistributedSampler`` with the
loader's seed: rank r's batch k holds the samples that batch k of a one-process run
with batch N*B would hold, so the averaged gradient, and the run, are the same). Each
step's batch loss is averaged over the ranks (so every rank sees the same value, and
``TerminateOnNaN`` decides alike everywhere), and the outputs and targets of all ranks
feed the metrics, so the history equals the one-process run's. Validation runs whole
on every rank. Rank 0 alone runs the callbacks that print or write
(``rank_zero_only``), so only it writes checkpoints and the run directory.
"""

from __future__ import annotations


class DataParallel:
    """The process group's side of a distributed Trainer."""

    def __init__(self, model):
        from axonic import distributed as dist
        from axonic.nn.parallel import DistributedDataParallel

        if not dist.is_initialized():
            dist.init_process_group()
        self.dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self.module = DistributedDataParallel(model)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def loader(self, dataset, batch_size: int, shuffle: bool, seed: int):
        """A loader over this rank's shard (``batch_size`` is per process)."""
        from axonic.data import DataLoader, DistributedSampler

        sampler = DistributedSampler(dataset, self.world_size, self.rank, shuffle=shuffle,
                                     seed=seed)
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler)

    def mean(self, value: float) -> float:
        """``value`` averaged over the ranks (one small all-reduce)."""
        from axonic import tensor

        t = tensor([value], dtype="float64")
        self.dist.all_reduce(t, op=self.dist.ReduceOp.AVG)
        return float(t.item())

    def gather(self, pending: list) -> list:
        """Every rank's ``(outputs, targets, loss, size)`` of the step, in rank order."""
        return [item for part in self.dist.all_gather_object(pending) for item in part]

    def callbacks(self, callbacks: list) -> list:
        """The callbacks this rank runs: all on rank 0, elsewhere those that only steer
        training (not the ones that print or write)."""
        if self.is_main:
            return callbacks
        return [cb for cb in callbacks if not cb.rank_zero_only]
