"""Datasets: bundled (scikit-learn's small real ones), standard image sets (MNIST,
Fashion-MNIST, CIFAR-10) and loaders for your own files (CSV, NPZ, image folders,
text, time series). ``get_dataset(name)`` looks up the named ones.

>>> ds = get_dataset("iris")
>>> len(ds), ds.classes
(150, ['setosa', 'versicolor', 'virginica'])
"""

from axonic.data.datasets.bundled import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from axonic.data.datasets.cifar import CIFAR10, read_cifar_binary
from axonic.data.datasets.csv import CSVDataset
from axonic.data.datasets.download import cache_dir, download_url, extract_tar, file_digest
from axonic.data.datasets.idx import MNIST, FashionMNIST, read_idx
from axonic.data.datasets.image_folder import ImageFolder
from axonic.data.datasets.npz import NPZDataset
from axonic.data.datasets.text import CharCorpus
from axonic.data.datasets.timeseries import SlidingWindowDataset, sliding_windows

# name -> factory; the CLI and configs refer to datasets by these names
REGISTRY = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "diabetes": load_diabetes,
    "mnist": MNIST,
    "fashion_mnist": FashionMNIST,
    "cifar10": CIFAR10,
}


def list_datasets() -> list[str]:
    """The names ``get_dataset`` knows."""
    return sorted(REGISTRY)


def get_dataset(name: str, **kwargs):
    """The dataset called ``name`` (case and '-' / '_' ignored), built with ``kwargs``
    (e.g. ``train=False``, ``root=...``, ``download=True``, ``as_images=True``)."""
    key = str(name).lower().replace("-", "_")
    if key not in REGISTRY:
        raise KeyError(f"get_dataset: unknown dataset {name!r}; known names are "
                       f"{list_datasets()}")
    return REGISTRY[key](**kwargs)


def register_dataset(name: str, factory) -> None:
    """Make ``get_dataset(name, **kwargs)`` call ``factory(**kwargs)``."""
    if not callable(factory):
        raise TypeError(f"register_dataset: factory must be callable, got {factory!r}")
    REGISTRY[str(name).lower().replace("-", "_")] = factory
