"""``torch.utils.data``: datasets, samplers and ``DataLoader`` (re-exported from ``axonic.data``).

>>> import numpy as np
>>> from axonic.utils.data import DataLoader, TensorDataset
>>> [len(x) for x, _ in DataLoader(TensorDataset(np.zeros((5, 2)), np.arange(5)), batch_size=2)]
[2, 2, 1]
"""

from axonic.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)
from axonic.utils.data import dataloader, dataset, distributed, sampler
from axonic.utils.data.dataloader import get_worker_info
from axonic.utils.data.dataset import ChainDataset, StackDataset

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
    "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "dataloader", "dataset", "default_collate", "default_convert", "distributed",
    "get_worker_info", "random_split", "sampler",
]
