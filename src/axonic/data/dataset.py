"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``.

A dataset answers ``len(ds)`` and ``ds[i]``. A dataset whose samples sit in memory
may also answer ``ds.get_batch(indices)``: the whole batch, already collated, built
with one fancy-index per array. ``DataLoader`` uses it when present, which removes
the per-sample Python loop from the input pipeline.
"""

from __future__ import annotations

import bisect

import numpy as np

from axonic.autograd.tensor import Tensor, _make, tensor
from axonic.backend import get_array_module, resolve_dtype


class Dataset:
    """The base of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> len(Squares() + Squares())
    8
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_array(t, i: int):
    """The raw array behind a Tensor; an array as it is; a list as ``axonic.tensor`` makes it
    (Python floats -> float32)."""
    if isinstance(t, Tensor):
        return t._data
    if isinstance(t, list | tuple):
        return tensor(t)._data
    if hasattr(t, "__array__"):
        a = np.asarray(t)
        try:
            resolve_dtype(a.dtype)
        except TypeError as e:
            raise TypeError(f"TensorDataset: tensor {i} has dtype {a.dtype}: {e}; encode text "
                            "labels first, e.g. with sklearn.preprocessing.LabelEncoder") from None
        return a
    raise TypeError(f"TensorDataset: expected Tensors or arrays, got {type(t).__name__} for "
                    f"tensor {i}")


def _sample(a, index):
    """Row ``index`` of ``a`` as a Tensor (a 0-d tensor for a 1-D array)."""
    row = a[index]
    return _make(np.asarray(row) if isinstance(row, np.generic) else row)


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (a ``DataLoader`` groups the
    stream into batches, in the order it comes).

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(3))
    >>> list(Count())
    [0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it "
                        "instead of indexing")

    def __len__(self):
        # TypeError (not NotImplementedError) so that len() hints such as list() skip it
        raise TypeError(f"{type(self).__name__} is a stream without len(); define __len__ "
                        "if its length is known")

    def __add__(self, other):
        raise TypeError("IterableDataset: can't concatenate streams with '+'")


def _on_device_of(idx: np.ndarray, array):
    """``idx`` on the device of ``array`` (CuPy indexes with its own arrays)."""
    xp = get_array_module(array)
    return idx if xp is np else xp.asarray(idx)


def _to_indices(indices, n: int, who: str) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx[(idx >= n) | (idx < -n)][0])
        raise IndexError(f"{who}: index {bad} is out of range for a dataset of size {n}")
    return idx


class TensorDataset(Dataset):
    """Samples made of the rows of equally long tensors (or arrays).

    ``transform`` (optional) is applied to the first tensor, ``target_transform`` to the
    last; both receive a whole batch in ``get_batch`` (the transforms in
    ``axonic.data.transforms`` are vectorised over the batch).

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
    >>> x, y = ds[2]
    >>> x.shape, int(y)
    ((3,), 2)
    >>> [t.shape for t in ds.get_batch([0, 4])]
    [(2, 3), (2,)]
    """

    def __init__(self, *tensors, transform=None, target_transform=None):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        arrays = [_as_array(t, i) for i, t in enumerate(tensors)]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a "
                                 "first (sample) dimension")
        sizes = [int(a.shape[0]) for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                "TensorDataset: size mismatch between tensors: first dimensions are "
                f"{sizes} (shapes {[tuple(a.shape) for a in arrays]}); every tensor needs "
                "the same number of samples"
            )
        self.tensors = tuple(t if isinstance(t, Tensor) else _make(a)
                             for t, a in zip(tensors, arrays))
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def _finish(self, items: list):
        if self.transform is not None:
            items[0] = self.transform(items[0])
        if self.target_transform is not None:
            items[-1] = self.target_transform(items[-1])
        return tuple(items)

    def __getitem__(self, index):
        n = len(self)
        if not isinstance(index, int | np.integer):
            raise TypeError(f"TensorDataset: index must be an int, got {type(index).__name__}; "
                            "use get_batch(indices) or Subset for many")
        if not -n <= index < n:
            raise IndexError(f"TensorDataset: index {index} is out of range for a dataset "
                             f"of size {n}")
        return self._finish([_sample(t._data, int(index)) for t in self.tensors])

    def get_batch(self, indices):
        """The samples at ``indices`` stacked: one fancy-index per tensor."""
        idx = _to_indices(indices, len(self), "TensorDataset")
        return self._finish([_make(t._data[_on_device_of(idx, t._data)]) for t in self.tensors])

    def arrays(self) -> tuple:
        """The raw arrays (NumPy or CuPy) behind the tensors, in order."""
        return tuple(t._data for t in self.tensors)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np
    >>> s = Subset(TensorDataset(np.arange(10)), [7, 3])
    >>> len(s), int(s[0][0])
    (2, 7)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.max() >= n or self.indices.min() < -n):
            raise IndexError(f"Subset: indices reach {int(self.indices.max())} but the "
                             f"dataset has {n} samples")

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, index):
        if isinstance(index, list | np.ndarray):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def __getattr__(self, name):
        # forwards get_batch only when the wrapped dataset has one, so hasattr stays honest
        if name == "get_batch" and hasattr(self.__dict__.get("dataset"), "get_batch"):
            return self._get_batch
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _get_batch(self, indices):
        idx = _to_indices(indices, len(self), "Subset")
        return self.dataset.get_batch(self.indices[idx])


class ConcatDataset(Dataset):
    """The samples of several datasets, one after another.

    >>> import numpy as np
    >>> c = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(5))])
    >>> len(c), int(c[4][0]), c.cumulative_sizes
    (8, 1, [3, 8])
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for a dataset "
                             f"of size {n}")
        if index < 0:
            index += n
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][index - start]

    def __getattr__(self, name):
        # batched access only when every part has it, so hasattr stays honest
        parts = self.__dict__.get("datasets", [])
        if name == "get_batch" and parts and all(hasattr(d, "get_batch") for d in parts):
            return self._get_batch
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _get_batch(self, indices):
        """One ``get_batch`` per part touched, reassembled in the order asked for."""
        idx = _to_indices(indices, len(self), "ConcatDataset") % len(self)
        which = np.searchsorted(self.cumulative_sizes, idx, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        pieces, positions = [], []
        for d in np.unique(which):
            pos = np.flatnonzero(which == d)
            pieces.append(self.datasets[d].get_batch(idx[pos] - starts[d]))
            positions.append(pos)
        inverse = np.argsort(np.concatenate(positions), kind="stable")
        fields = []
        for parts in zip(*pieces):
            arrays = [p._data for p in parts]
            xp = get_array_module(arrays[0])
            joined = xp.concatenate(arrays) if len(arrays) > 1 else arrays[0]
            fields.append(_make(joined[_on_device_of(inverse, joined)]
                                if len(arrays) > 1 else joined))
        return tuple(fields)
