"""``NPZDataset``: arrays saved with ``np.savez`` as a ``TensorDataset``."""

from __future__ import annotations

import numpy as np

from axonic.data.dataset import TensorDataset

_DEFAULT_KEYS = (("x", "y"), ("X", "y"), ("inputs", "targets"), ("data", "labels"))


class NPZDataset(TensorDataset):
    """The arrays ``keys`` of an ``.npz`` file, row ``i`` of each forming sample ``i``.

    ``keys`` defaults to the first of ``(x, y)``, ``(X, y)``, ``(inputs, targets)``,
    ``(data, labels)`` present. The file is read with ``allow_pickle=False``, so it can
    never run code.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(p, x=np.zeros((4, 2), np.float32), y=np.arange(4))
    >>> len(NPZDataset(p)), NPZDataset(p).keys
    (4, ('x', 'y'))
    """

    def __init__(self, path, keys=None, transform=None, target_transform=None):
        with np.load(path, allow_pickle=False) as f:
            available = list(f.files)
            if keys is None:
                keys = next((k for k in _DEFAULT_KEYS if all(n in available for n in k)), None)
                if keys is None:
                    raise KeyError(f"NPZDataset: {path} has arrays {available}; none of the "
                                   f"default pairs {list(_DEFAULT_KEYS)}; pass keys=(...)")
            keys = (keys,) if isinstance(keys, str) else tuple(keys)
            missing = [k for k in keys if k not in available]
            if missing:
                raise KeyError(f"NPZDataset: {path} has no array(s) {missing}; it holds "
                               f"{available}")
            try:
                arrays = [f[k] for k in keys]
            except ValueError as e:  # object arrays need pickle, which is never allowed
                raise ValueError(f"NPZDataset: {path} holds an object array, which can't be "
                                 f"loaded without pickle: {e}") from None
        self.path = str(path)
        self.keys = keys
        super().__init__(*arrays, transform=transform, target_transform=target_transform)
        if len(arrays) > 1:
            self.targets = self.tensors[-1]
