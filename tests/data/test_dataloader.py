import collections

import numpy as np
import pytest

import axonic
from axonic.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
)
from axonic.data.transforms import RandomHorizontalFlip
from tests.conftest import requires_torch, torch


def _ds(n=10, f=3):
    x = np.arange(n * f, dtype=np.float32).reshape(n, f)
    return TensorDataset(x, np.arange(n))


class ListDataset(Dataset):
    """Per-sample access only: exercises the collate path."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


def _labels(loader):
    return [y.tolist() for _, y in loader]


def test_batches_in_order_and_len():
    loader = DataLoader(_ds(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0], tuple) and batches[0][1].dtype == np.int64
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_drop_last():
    loader = DataLoader(_ds(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_fast_path_equals_collate_path():
    ds = _ds(23)
    fast = DataLoader(ds, batch_size=5, shuffle=True, seed=7)
    slow = DataLoader(ListDataset(ds), batch_size=5, shuffle=True, seed=7)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype


def test_fast_path_is_used_and_no_per_sample_access():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            Counting.calls += 1
            return super().__getitem__(i)

    ds = Counting(np.zeros((50, 2), np.float32), np.arange(50))
    assert sum(len(y) for _, y in DataLoader(ds, batch_size=8, shuffle=True)) == 50
    assert Counting.calls == 0
    list(DataLoader(ds, batch_size=8, collate_fn=default_collate))  # a collate_fn opts out
    assert Counting.calls == 50


def test_shuffle_reproduced_by_manual_seed_and_generator():
    ds = _ds(20)
    axonic.manual_seed(3)
    a = _labels(DataLoader(ds, batch_size=6, shuffle=True))
    axonic.manual_seed(3)
    b = _labels(DataLoader(ds, batch_size=6, shuffle=True))
    assert a == b and sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    g1, g2 = axonic.Generator().manual_seed(5), axonic.Generator().manual_seed(5)
    c = _labels(DataLoader(ds, batch_size=6, shuffle=True, generator=g1))
    d = _labels(DataLoader(ds, batch_size=6, shuffle=True, generator=g2))
    assert c == d


def test_seeded_order_is_a_pure_function_of_seed_and_epoch():
    ds = _ds(17)
    loader = DataLoader(ds, batch_size=17, shuffle=True, seed=123)
    epochs = [loader.__iter__().__next__()[1].tolist() for _ in range(3)]
    for e, order in enumerate(epochs):
        assert order == np.random.default_rng([123, e]).permutation(17).tolist()
    assert epochs[0] != epochs[1]
    other = DataLoader(ds, batch_size=17, shuffle=True, seed=123)
    other.set_epoch(2)
    assert next(iter(other))[1].tolist() == epochs[2]
    axonic.manual_seed(99)  # the global generator does not touch a seeded order
    other.set_epoch(0)
    assert next(iter(other))[1].tolist() == epochs[0]


def _collect(loader, k=None):
    out = []
    for x, y in loader:
        out.append((x.numpy().copy(), y.numpy().copy()))
        if k is not None and len(out) == k:
            break
    return out


@pytest.mark.parametrize("seeded", [True, False])
def test_resume_mid_epoch_is_bit_identical(seeded):
    ds = TensorDataset(np.random.rand(40, 1, 4, 4).astype(np.float32), np.arange(40))

    def make():
        kw = {"seed": 11} if seeded else {"generator": axonic.Generator().manual_seed(4)}
        return DataLoader(TensorDataset(*ds.tensors, transform=RandomHorizontalFlip()),
                          batch_size=6, shuffle=True, **kw)

    ref = make()
    _collect(ref)  # epoch 0
    ref_epoch1 = _collect(ref)
    run = make()  # interrupted run: epoch 0, then 3 batches of epoch 1, save, stop
    _collect(run)
    head = []
    for x, y in run:
        head.append((x.numpy().copy(), y.numpy().copy()))
        if len(head) == 3:
            state = run.state_dict()
            break
    assert state["epoch"] == 1 and state["batch"] == 3
    resumed = make()  # a fresh process: generator back at its initial seed
    resumed.load_state_dict(state)
    tail = _collect(resumed)
    assert len(head) + len(tail) == len(ref_epoch1) == 7
    for (xa, ya), (xb, yb) in zip(head + tail, ref_epoch1, strict=True):
        np.testing.assert_array_equal(ya, yb)  # same order, replayed from the saved state
        if seeded:
            np.testing.assert_array_equal(xa, xb)  # same flips: augmentation seeded per batch
    assert resumed.state_dict() == {"epoch": 2, "batch": 0, "generator": None}


def test_state_dict_is_json_and_finished_epoch_moves_on():
    import json

    loader = DataLoader(_ds(10), batch_size=5, shuffle=True)
    it = iter(loader)
    next(it)
    state = json.loads(json.dumps(loader.state_dict()))
    assert state["batch"] == 1 and state["generator"]["bit_generator"] == "PCG64"
    next(it)
    done = loader.state_dict()
    assert done["batch"] == 2
    fresh = DataLoader(_ds(10), batch_size=5, shuffle=True)
    fresh.load_state_dict(done)
    assert fresh.state_dict()["epoch"] == 1
    with pytest.raises(ValueError, match="batch 9 is outside an epoch of 2 batches"):
        fresh.load_state_dict({"epoch": 0, "batch": 9})
    with pytest.raises(ValueError, match="expected a dict from state_dict"):
        fresh.load_state_dict({"epoch": 0})


def test_seeded_augmentation_differs_between_batches_and_epochs():
    x = np.random.rand(64, 1, 2, 2).astype(np.float32)
    ds = TensorDataset(x, np.arange(64), transform=RandomHorizontalFlip())
    loader = DataLoader(ds, batch_size=64, seed=5)
    flipped = [(b[0].numpy() != x).any(axis=(1, 2, 3)) for b in (next(iter(loader)),
                                                                next(iter(loader)))]
    assert 10 < flipped[0].sum() < 54 and (flipped[0] != flipped[1]).any()
    loader.set_epoch(0)
    np.testing.assert_array_equal((next(iter(loader))[0].numpy() != x).any(axis=(1, 2, 3)),
                                  flipped[0])


def test_default_collate_types():
    Point = collections.namedtuple("Point", "a b")
    samples = [{"x": np.ones(2, np.float32), "n": 1, "f": 0.5, "s": "u", "b": True,
                "p": Point(1, 2.0), "t": axonic.tensor([1.0]), "l": [1, 2]},
               {"x": np.zeros(2, np.float32), "n": 2, "f": 1.5, "s": "v", "b": False,
                "p": Point(3, 4.0), "t": axonic.tensor([2.0]), "l": [3, 4]}]
    out = default_collate(samples)
    assert out["x"].shape == (2, 2) and out["x"].dtype == np.float32
    assert out["n"].dtype == np.int64 and out["f"].dtype == np.float64
    assert out["b"].dtype == np.bool_ and out["s"] == ["u", "v"]
    assert isinstance(out["p"], Point) and out["p"].a.tolist() == [1, 3]
    assert out["t"].shape == (2, 1) and isinstance(out["l"], list)
    assert out["l"][0].tolist() == [1, 3]
    scal = default_collate([np.float32(1), np.float32(2)])
    assert scal.dtype == np.float32


@requires_torch
def test_default_collate_dtypes_match_torch():
    from torch.utils.data import default_collate as torch_collate

    for batch in ([1, 2], [0.5, 1.0], [True, False], [np.int32(1), np.int32(2)],
                  [np.zeros((2, 3), np.float32)] * 3):
        ours, theirs = default_collate(batch), torch_collate(batch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"sample 0 has shape \(2,\) but sample 1 has "
                                           r"shape \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="got object"):
        default_collate([object(), object()])


@requires_torch
def test_sequential_batches_match_torch_dataloader():
    x = np.random.rand(11, 3).astype(np.float32)
    y = np.arange(11)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=4))
    tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    theirs = list(torch.utils.data.DataLoader(tds, batch_size=4))
    assert len(ours) == len(theirs)
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_batch_size_none_yields_samples():
    items = list(DataLoader(_ds(3), batch_size=None))
    assert len(items) == 3 and items[1][0].shape == (3,) and int(items[2][1]) == 2


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    rs = RandomSampler(range(6), generator=axonic.Generator().manual_seed(0))
    assert sorted(rs) == list(range(6))
    rr = RandomSampler(range(3), replacement=True, num_samples=20)
    assert len(list(rr)) == 20 and set(rr) <= {0, 1, 2}
    assert len(RandomSampler(range(3), num_samples=7).order()) == 7
    assert sorted(SubsetRandomSampler([5, 9, 1])) == [1, 5, 9]
    w = WeightedRandomSampler([0.0, 0.0, 1.0, 1.0], num_samples=50)
    assert set(w) <= {2, 3}
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5]] and len(bs) == 2
    loader = DataLoader(_ds(7), batch_sampler=bs)
    assert _labels(loader) == [[0, 1, 2], [3, 4, 5]]
    custom = DataLoader(_ds(7), batch_sampler=[[6, 0], [3]])
    assert _labels(custom) == [[6, 0], [3]]
    loader = DataLoader(_ds(6), sampler=SubsetRandomSampler([0, 2, 4]), batch_size=2)
    assert sorted(sum(_labels(loader), [])) == [0, 2, 4] and len(loader) == 2


def test_argument_errors():
    ds = _ds(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size should be a positive integer.*got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="generator must be an axonic.Generator, got int"):
        DataLoader(ds, shuffle=True, generator=3)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['bogus'\]"):
        DataLoader(ds, bogus=1)
    with pytest.raises(ValueError, match="set_epoch: epoch must be a non-negative int"):
        DataLoader(ds).set_epoch(-1)
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights must be finite"):
        WeightedRandomSampler([-1.0, 1.0], 2)
    assert len(list(DataLoader(ds, num_workers=2, pin_memory=True, batch_size=2))) == 2


def test_concat_of_tensor_datasets_uses_the_batched_path():
    from axonic.data import ConcatDataset

    parts = [_ds(5), _ds(7)]
    loader = DataLoader(ConcatDataset(parts), batch_size=4, shuffle=True, seed=2)
    per_sample = DataLoader(ListDataset(ConcatDataset(parts)), batch_size=4, shuffle=True,
                            seed=2)
    for (xa, ya), (xb, yb) in zip(loader, per_sample, strict=True):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_seed_and_generator_are_exclusive():
    with pytest.raises(ValueError, match="pass seed or generator, not both"):
        DataLoader(_ds(4), shuffle=True, seed=1, generator=axonic.Generator())


class Stream(axonic.data.IterableDataset):
    def __init__(self, n, sized=True):
        self.n, self.sized = n, sized

    def __iter__(self):
        return iter((np.full(2, i, np.float32), i) for i in range(self.n))

    def __len__(self):
        if not self.sized:
            raise TypeError("Stream has no len()")
        return self.n


def test_iterable_dataset_batches_and_resume():
    loader = DataLoader(Stream(7), batch_size=3)
    assert len(loader) == 3 and _labels(loader) == [[0, 1, 2], [3, 4, 5], [6]]
    assert _labels(DataLoader(Stream(7), batch_size=3, drop_last=True)) == [[0, 1, 2],
                                                                              [3, 4, 5]]
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    assert state["batch"] == 1
    resumed = DataLoader(Stream(7), batch_size=3)
    resumed.load_state_dict(state)
    assert _labels(resumed) == [[3, 4, 5], [6]]
    items = list(DataLoader(Stream(2), batch_size=None))
    assert items[1][0].shape == (2,) and items[1][1] == 1
    with pytest.raises(TypeError, match="Stream has no len"):
        len(DataLoader(Stream(3, sized=False), batch_size=2))
    with pytest.raises(ValueError, match="shuffle, sampler, batch_sampler and seed don't apply"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(TypeError, match="iterate over it instead of indexing"):
        Stream(3)[0]


@pytest.mark.parametrize("make_sampler", [
    lambda g: SubsetRandomSampler(list(range(0, 30, 2)), generator=g),
    lambda g: WeightedRandomSampler(np.linspace(0.1, 1, 30), 25, generator=g),
    lambda g: RandomSampler(range(30), replacement=True, num_samples=20, generator=g),
])
def test_resume_replays_any_random_sampler(make_sampler):
    def make():
        return DataLoader(_ds(30), batch_size=4,
                          sampler=make_sampler(axonic.Generator().manual_seed(8)))

    ref = make()
    _collect(ref)
    expected = [y for _, y in _collect(ref)]
    run = make()
    _collect(run)
    it = iter(run)
    head = [next(it)[1].numpy().copy() for _ in range(2)]
    resumed = make()
    resumed.load_state_dict(run.state_dict())
    got = head + [y for _, y in _collect(resumed)]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_resume_without_generator_state_is_refused():
    loader = DataLoader(_ds(10), batch_size=2, shuffle=True)
    loader.load_state_dict({"epoch": 0, "batch": 2})
    with pytest.raises(ValueError, match="no generator state to replay the interrupted shuffle"):
        next(iter(loader))
    seeded = DataLoader(_ds(10), batch_size=2, shuffle=True, seed=1)
    seeded.load_state_dict({"epoch": 3, "batch": 2})  # a seed needs none
    assert len(list(seeded)) == 3
