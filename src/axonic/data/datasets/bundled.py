"""Small real datasets shipped with scikit-learn, as ``TensorDataset``s.

Features are float32; class labels int64 with ``.classes``; regression targets
float32 of shape ``(N, 1)`` (the shape a one-output model predicts, so ``MSELoss``
does not broadcast). ``.feature_names`` and ``.description`` come from scikit-learn.
No download is needed.
"""

from __future__ import annotations

import numpy as np

from axonic.data.dataset import TensorDataset


def _wrap(bunch, x, classes=None, regression=False, transform=None):
    y = bunch.target
    y = y.astype(np.float32).reshape(-1, 1) if regression else y.astype(np.int64)
    ds = TensorDataset(np.ascontiguousarray(x, dtype=np.float32), y, transform=transform)
    ds.targets = ds.tensors[1]
    ds.classes = classes
    ds.feature_names = [str(f) for f in getattr(bunch, "feature_names", [])] or None
    ds.description = getattr(bunch, "DESCR", "")
    return ds


def load_digits(as_images=False, transform=None) -> TensorDataset:
    """The 1797 8x8 handwritten digits, pixels scaled from 0..16 to [0, 1].

    ``as_images=True`` gives ``(N, 1, 8, 8)`` images, else ``(N, 64)`` rows.

    >>> ds = load_digits(as_images=True)
    >>> ds.tensors[0].shape, ds.tensors[1].dtype, len(ds.classes)
    ((1797, 1, 8, 8), dtype('int64'), 10)
    """
    from sklearn.datasets import load_digits as sk_load

    b = sk_load()
    x = b.data.astype(np.float32) / np.float32(16.0)
    if as_images:
        x = x.reshape(-1, 1, 8, 8)
    return _wrap(b, x, classes=[str(c) for c in b.target_names], transform=transform)


def load_iris(transform=None) -> TensorDataset:
    """150 irises: 4 measurements (cm), 3 species."""
    from sklearn.datasets import load_iris as sk_load

    b = sk_load()
    return _wrap(b, b.data, classes=[str(c) for c in b.target_names], transform=transform)


def load_wine(transform=None) -> TensorDataset:
    """178 wines: 13 chemical measurements, 3 cultivars."""
    from sklearn.datasets import load_wine as sk_load

    b = sk_load()
    return _wrap(b, b.data, classes=[str(c) for c in b.target_names], transform=transform)


def load_breast_cancer(transform=None) -> TensorDataset:
    """569 tumours: 30 features, classes malignant (0) / benign (1)."""
    from sklearn.datasets import load_breast_cancer as sk_load

    b = sk_load()
    return _wrap(b, b.data, classes=[str(c) for c in b.target_names], transform=transform)


def load_diabetes(scaled=True, transform=None) -> TensorDataset:
    """442 patients: 10 baseline features, a disease-progression target ``(N, 1)``.

    ``scaled=True`` gives scikit-learn's mean-centred, norm-scaled features.
    """
    from sklearn.datasets import load_diabetes as sk_load

    b = sk_load(scaled=scaled)
    return _wrap(b, b.data, regression=True, transform=transform)
