"""``torch.utils.data.dataset``'s names: the datasets of ``axonic.data.dataset`` plus the two
combinators PyTorch has there, ``ChainDataset`` and ``StackDataset``.

>>> list(ChainDataset([range(2), range(3)]))
[0, 1, 0, 1, 2]
>>> StackDataset([1, 2], [3, 4])[1]
(2, 4)
"""

from __future__ import annotations

import itertools

from axonic.data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset
from axonic.data.splits import random_split

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]


class ChainDataset(IterableDataset):
    """The streams of ``datasets`` one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Sample ``i`` is ``(d[i] for d in datasets)`` as a tuple, or a dict with keyword
    datasets (``StackDataset(image=a, label=b)[i] == {"image": a[i], "label": b[i]}``)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass datasets either as positional or as keyword "
                             "arguments, not both")
        parts = args or tuple(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: at least one dataset is needed")
        lengths = [len(d) for d in parts]
        if len(set(lengths)) != 1:
            raise ValueError(f"StackDataset: the datasets differ in length: {lengths}")
        self.datasets = args or kwargs
        self._length = lengths[0]

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)
