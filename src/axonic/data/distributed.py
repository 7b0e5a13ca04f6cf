"""``DistributedSampler``: each process of a data-parallel job reads its own shard.

PyTorch's semantics: the indices (shuffled per epoch when ``shuffle``) are padded by
repeating the first ones until they divide evenly by ``num_replicas`` (or cut with
``drop_last``), then rank ``r`` takes every ``num_replicas``-th index from ``r``. Every
rank must call ``set_epoch(e)`` before each epoch to get that epoch's order; the order
of epoch ``e`` is ``np.random.default_rng([seed, e]).permutation(n)``, the same on every
rank and in a resumed run.
"""

from __future__ import annotations

import math

import numpy as np

from axonic.data.sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of rank ``rank``'s shard of ``dataset``.

    >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(s)
    [1, 4, 7, 0]
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from axonic import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "axonic.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got "
                             f"{num_replicas!r}")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (call on every rank before each epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                reps = math.ceil(pad / max(n, 1))
                indices = np.concatenate([indices, np.tile(indices, reps)[:pad]])
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.order().tolist())
