"""Segment (scatter) reductions, the primitives of message passing: ``scatter(src, index, dim,
dim_size, reduce)`` with reduce ``"sum"`` / ``"mean"`` / ``"max"`` / ``"min"``, and
``scatter_softmax`` (PyTorch Geometric's ``utils.scatter`` and ``utils.softmax``).

``index`` is 1-d: slice ``i`` of ``src`` along ``dim`` goes to output slot ``index[i]``.
Slots nobody writes to are 0, as in PyTorch Geometric. Each backward gathers the output
gradient back with ``g[index]``, which works on arrays and on tensors alike, so the ops
are also differentiable twice (``create_graph``).

>>> import axonic
>>> src = axonic.tensor([1.0, 2.0, 3.0, 4.0])
>>> scatter(src, axonic.tensor([0, 0, 2, 2]), dim_size=3, reduce="max")
tensor([2., 0., 4.])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import norm_dim
from axonic.ops.indexing import _own

REDUCTIONS = ("sum", "add", "mean", "max", "min")


def _at(axis, index):
    """The numpy index that picks ``index`` along ``axis``."""
    return (slice(None),) * axis + (index,)


def _slot_shape(axis, ndim, n):
    """Shape that broadcasts a per-slot vector of length ``n`` along ``axis``."""
    return (n,) + (1,) * (ndim - axis - 1)


def _segment_reduce(ufunc, src, index, axis, dim_size, fill=0):
    """``ufunc``-reduce the slices of ``src`` along ``axis`` into ``dim_size`` slots: sort
    by slot, then one ``reduceat`` (about twice as fast as ``ufunc.at``: bench/scatter.py)."""
    xp = get_array_module(src)
    moved = xp.moveaxis(src, axis, 0)
    out = xp.full((dim_size,) + moved.shape[1:], fill, src.dtype)
    if index.size:
        order = xp.argsort(index, kind="stable")
        slots, starts = xp.unique(index[order], return_index=True)
        out[slots] = ufunc.reduceat(moved[order], starts, axis=0)
    return xp.moveaxis(out, 0, axis)


class ScatterSum(Function):

    def forward(self, src, index, axis, dim_size):
        self.at = _at(axis, _own(self, index))
        return _segment_reduce(np.add, src, index, axis, dim_size)

    def backward(self, g):
        return g[self.at]


class IndexGather(Function):
    """``src.index_select(dim, index)`` whose backward is a sorted segment sum."""


    def forward(self, src, index, axis):
        self.index, self.axis, self.size = _own(self, index), axis, src.shape[axis]
        return get_array_module(src).take(src, index, axis=axis)

    def backward(self, g):
        if isinstance(g, Tensor):  # create_graph: differentiate through the scatter
            return ScatterSum.apply(g, self.index, self.axis, self.size)
        return _segment_reduce(np.add, g, self.index, self.axis, self.size)


class ScatterMean(Function):

    def forward(self, src, index, axis, dim_size):
        self.at = _at(axis, _own(self, index))
        xp = get_array_module(src)
        count = xp.bincount(index, minlength=dim_size).astype(src.dtype)
        # empty slots divide 0 by 1 and stay 0
        self.scale = (1 / xp.maximum(count, 1)).reshape(_slot_shape(axis, src.ndim, dim_size))
        return _segment_reduce(np.add, src, index, axis, dim_size) * self.scale

    def backward(self, g):
        return (g * self.scale)[self.at]


class ScatterMax(Function):
    """Max (or min, ``sign=-1``) per slot; tied maxima share the gradient equally, as in
    PyTorch's ``scatter_reduce(..., "amax")``."""


    def forward(self, src, index, axis, dim_size, sign):
        self.at = at = _at(axis, _own(self, index))
        ufunc = np.maximum if sign > 0 else np.minimum
        out = _segment_reduce(ufunc, src, index, axis, dim_size)  # empty slots stay 0
        winner = (src == out[at]).astype(src.dtype)
        ties = _segment_reduce(np.add, winner, index, axis, dim_size)
        self.weight = winner / ties[at]  # a winner's slot has ties >= 1
        return out

    def backward(self, g):
        return g[self.at] * self.weight


def _check(src, index, dim, dim_size, reduce, op):
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if reduce not in REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {REDUCTIONS}, got {reduce!r}")
    (axis,) = norm_dim(dim, src.ndim, op)
    idx = index._data if isinstance(index, Tensor) else get_array_module(src._data).asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {idx.dtype.name}")
    if idx.ndim != 1 or idx.shape[0] != src.shape[axis]:
        raise ValueError(
            f"{op}: index must be 1-d with one entry per slice of src along dim {dim} "
            f"({src.shape[axis]}), got shape {tuple(idx.shape)}")
    if idx.size and int(idx.min()) < 0:
        raise IndexError(f"{op}: index must be non-negative, got {int(idx.min())}")
    top = int(idx.max()) + 1 if idx.size else 0
    if dim_size is None:
        dim_size = top
    elif top > dim_size:
        raise IndexError(f"{op}: index {top - 1} is out of range for dim_size {dim_size}")
    return axis, idx.astype(np.int64, copy=False), int(dim_size)


def scatter(src, index, dim=0, dim_size=None, reduce="sum"):
    """Reduce the slices of ``src`` along ``dim`` into ``dim_size`` slots given by ``index``.

    ``reduce`` is ``"sum"`` (or ``"add"``), ``"mean"``, ``"max"`` or ``"min"``;
    ``dim_size`` defaults to ``index.max() + 1``.

    >>> import axonic
    >>> x = axonic.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> scatter(x, axonic.tensor([1, 1, 0]), reduce="mean")
    tensor([[5., 6.],
            [2., 3.]])
    """
    axis, idx, dim_size = _check(src, index, dim, dim_size, reduce, "scatter")
    if reduce in ("sum", "add"):
        return ScatterSum.apply(src, idx, axis, dim_size)
    if reduce == "mean":
        return ScatterMean.apply(src, idx, axis, dim_size)
    return ScatterMax.apply(src, idx, axis, dim_size, 1 if reduce == "max" else -1)


def gather_index(src, index, dim=0):
    """``src.index_select(dim, index)`` (one slice per edge, from its node) with a
    sort-based backward; what ``MessagePassing`` uses to lift node features to edges.

    >>> import axonic
    >>> gather_index(axonic.tensor([[1.0], [2.0]]), axonic.tensor([1, 1, 0]))
    tensor([[2.],
            [2.],
            [1.]])
    """
    (axis,) = norm_dim(dim, src.ndim, "gather_index")
    idx = index._data if isinstance(index, Tensor) else get_array_module(src._data).asarray(index)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        raise ValueError(f"gather_index: index must be a 1-d integer tensor, got "
                         f"{idx.dtype.name} of shape {tuple(idx.shape)}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= src.shape[axis]):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"gather_index: index {bad} is out of range for dim {dim} with size "
                         f"{src.shape[axis]}")
    return IndexGather.apply(src, idx.astype(np.int64, copy=False), axis)


def scatter_softmax(src, index, dim=0, dim_size=None):
    """Softmax of ``src`` within each group of slices that share an ``index`` value (the
    attention weights over a node's incoming edges).

    Composed of scatter max/sum and exp, so it needs no backward of its own; the group's
    maximum is subtracted first (and detached: the shift cancels) so large scores stay
    finite, and 1e-16 guards the division as in PyTorch Geometric's ``softmax``.

    >>> import axonic
    >>> scatter_softmax(axonic.tensor([0.0, 0.0, 1e4]), axonic.tensor([0, 0, 1]))
    tensor([0.5000, 0.5000, 1.0000])
    """
    axis, idx, dim_size = _check(src, index, dim, dim_size, "sum", "scatter_softmax")
    shift = ScatterMax.apply(src.detach(), idx, axis, dim_size, 1)
    e = (src - IndexGather.apply(shift, idx, axis)).exp()
    total = ScatterSum.apply(e, idx, axis, dim_size)
    return e / (IndexGather.apply(total, idx, axis) + 1e-16)


# --- test specs: NumPy float64 references and PyTorch parity --------------------------
_INDEX = np.array([2, 0, 2, 3, 0, 2])  # slot 1 stays empty; slot 2 gets three entries


def _np_scatter(a, index, axis, n, reduce):
    moved = np.moveaxis(a, axis, 0)
    out = np.zeros((n,) + moved.shape[1:])
    for k in range(n):
        rows = moved[index == k]
        if len(rows):
            out[k] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0),
                      "min": rows.min(0)}[reduce]
    return np.moveaxis(out, 0, axis)


def _np_scatter_softmax(a, index, n):
    out = np.empty_like(a)
    for k in range(n):
        rows = a[index == k]
        if len(rows):
            e = np.exp(rows - rows.max(0))
            out[index == k] = e / e.sum(0)
    return out


def _torch_scatter(a, index, axis, n, reduce):
    shape = [1] * a.ndim
    shape[axis] = -1
    idx = TORCH.tensor(index).reshape(shape).expand(*a.shape)
    out_shape = list(a.shape)
    out_shape[axis] = n
    how = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}[reduce]
    return a.new_zeros(out_shape).scatter_reduce(axis, idx, a, how, include_self=False)


def _spec(reduce, shape=(6, 3), axis=0):
    return OpSpec(f"scatter_{reduce}_dim{axis}",
                  lambda a: scatter(a, _INDEX, axis, 5, reduce),
                  lambda a: _np_scatter(a, _INDEX, axis, 5, reduce), [(shape,)],
                  lambda a: _torch_scatter(a, _INDEX, axis, 5, reduce))


SPECS = [
    _spec("sum"), _spec("mean"), _spec("max"), _spec("min"),
    _spec("sum", (2, 6, 3), 1), _spec("mean", (2, 6), 1), _spec("max", (2, 6, 2), 1),
    OpSpec("gather_index", lambda a: gather_index(a, _INDEX, 1), lambda a: a[:, _INDEX],
           [((2, 4, 3),)], lambda a: a.index_select(1, TORCH.tensor(_INDEX))),
    OpSpec("scatter_softmax", lambda a: scatter_softmax(a, _INDEX, 0, 5),
           lambda a: _np_scatter_softmax(a, _INDEX, 5), [((6, 3),), ((6,),)]),
]
