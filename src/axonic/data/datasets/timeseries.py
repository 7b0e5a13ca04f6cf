"""Sliding windows over a time series: ``window`` past steps -> ``horizon`` next steps."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.data.dataset import Dataset


class SlidingWindowDataset(Dataset):
    """Sample ``i``: ``series[s : s + window]`` and the next ``horizon`` steps
    ``series[s + window : s + window + horizon]``, with ``s = i * stride``.

    ``series`` is ``(T,)`` or ``(T, F)``; inputs are ``(window, F)`` (``(window,)`` for a
    1-D series) and targets ``(horizon, ...)`` of the ``target_columns`` (all by
    default). Windows are views built by one gather per batch in ``get_batch``.

    >>> ds = SlidingWindowDataset(np.arange(6, dtype=np.float32), window=3, horizon=1)
    >>> x, y = ds[0]
    >>> x.tolist(), y.tolist(), len(ds)
    ([0.0, 1.0, 2.0], [3.0], 3)
    """

    def __init__(self, series, window, horizon=1, stride=1, target_columns=None):
        a = np.asarray(series._data if isinstance(series, Tensor) else series)
        if a.ndim not in (1, 2):
            raise ValueError(f"SlidingWindowDataset: series must be (T,) or (T, F), got shape "
                             f"{a.shape}")
        for name, v in (("window", window), ("horizon", horizon), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"SlidingWindowDataset: {name} must be a positive int, got "
                                 f"{v!r}")
        if a.shape[0] < window + horizon:
            raise ValueError(f"SlidingWindowDataset: a series of {a.shape[0]} steps is shorter "
                             f"than window + horizon = {window + horizon}")
        if target_columns is not None and a.ndim == 1:
            raise ValueError("SlidingWindowDataset: target_columns needs a (T, F) series")
        self.series = a
        self.window, self.horizon, self.stride = window, horizon, stride
        self.target_columns = target_columns
        self._targets = a if target_columns is None else a[:, list(np.atleast_1d(
            target_columns))]

    def __len__(self) -> int:
        return (self.series.shape[0] - self.window - self.horizon) // self.stride + 1

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"SlidingWindowDataset: index {index} is out of range for {n} "
                             "windows")
        x, y = self.get_batch([index])
        return _make(x._data[0]), _make(y._data[0])

    def get_batch(self, indices):
        """Windows at ``indices``: inputs ``(B, window, ...)`` and targets
        ``(B, horizon, ...)``, each one fancy-index."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.max() >= n or idx.min() < -n):
            raise IndexError(f"SlidingWindowDataset: indices reach {int(idx.max())} but there "
                             f"are {n} windows")
        start = (idx % n) * self.stride
        xi = start[:, None] + np.arange(self.window)
        yi = start[:, None] + self.window + np.arange(self.horizon)
        return _make(self.series[xi]), _make(self._targets[yi])


def sliding_windows(series, window, horizon=1, stride=1):
    """All windows at once as arrays ``(n, window, ...)`` and ``(n, horizon, ...)``.

    >>> x, y = sliding_windows(np.arange(5), window=2, horizon=2)
    >>> x.tolist(), y.tolist()
    ([[0, 1], [1, 2]], [[2, 3], [3, 4]])
    """
    ds = SlidingWindowDataset(series, window, horizon, stride)
    x, y = ds.get_batch(np.arange(len(ds)))
    return x._data, y._data
