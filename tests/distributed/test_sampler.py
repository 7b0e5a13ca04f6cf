"""DistributedSampler against PyTorch's, and the process group's errors without MPI."""

import pytest

import axonic.distributed as dist
from axonic import nn
from axonic.data import DistributedSampler
from tests.conftest import requires_torch


@requires_torch
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                   (2, 4, False), (7, 2, True)])
def test_unshuffled_shards_equal_torch(n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_shuffled_shards_cover_the_data_once_and_change_with_the_epoch():
    shards = [DistributedSampler(range(12), 3, r, seed=5) for r in range(3)]
    first = [list(s) for s in shards]
    assert sorted(sum(first, [])) == list(range(12))
    for s in shards:
        s.set_epoch(1)
    second = [list(s) for s in shards]
    assert sorted(sum(second, [])) == list(range(12)) and second != first
    for s in shards:
        s.set_epoch(0)
    assert [list(s) for s in shards] == first  # an epoch's order is a function of (seed, epoch)


def test_sampler_rank_out_of_range_is_refused():
    with pytest.raises(ValueError,
                       match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)


def test_collectives_before_init_say_what_to_do():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="call init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="call init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_sampler_without_a_group_asks_for_one():
    with pytest.raises(RuntimeError, match="pass num_replicas and rank"):
        DistributedSampler(range(4))


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
