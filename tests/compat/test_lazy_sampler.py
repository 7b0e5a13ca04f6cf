"""RandomSampler(replacement=True, num_samples=int(1e10)) draws lazily, PyTorch's endless loader."""

import numpy as np
import pytest

import axonic
from axonic.data.sampler import LAZY_DRAWS, LazyDraws
from axonic.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

DS = TensorDataset(np.arange(50, dtype=np.float32), np.arange(50))


def test_a_1e10_sample_loader_yields_its_first_batches_at_once():
    sampler = RandomSampler(DS, replacement=True, num_samples=int(1e10))
    loader = DataLoader(DS, sampler=sampler, batch_size=8)
    assert len(loader) == int(1e10) // 8
    it = iter(loader)
    x, y = next(it)
    assert y.shape == (8,) and ((y.numpy() >= 0) & (y.numpy() < 50)).all()
    for _ in range(200):
        x, y = next(it)
    assert np.array_equal(x.numpy(), y.numpy().astype(np.float32))


def test_lazy_draws_equal_one_eager_draw_of_the_same_generator():
    eager = np.random.default_rng(7).integers(0, 50, 200_000, dtype=np.int64)
    lazy = LazyDraws(np.random.default_rng(7), 50, int(1e10))
    got = np.concatenate([lazy[i : i + 1000] for i in range(0, 200_000, 1000)])
    assert np.array_equal(got, eager)


def test_seeded_sampler_gives_the_same_values_lazily_and_eagerly():
    small = RandomSampler(DS, replacement=True, num_samples=LAZY_DRAWS, seed=3)
    huge = RandomSampler(DS, replacement=True, num_samples=int(1e10), seed=3)
    eager = small.order()
    assert isinstance(eager, np.ndarray) and isinstance(huge.order(), LazyDraws)
    it = iter(RandomSampler(DS, replacement=True, num_samples=int(1e10), seed=3))
    assert [next(it) for _ in range(1000)] == eager[:1000].tolist()


def test_small_samplers_draw_as_before_from_the_generator():
    axonic.manual_seed(11)
    got = list(RandomSampler(DS, replacement=True, num_samples=100))
    axonic.manual_seed(11)
    expected = axonic.backend.random.default_generator.rng.integers(0, 50, 100, dtype=np.int64)
    assert got == expected.tolist()


def test_lazy_loader_resumes_far_into_an_epoch():
    loader = DataLoader(DS, sampler=RandomSampler(DS, replacement=True, num_samples=int(1e10),
                                                  seed=1), batch_size=4)
    loader.load_state_dict({"epoch": 0, "batch": 10_000, "generator": None})
    _, y = next(iter(loader))
    expected = np.random.default_rng([1, 0]).integers(0, 50, 40_004, dtype=np.int64)[-4:]
    assert y.tolist() == expected.tolist()


def test_batch_sampler_over_a_lazy_order():
    sampler = RandomSampler(DS, replacement=True, num_samples=int(1e10), seed=0)
    it = iter(BatchSampler(sampler, 3, drop_last=False))
    first = next(it)
    assert len(first) == 3 and all(0 <= i < 50 for i in first)


def test_lazy_draws_refuse_going_back():
    lazy = LazyDraws(np.random.default_rng(0), 5, 10**6)
    lazy[100:200]
    with pytest.raises(IndexError, match="indices before 100 were already dropped"):
        lazy[0:10]
    with pytest.raises(TypeError, match="read it by contiguous slices"):
        lazy[5]
