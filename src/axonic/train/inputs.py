"""What ``Trainer`` accepts: data (a ``Dataset``, a ``DataLoader`` or ``(X, y)`` arrays) and
numeric settings (``check_number``).

Everything becomes a ``DataLoader``; a validation split is a seeded ``random_split``.

>>> import numpy as np
>>> loader = as_loader((np.zeros((10, 3), np.float32), np.arange(10)), batch_size=4,
...                    shuffle=False, seed=0)
>>> len(loader), tuple(next(iter(loader))[0].shape)
(3, (4, 3))
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor


def check_number(who, name, value, low, allow_none=False, integer=False) -> None:
    """Raise ``ValueError`` naming ``who``, ``name`` and ``value`` unless ``value`` is a
    number (an int when ``integer``) ``>= low`` (or None when ``allow_none``)."""
    if value is None and allow_none:
        return
    kind = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kind) or not value >= low:
        want = "an int" if integer else "a number"
        raise ValueError(f"{who}: {name} must be {want} >= {low}"
                         f"{' or None' if allow_none else ''}, got {value!r}")


def _is_loader(data) -> bool:
    from axonic.data.dataloader import DataLoader

    return isinstance(data, DataLoader)


def _is_pair(data) -> bool:
    return isinstance(data, tuple | list) and len(data) in (1, 2) and all(
        isinstance(a, Tensor | np.ndarray) or hasattr(a, "__array__") for a in data)


def as_dataset(data, who: str = "fit"):
    """A ``Dataset`` from a dataset or from ``(X, y)`` / ``(X,)`` arrays or tensors."""
    from axonic.data.dataset import TensorDataset

    if _is_pair(data):
        arrays = [a if isinstance(a, Tensor) else np.asarray(a) for a in data]
        if len(arrays) == 2 and len(arrays[0]) != len(arrays[1]):
            raise ValueError(f"{who}: X has {len(arrays[0])} samples but y has "
                             f"{len(arrays[1])}")
        return TensorDataset(*arrays)
    if isinstance(data, np.ndarray | Tensor):
        return TensorDataset(data)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(
            data, str | bytes | dict):
        return data
    raise TypeError(f"{who}: expected a Dataset, a DataLoader or (X, y) arrays/tensors, got "
                    f"{type(data).__name__}")


def as_loader(data, batch_size: int, shuffle: bool, seed: int | None, who: str = "fit"):
    """A ``DataLoader`` over ``data`` (returned as is when it already is one)."""
    from axonic.data.dataloader import DataLoader

    if _is_loader(data):
        return data
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    ds = as_dataset(data, who)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle,
                      seed=seed if shuffle else None)


def split(data, fraction: float, seed: int):
    """Split a dataset (or arrays) into ``(train, validation)`` at random with ``seed``
    (``axonic.data.random_split``, so its rounding is that of every other split)."""
    from axonic.backend.random import Generator
    from axonic.data.splits import random_split

    if _is_loader(data):
        raise ValueError("fit: validation_split needs a Dataset or (X, y) arrays, not a "
                         "DataLoader; pass validation=... instead")
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) \
            or not 0.0 < fraction < 1.0:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {fraction!r}")
    ds = as_dataset(data)
    train, val = random_split(ds, [1.0 - fraction, fraction],
                              generator=Generator().manual_seed(int(seed)))
    if len(train) == 0 or len(val) == 0:
        raise ValueError(f"fit: validation_split={fraction} of {len(ds)} samples leaves "
                         f"{len(train)} for training and {len(val)} for validation")
    return train, val


def unpack(batch):
    """``(inputs, target)`` from a batch: ``(x, y)``, or ``(x,)`` / ``x`` with no target."""
    if isinstance(batch, tuple | list):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
        return tuple(batch[:-1]), batch[-1]
    return batch, None
