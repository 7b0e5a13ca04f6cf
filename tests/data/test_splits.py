import numpy as np
import pytest

import axonic
from axonic.data import (
    Subset,
    TensorDataset,
    kfold,
    random_split,
    stratified_split,
    time_series_split,
)
from tests.conftest import requires_torch, torch


def _ds(n, labels=None):
    y = np.arange(n) % 3 if labels is None else labels
    return TensorDataset(np.arange(n, dtype=np.float32)[:, None], y)


def test_random_split_lengths_and_coverage():
    ds = _ds(10)
    parts = random_split(ds, [3, 7], generator=axonic.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    axonic.manual_seed(1)
    a = random_split(ds, [0.5, 0.5])
    axonic.manual_seed(1)
    b = random_split(ds, [0.5, 0.5])
    np.testing.assert_array_equal(a[0].indices, b[0].indices)


@requires_torch
@pytest.mark.parametrize("n,fractions", [(10, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]),
                                         (11, [0.1, 0.2, 0.3, 0.4])])
def test_random_split_fraction_sizes_match_torch(n, fractions):
    ours = [len(p) for p in random_split(_ds(n), fractions)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum of input lengths 9 does not equal the length of "
                                         "the input dataset 10"):
        random_split(_ds(10), [4, 5])
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        random_split(_ds(10), [0.5, 0.4])
    with pytest.raises(TypeError, match="generator must be an axonic.Generator"):
        random_split(_ds(4), [2, 2], generator=np.random.default_rng())


def test_stratified_split_keeps_proportions():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    ds = _ds(100, labels=y)
    tr, va, te = stratified_split(ds, [0.6, 0.2, 0.2], seed=0)
    assert [len(p) for p in (tr, va, te)] == [60, 20, 20]
    assert np.bincount(y[tr.indices]).tolist() == [36, 18, 6]
    assert np.bincount(y[va.indices]).tolist() == [12, 6, 2]
    assert np.bincount(y[te.indices]).tolist() == [12, 6, 2]
    allidx = np.concatenate([tr.indices, va.indices, te.indices])
    assert sorted(allidx.tolist()) == list(range(100))
    again = stratified_split(ds, [0.6, 0.2, 0.2], seed=0)
    np.testing.assert_array_equal(again[0].indices, tr.indices)
    idx = stratified_split(y, [0.8, 0.2], seed=1)
    assert isinstance(idx[0], np.ndarray) and np.bincount(y[idx[1]]).tolist() == [12, 6, 2]


def test_stratified_split_error_names_rare_class():
    y = np.array([0] * 10 + [1])
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have fewer samples"):
        stratified_split(y, [0.5, 0.5])


def test_time_series_split_is_ordered():
    ds = _ds(10)
    tr, va, te = time_series_split(ds, [0.7, 0.2, 0.1])
    assert tr.indices.tolist() == list(range(7)) and va.indices.tolist() == [7, 8]
    assert te.indices.tolist() == [9]
    assert [p.tolist() for p in time_series_split(4, [2, 2])] == [[0, 1], [2, 3]]


def test_kfold_covers_each_sample_once():
    ds = _ds(12)
    folds = kfold(ds, n_splits=4, seed=0)
    assert len(folds) == 4
    val = np.concatenate([v.indices for _, v in folds])
    assert sorted(val.tolist()) == list(range(12))
    for tr, v in folds:
        assert len(tr) == 9 and not set(tr.indices) & set(v.indices)


def test_stratified_kfold_keeps_proportions():
    y = np.array([0] * 8 + [1] * 4)
    for _, v in kfold(_ds(12, labels=y), n_splits=4, stratified=True, seed=0):
        assert np.bincount(y[v.indices]).tolist() == [2, 1]
    with pytest.raises(ValueError, match=r"n_splits must be an int in \[2, 12\]"):
        kfold(_ds(12), n_splits=13)


@pytest.mark.parametrize("n,fractions", [(1797, [0.7, 0.15, 0.15]), (10, [0.3, 0.3, 0.4]),
                                         (11, [0.1, 0.2, 0.3, 0.4]), (150, [0.8, 0.0, 0.2]),
                                         (7, [0.5, 0.0, 0.5])])
def test_every_split_rounds_the_same_way(n, fractions):
    from axonic.data.splits import split_sizes

    sizes = split_sizes(fractions, n)
    assert sum(sizes) == n and all(s == 0 for s, f in zip(sizes, fractions) if f == 0)
    y = np.arange(n) % 2
    assert [len(p) for p in random_split(n, fractions)] == sizes
    assert [len(p) for p in time_series_split(n, fractions)] == sizes
    assert [len(p) for p in stratified_split(y, fractions, seed=0)] == sizes


@requires_torch
@pytest.mark.parametrize("n,fractions", [(1797, [0.7, 0.15, 0.15]), (13, [0.25, 0.75])])
def test_the_shared_rounding_is_torchs(n, fractions):
    from axonic.data.splits import split_sizes

    assert split_sizes(fractions, n) == [
        len(p) for p in torch.utils.data.random_split(range(n), fractions)]


def test_random_split_of_a_sample_count_gives_index_arrays():
    parts = random_split(10, [0.5, 0.0, 0.5], generator=axonic.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [5, 0, 5]
    assert all(isinstance(p, np.ndarray) and p.dtype == np.int64 for p in parts)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


def test_stratified_split_with_an_empty_piece():
    y = np.array([0] * 6 + [1] * 4)
    tr, va, te = stratified_split(y, [0.6, 0.0, 0.4], seed=0)
    assert len(va) == 0 and np.bincount(y[tr]).tolist() == [4, 2]
    assert np.bincount(y[te]).tolist() == [2, 2]


def test_the_command_splits_with_the_same_implementation():
    from axonic.cli.data import _split_indices

    y = np.arange(40) % 2
    fr = [0.7, 0.15, 0.15]
    got = _split_indices(40, y, fr, 3, stratify=False, ordered=False)
    ref = random_split(40, fr, generator=axonic.Generator().manual_seed(3))
    assert all(np.array_equal(a, b) for a, b in zip(got, ref))
    got = _split_indices(40, y, fr, 3, stratify=True, ordered=False)
    ref = stratified_split(y, fr, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(got, ref))
    got = _split_indices(40, y, [0.8, 0.0, 0.2], 3, stratify=False, ordered=True)
    assert got[0].tolist() == list(range(32)) and got[1] is None
    assert got[2].tolist() == list(range(32, 40))
