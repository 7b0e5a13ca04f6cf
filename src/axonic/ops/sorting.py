"""Sorting: ``sort``, ``argsort`` and ``topk`` along a dim (stable; the values carry the
gradient through ``gather``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from axonic.autograd.tensor import _make
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec
from axonic.ops._util import norm_dim
from axonic.ops.scatter import gather

values_indices = namedtuple("values_indices", ["values", "indices"])


@op(methods=("argsort",))
def argsort(input, dim=-1, descending=False, *, stable=False):
    """Indices that sort ``input`` along ``dim`` (ties keep their order).

    >>> import axonic
    >>> axonic.tensor([3.0, 1.0, 2.0]).argsort()
    tensor([1, 2, 0])
    """
    keys = input._data
    xp = get_array_module(keys)
    if input.ndim == 0:
        return _make(xp.zeros((), np.int64))
    (axis,) = norm_dim(dim, input.ndim, "argsort")
    if descending:  # a stable descending order: sort the reversed array, map back
        rev = xp.flip(keys, axis)
        idx = keys.shape[axis] - 1 - xp.flip(xp.argsort(rev, axis=axis, kind="stable"), axis)
    else:
        idx = xp.argsort(keys, axis=axis, kind="stable")
    return _make(idx.astype(np.int64, copy=False))


@op(methods=("sort",))
def sort(input, dim=-1, descending=False, *, stable=False):
    """``(values, indices)`` sorted along ``dim``; the values carry the gradient.

    >>> import axonic
    >>> axonic.tensor([3.0, 1.0, 2.0]).sort(descending=True)
    values_indices(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    idx = argsort(input, dim, descending)
    if input.ndim == 0:
        return values_indices(input, idx)
    return values_indices(gather(input, dim, idx), idx)


@op(methods=("topk",))
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    >>> import axonic
    >>> axonic.tensor([1.0, 5.0, 3.0, 4.0]).topk(2)
    values_indices(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    n = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k ({k}) is out of range for dim {dim} of size {n}")
    idx = argsort(input, dim, descending=largest)
    if input.ndim == 0:
        return values_indices(input, idx)
    (axis,) = norm_dim(dim, input.ndim, "topk")
    xp = get_array_module(idx._data)
    idx = _make(xp.take(idx._data, xp.arange(k), axis=axis))
    return values_indices(gather(input, dim, idx), idx)


SPECS = [
    OpSpec("sort", lambda a: sort(a, -1).values, lambda a: np.sort(a, -1), [((3, 4),), ((5,),)],
           lambda a: a.sort(-1).values),
    OpSpec("sort_descending_dim0", lambda a: sort(a, 0, descending=True).values,
           lambda a: -np.sort(-a, 0), [((4, 3),)], lambda a: a.sort(0, descending=True).values),
    OpSpec("topk", lambda a: topk(a, 2).values, lambda a: -np.sort(-a, -1)[..., :2],
           [((3, 5),)], lambda a: a.topk(2).values),
    OpSpec("topk_smallest", lambda a: topk(a, 3, 0, largest=False).values,
           lambda a: np.sort(a, 0)[:3], [((4, 2),)], lambda a: a.topk(3, 0, largest=False).values),
]
