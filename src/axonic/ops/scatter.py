"""Gather and scatter along a dim: ``gather``, ``scatter``, ``scatter_add`` (PyTorch's
semantics). Their backwards are each other: a gather's gradient scatters with
accumulation (repeated indices add up), a scatter's gradient gathers.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import norm_dim
from axonic.ops.indexing import IndexAdd, _index_add, _own, _scatter_back


class Gather(Function):

    def forward(self, x, index, axis):
        self.shape = x.shape
        xp = get_array_module(x)
        full = list(xp.indices(index.shape, sparse=True))
        full[axis] = _own(self, index)
        self.index = tuple(full)
        cut = tuple(slice(None) if k == axis else slice(0, n) for k, n in enumerate(index.shape))
        return xp.take_along_axis(x[cut], index, axis)

    def backward(self, g):
        return _scatter_back(self, g, False)

    def to_onnx(self, g, x, index, axis):
        return g.op("GatherElements", x, index, axis=int(axis))


def _index_along(input, dim, index, op):
    """Check a gather/scatter index against ``input``; returns (axis, index array)."""
    (axis,) = norm_dim(dim, input.ndim, op)
    idx = (index._data if isinstance(index, Tensor) else
           get_array_module(input._data).asarray(index))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {idx.dtype.name}")
    if idx.ndim != input.ndim:
        raise ValueError(
            f"{op}: index has {idx.ndim} dims but input has {input.ndim}; they must match")
    for k, (a, b) in enumerate(zip(idx.shape, input.shape)):
        if k != axis and a > b:
            raise ValueError(
                f"{op}: index shape {tuple(idx.shape)} exceeds input shape "
                f"{tuple(input.shape)} at dim {k}")
    if idx.size and (int(idx.min()) < -input.shape[axis] or int(idx.max()) >= input.shape[axis]):
        bad = int(idx.max()) if int(idx.max()) >= input.shape[axis] else int(idx.min())
        raise IndexError(
            f"{op}: index {bad} is out of range for dim {dim} with size {input.shape[axis]}")
    return axis, idx


@op(methods=("gather",))
def gather(input, dim, index):
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (PyTorch's gather)."""
    axis, idx = _index_along(input, dim, index, "gather")
    return Gather.apply(input, idx, axis)


class Scatter(Function):
    """``out = input`` with ``src`` values written (``add=False``, the last write wins) or
    added (``add=True``) at ``index`` along ``axis``."""

    def forward(self, x, src, index, axis, add):
        xp = get_array_module(x)
        self.index, self.add = index, add
        where = list(xp.indices(index.shape, sparse=True))
        where[axis] = _own(self, index)
        self.where = tuple(where)
        self.src_shape = getattr(src, "shape", ())
        src = src[tuple(slice(0, n) for n in index.shape)] if self.src_shape else src
        out = x.copy()
        if add:
            xp.add.at(out, self.where, src)
            self.save_for_backward()
        else:
            out[self.where] = src
            kept = xp.ones(x.shape, dtype=bool)
            kept[self.where] = False  # overwritten positions do not reach the output
            self.save_for_backward(kept)
        return out

    def backward(self, g):
        nx, ns = self.needs_input_grad[:2]
        gx = gs = None
        if nx:
            gx = g if self.add else g * self.saved_tensors[0]
        if ns:
            picked = g[self.where]
            if not self.src_shape:  # one value written everywhere
                gs = picked.sum()
            elif self.src_shape == self.index.shape:
                gs = picked
            else:  # src larger than index: the rest of it got no gradient
                cut = tuple(slice(0, n) for n in self.index.shape)
                gs = (IndexAdd.apply(picked, shape=self.src_shape, index=cut, basic=True)
                      if self._graph_mode else _index_add(picked, self.src_shape, cut, True))
        return gx, gs


@op(methods=("scatter",))
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out of place ``input.scatter_(dim, index, src)``: ``out[i][index[i][j]] = src[i][j]``
    for ``dim=1``; ``src`` may be a tensor or a number (``value``). ``reduce="add"`` adds.

    >>> import axonic
    >>> axonic.zeros(2, 3).scatter(1, axonic.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if src is None:
        src = value
    if reduce not in (None, "add", "sum"):
        raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    axis, idx = _index_along(input, dim, index, "scatter")
    if isinstance(src, Tensor) and src.ndim:
        if src.ndim != idx.ndim or any(a > b for a, b in zip(idx.shape, src.shape)):
            raise ValueError(f"scatter: index shape {tuple(idx.shape)} exceeds src shape "
                             f"{tuple(src.shape)}")
    elif not isinstance(src, Tensor):
        src = get_array_module(input._data).asarray(src, dtype=input._data.dtype)
    return Scatter.apply(input, src, idx, axis, reduce is not None)


@op(methods=("scatter_add",))
def scatter_add(input, dim, index, src):
    """Out of place ``scatter_add_``: repeated indices add up.

    >>> import axonic
    >>> axonic.zeros(4).scatter_add(0, axonic.tensor([1, 1, 3]), axonic.ones(3))
    tensor([0., 2., 0., 1.])
    """
    return scatter(input, dim, index, src, reduce="add")


def _np_scatter(x, index, src, axis, add):
    out = x.copy()
    where = list(np.indices(index.shape, sparse=True))
    where[axis] = index
    src = src[tuple(slice(0, n) for n in index.shape)] if np.ndim(src) else src
    if add:
        np.add.at(out, tuple(where), src)
    else:
        out[tuple(where)] = src
    return out


_SCATTER_INDEX = np.array([[0, 2], [1, 0], [3, 1]])  # distinct per row: writes don't collide


_SCATTER_ADD_INDEX = np.array([[0, 0, 2], [1, 1, 1]])


SPECS = [
    OpSpec("scatter", lambda a, s: scatter(a, 1, Tensor(_SCATTER_INDEX), s),
           lambda a, s: _np_scatter(a, _SCATTER_INDEX, s, 1, False), [((3, 4), (3, 3))],
           lambda a, s: a.scatter(1, TORCH.tensor(_SCATTER_INDEX), s[:, :2])),
    OpSpec("scatter_value", lambda a: scatter(a, 0, Tensor(np.array([[1, 0]])), value=2.5),
           lambda a: _np_scatter(a, np.array([[1, 0]]), 2.5, 0, False), [((2, 3),)],
           lambda a: a.scatter(0, TORCH.tensor([[1, 0]]), 2.5)),
    OpSpec("scatter_add_repeated", lambda a, s: scatter_add(a, 1, Tensor(_SCATTER_ADD_INDEX), s),
           lambda a, s: _np_scatter(a, _SCATTER_ADD_INDEX, s, 1, True), [((2, 4), (2, 3))],
           lambda a, s: a.scatter_add(1, TORCH.tensor(_SCATTER_ADD_INDEX), s)),
    OpSpec("gather", lambda a: gather(a, 1, Tensor([[0, 0], [1, 0], [3, 3]])),
           lambda a: np.take_along_axis(a, np.array([[0, 0], [1, 0], [3, 3]]), 1),
           [((3, 4),)], lambda a: a.gather(1, TORCH.tensor([[0, 0], [1, 0], [3, 3]]))),
]
