"""Data: datasets, loaders, splits, file formats and batch augmentation.

>>> import numpy as np
>>> from axonic.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.random.rand(10, 3).astype(np.float32), np.arange(10))
>>> [tuple(x.shape) for x, _ in DataLoader(ds, batch_size=4)]
[(4, 3), (4, 3), (2, 3)]
"""

from axonic.data import transforms
from axonic.data.collate import default_collate, default_convert
from axonic.data.dataloader import DataLoader
from axonic.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
)
from axonic.data.distributed import DistributedSampler
from axonic.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from axonic.data.splits import kfold, random_split, stratified_split, time_series_split


def __getattr__(name):
    # the dataset readers load on first use, keeping ``import axonic`` fast
    if name in ("datasets", "get_dataset"):
        import axonic.data.datasets as datasets

        return datasets if name == "datasets" else datasets.get_dataset
    raise AttributeError(f"module 'axonic.data' has no attribute {name!r}")
from axonic.data.graph import Batch, Data, GraphLoader  # noqa: E402
from axonic.data.graph_datasets import drosophila, karate_club, motif_graphs  # noqa: E402
