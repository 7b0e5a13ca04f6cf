"""``default_collate``: a list of samples -> one batch, as PyTorch's does it.

Tensors and NumPy arrays are stacked along a new first dim, Python numbers become
tensors (``float`` -> float64, ``int`` -> int64, ``bool`` -> bool, as in PyTorch),
NumPy scalars keep their dtype, strings stay a list, and dicts, tuples, lists and
namedtuples are collated field by field. Tuples stay tuples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module


def _stack(arrays: list, kind: str):
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(
                f"default_collate: can't stack {kind}s of different shapes: sample 0 has "
                f"shape {tuple(first)} but sample {i} has shape {tuple(a.shape)}; resize or pad "
                "them in the dataset, or pass a collate_fn"
            )
    return _make(get_array_module(arrays[0]).stack(arrays))


def default_collate(batch):
    """Stack a list of samples into a batch.

    >>> import numpy as np
    >>> x, y = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
    >>> x.shape, y.tolist()
    ((2, 3), [1, 0])
    """
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise ValueError(f"default_collate: expected a non-empty list of samples, got {batch!r}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([s._data for s in batch], "tensor")
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: can't batch arrays of dtype {elem.dtype}; "
                            "only numeric and bool arrays become tensors")
        return _stack(list(batch), "array")
    if isinstance(elem, np.generic):
        return _make(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return _make(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _make(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _make(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, str | bytes):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(s) for s in batch}
        if len(sizes) != 1:
            raise RuntimeError("default_collate: each element in the list of samples should be "
                               f"of equal size, got sizes {sorted(sizes)}")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: samples must contain tensors, NumPy arrays, numbers, dicts or "
        f"lists, got {type(elem).__name__}; pass a collate_fn for other types"
    )


def default_convert(sample):
    """One sample with its arrays and numbers turned into tensors (no batch dim added)."""
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, np.ndarray | np.generic) and np.asarray(sample).dtype.kind not in "OSUV":
        return _make(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, tuple | list):
        return type(sample)(default_convert(v) for v in sample)
    return sample
