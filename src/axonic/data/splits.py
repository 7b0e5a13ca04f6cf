"""Splitting a dataset: random, stratified, ordered (time series) and k-fold.

The one implementation of each, used by ``Trainer.fit(validation_split=...)`` and by the
``axonic`` command's ``data.splits`` too. Each returns ``Subset``s of the dataset (or
index arrays when given labels or a number of samples), so the pieces feed a
``DataLoader`` directly. All share one rounding rule (PyTorch's ``random_split``):
fractions become ``floor(n * f)`` samples, and the few left over go one each to the
first pieces, skipping pieces asked to be empty. Stratified and k-fold splits use
scikit-learn's ``train_test_split`` / ``KFold`` / ``StratifiedKFold`` underneath.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from axonic.backend.random import Generator, default_generator
from axonic.data.dataset import Subset


def split_sizes(lengths, n: int, who: str = "split_sizes") -> list[int]:
    """Integer lengths from ints summing to ``n`` or fractions summing to 1 (PyTorch's rule:
    floors first, then one more to the first pieces until the total is ``n``; a piece of
    fraction 0 stays empty).

    >>> split_sizes([0.7, 0.15, 0.15], 1797), split_sizes([0.5, 0.0, 0.5], 7)
    ([1258, 270, 269], [4, 0, 3])
    """
    lengths = list(lengths)
    if not lengths or any(not isinstance(v, numbers.Real) or v < 0 for v in lengths):
        raise ValueError(f"{who}: lengths must be non-negative numbers, got {lengths}")
    if all(isinstance(v, numbers.Integral) for v in lengths) and sum(lengths) != 1:
        if sum(lengths) != n:
            raise ValueError(f"{who}: sum of input lengths {sum(lengths)} does not equal the "
                             f"length of the input dataset {n}")
        return [int(v) for v in lengths]
    if not math.isclose(sum(lengths), 1) or any(v > 1 for v in lengths):
        raise ValueError(f"{who}: fractions must sum to 1, got {lengths} (sum {sum(lengths)})")
    sizes = [int(math.floor(n * f)) for f in lengths]
    open_pieces = [i for i, f in enumerate(lengths) if f > 0]
    for i in range(n - sum(sizes)):
        sizes[open_pieces[i % len(open_pieces)]] += 1
    return sizes


def _count(dataset) -> int:
    return int(dataset) if isinstance(dataset, numbers.Integral) else len(dataset)


def _pieces(dataset, parts):
    if isinstance(dataset, numbers.Integral):
        return [np.asarray(p, dtype=np.int64) for p in parts]
    return [Subset(dataset, p) for p in parts]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths
    (ints summing to ``len(dataset)``, or fractions summing to 1); for a number of
    samples ``n`` instead of a dataset, index arrays.

    >>> import numpy as np, axonic
    >>> from axonic.data import TensorDataset
    >>> a, b = random_split(TensorDataset(np.arange(10)), [0.7, 0.3],
    ...                     generator=axonic.Generator().manual_seed(0))
    >>> len(a), len(b), sorted(a.indices.tolist() + b.indices.tolist()) == list(range(10))
    (7, 3, True)
    """
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be an axonic.Generator, got "
                        f"{type(generator).__name__}")
    n = _count(dataset)
    sizes = split_sizes(lengths, n, "random_split")
    perm = (generator or default_generator).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return _pieces(dataset, [perm[bounds[i] : bounds[i + 1]] for i in range(len(sizes))])


def labels_of(dataset) -> np.ndarray:
    """The class labels of a dataset: ``dataset.targets`` if it has them, the last tensor
    of a ``TensorDataset``, else the last field of every sample."""
    if isinstance(dataset, np.ndarray | list):
        return np.asarray(dataset)
    if getattr(dataset, "targets", None) is not None:
        return np.asarray(getattr(dataset.targets, "_data", dataset.targets))
    if hasattr(dataset, "tensors"):
        return np.asarray(dataset.tensors[-1]._data)
    if isinstance(dataset, Subset):
        return labels_of(dataset.dataset)[dataset.indices]
    return np.asarray([np.asarray(getattr(s[-1], "_data", s[-1])) for s in
                       (dataset[i] for i in range(len(dataset)))])


def stratified_split(dataset, fractions, seed=0, labels=None):
    """Random pieces with the class proportions of the whole in each.

    ``dataset`` is a dataset (pieces are ``Subset``s) or an array of labels (pieces are
    index arrays); ``fractions`` sum to 1.

    >>> y = np.array([0] * 8 + [1] * 4)
    >>> tr, te = stratified_split(y, [0.75, 0.25], seed=0)
    >>> np.bincount(y[tr]).tolist(), np.bincount(y[te]).tolist()
    ([6, 3], [2, 1])
    """
    from sklearn.model_selection import train_test_split

    as_labels = isinstance(dataset, np.ndarray | list)
    y = labels_of(dataset if labels is None else labels).reshape(-1)
    n = len(dataset)
    if y.shape[0] != n:
        raise ValueError(f"stratified_split: got {y.shape[0]} labels for {n} samples")
    fractions = list(fractions)
    sizes = split_sizes(fractions, n, "stratified_split")
    classes, counts = np.unique(y, return_counts=True)
    wanted = sum(1 for s in sizes if s > 0)
    if counts.min() < wanted:
        rare = classes[counts < wanted].tolist()
        raise ValueError(f"stratified_split: class(es) {rare} have fewer samples "
                         f"({counts.min()}) than the {wanted} pieces asked for; every "
                         "class needs at least one sample per piece")
    rest = np.arange(n)
    parts = []
    for i, size in enumerate(sizes[:-1]):
        remaining = sum(sizes[i:])
        if size == 0:
            parts.append(rest[:0])
            continue
        if size == remaining:
            parts.append(rest)
            rest = rest[:0]
            continue
        try:
            take, rest = train_test_split(rest, train_size=size, stratify=y[rest],
                                          random_state=int(seed) + i)
        except ValueError as e:  # e.g. a piece smaller than the number of classes
            raise ValueError(f"stratified_split: piece {i} of {sizes}: {e}") from None
        parts.append(np.sort(take))
    parts.append(np.sort(rest))
    if as_labels:
        return [np.asarray(p, dtype=np.int64) for p in parts]
    return [Subset(dataset, p) for p in parts]


def time_series_split(dataset, fractions):
    """Consecutive pieces in order (no shuffling): the last piece is the latest data.

    ``dataset`` is a dataset or a number of samples (then index arrays are returned).

    >>> [p.tolist() for p in time_series_split(5, [0.6, 0.4])]
    [[0, 1, 2], [3, 4]]
    """
    n = _count(dataset)
    sizes = split_sizes(fractions, n, "time_series_split")
    # rounding leftovers go to the earlier pieces, so validation never peeks ahead
    bounds = np.cumsum([0] + sizes)
    return _pieces(dataset, [np.arange(bounds[i], bounds[i + 1]) for i in range(len(sizes))])


def kfold(dataset, n_splits=5, shuffle=True, seed=0, stratified=False, labels=None):
    """``n_splits`` (train, validation) pairs covering every sample once in validation.

    ``stratified=True`` keeps class proportions (scikit-learn's ``StratifiedKFold``,
    labels from ``labels`` or the dataset); otherwise ``KFold``. Pieces are ``Subset``s,
    or index arrays when ``dataset`` is a number of samples.

    >>> folds = kfold(6, n_splits=3, shuffle=False)
    >>> [v.tolist() for _, v in folds]
    [[0, 1], [2, 3], [4, 5]]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    n = _count(dataset)
    if not isinstance(n_splits, int) or not 2 <= n_splits <= n:
        raise ValueError(f"kfold: n_splits must be an int in [2, {n}] (the number of samples), "
                         f"got {n_splits!r}")
    rs = int(seed) if shuffle else None
    if stratified:
        y = labels_of(dataset if labels is None else labels).reshape(-1)
        splitter = StratifiedKFold(n_splits, shuffle=shuffle, random_state=rs)
        folds = splitter.split(np.zeros(n), y)
    else:
        folds = KFold(n_splits, shuffle=shuffle, random_state=rs).split(np.zeros(n))
    return [tuple(_pieces(dataset, [tr, va])) for tr, va in folds]
