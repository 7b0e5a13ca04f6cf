"""Indexing and selection: ``x[index]`` (basic, integer arrays, boolean masks), gather,
index_select, masked_fill, where, one_hot. Backward of a gather scatters with
accumulation, so repeated indices add up."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import as_operand, broadcast_error, norm_dim, promote


def _convert_index(index):
    """Tensors and lists inside an index become arrays; returns (tuple, is_advanced)."""
    if not isinstance(index, tuple):
        index = (index,)
    out, advanced = [], False
    for i in index:
        if isinstance(i, Tensor):
            i = i.data
            if i.dtype.kind not in "biu":
                raise IndexError(
                    f"tensors used as indices must be integer or bool, got {i.dtype.name}")
        elif isinstance(i, list):
            i = np.asarray(i)
            if i.size == 0:
                i = i.astype(np.int64)
        if hasattr(i, "dtype") and getattr(i, "ndim", 0) >= 0 and not isinstance(i, np.generic):
            advanced = True
        out.append(i)
    return tuple(out), advanced


class BasicIndex(Function):
    saves_inputs = False  # backward needs only the shape and the index
    is_view = True

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        out = x[index]
        if out.__class__ is not x.__class__:  # one element: a 0-d view, not NumPy's scalar copy
            out = x[(index if isinstance(index, tuple) else (index,)) + (None,)].reshape(())
        return out

    def backward(self, g):
        return _scatter_back(self, g, True)


class AdvancedIndex(Function):
    saves_inputs = False  # backward needs only the shape and the index

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return x[index]

    def backward(self, g):
        return _scatter_back(self, g, False)


def _scatter_back(fn, g, basic):
    """The gradient of ``x[index]``: ``g`` added into zeros at ``index``; under
    create_graph as its own op, whose gradient is indexing again."""
    if fn._graph_mode:
        return IndexAdd.apply(g, shape=fn.shape, index=fn.index, basic=basic)
    return _index_add(g, fn.shape, fn.index, basic)


def _index_add(g, shape, index, basic):
    xp = get_array_module(g)
    gx = xp.zeros(shape, dtype=g.dtype)
    if basic or len(index) == 1 and index[0].dtype == bool:
        gx[index] = g  # each element is selected at most once
        return gx
    expanded = []
    for i in index:
        if hasattr(i, "dtype") and not isinstance(i, np.generic) and i.dtype == bool:
            expanded.extend(i.nonzero())
        else:
            expanded.append(i)
    xp.add.at(gx, tuple(expanded), g)
    return gx


class IndexAdd(Function):
    """``g`` added into zeros of ``shape`` at ``index``: the adjoint of ``x[index]``."""

    saves_inputs = False

    def forward(self, g, shape, index, basic):
        self.index, self.basic = index, basic
        return _index_add(g, shape, index, basic)

    def backward(self, gg):
        if self._graph_mode:
            return (BasicIndex if self.basic else AdvancedIndex).apply(gg, index=self.index)
        return gg[self.index]


def getitem(input, index):
    idx, advanced = _convert_index(index)
    try:
        if advanced:
            return AdvancedIndex.apply(input, index=idx)
        return BasicIndex.apply(input, index=idx if len(idx) != 1 else idx[0])
    except IndexError as e:
        raise IndexError(
            f"index {index!r} into tensor of shape {tuple(input.shape)}: {e}") from None


class IndexPut(Function):
    """``x[index] = value`` written in place and recorded: the old ``x`` gets the gradient
    outside the written positions, ``value`` the gradient that reached them."""

    # backward writes into arrays; no second derivative yet
    double_backward = False
    saves_inputs = False

    def forward(self, x, value, index):
        self.index = index
        x[index] = _strip_leading_ones(value)
        return x

    def backward(self, g):
        x, value = self.inputs
        gx = gv = None
        if isinstance(x, Tensor) and x._rg:
            gx = g.copy()
            gx[self.index] = 0
        if isinstance(value, Tensor) and value._rg:
            shape = value.data.shape
            gv = sum_to(g[self.index], _strip_leading_ones(value.data).shape).reshape(shape)
        return gx, gv


def _strip_leading_ones(value):
    """A value of shape (1, 1, 3) broadcasts wherever (3,) does, and also into a lower-rank
    target (PyTorch accepts ``x[0] = tensor([1.])``; NumPy needs the shape trimmed)."""
    shape = getattr(value, "shape", ())
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return value.reshape(shape[k:]) if k else value


def setitem(input, index, value):
    """``x[index] = value`` in place. Recorded by autograd when ``value`` or ``x`` (not a
    leaf) requires grad: ``x`` then continues the graph from the write, as in PyTorch.

    >>> import axonic
    >>> a = axonic.tensor([1.0, 2.0], requires_grad=True)
    >>> out = axonic.zeros(3)
    >>> out[1:] = a * 3
    >>> out.sum().backward()
    >>> a.grad
    tensor([3., 3.])
    """
    idx, _ = _convert_index(index)
    record = STATE.enabled and (input._rg or isinstance(value, Tensor) and value._rg)
    if not record or input.grad_fn is None and input._rg:
        input._check_inplace("__setitem__")  # refuses leaves that require grad
    if record and getattr(input, "_base", None) is not None:
        raise RuntimeError(
            f"setitem: cannot record x[{index!r}] = value for autograd on a view (a tensor "
            "made from another by indexing, reshaping, transposing or detach): the original "
            "would not see the gradient. Index the original in one step (out[0, 1] = v, not "
            "out[0][1] = v), or clone() the view first"
        )
    try:
        if record:
            # the history up to now, under its own name; it shares the version counter, so
            # ops that saved the old values see the write
            before = _make(input.data, input._rg, input.grad_fn)
            before._vc = input._vc
            out = IndexPut.apply(before, value, index=idx)
            input.grad_fn, input._rg = out.grad_fn, True
        else:
            input.data[idx] = _strip_leading_ones(
                value.data if isinstance(value, Tensor) else value)
    except (IndexError, ValueError) as e:
        raise type(e)(
            f"setitem into tensor of shape {tuple(input.shape)} at {index!r}: {e}") from None
    input._vc[0] += 1


class Gather(Function):
    saves_inputs = False  # backward needs only the shape and the index

    def forward(self, x, index, axis):
        self.shape = x.shape
        xp = get_array_module(x)
        full = list(xp.indices(index.shape, sparse=True))
        full[axis] = index
        self.index = tuple(full)
        cut = tuple(slice(None) if k == axis else slice(0, n) for k, n in enumerate(index.shape))
        return xp.take_along_axis(x[cut], index, axis)

    def backward(self, g):
        return _scatter_back(self, g, False)


def _index_along(input, dim, index, op):
    """Check a gather/scatter index against ``input``; returns (axis, index array)."""
    (axis,) = norm_dim(dim, input.ndim, op)
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
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
        where[axis] = index
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
        src = np.asarray(src, dtype=input.data.dtype)
    return Scatter.apply(input, src, idx, axis, reduce is not None)


def scatter_add(input, dim, index, src):
    """Out of place ``scatter_add_``: repeated indices add up.

    >>> import axonic
    >>> axonic.zeros(4).scatter_add(0, axonic.tensor([1, 1, 3]), axonic.ones(3))
    tensor([0., 2., 0., 1.])
    """
    return scatter(input, dim, index, src, reduce="add")


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-d tensor."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {m.dtype.name}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise broadcast_error("masked_select", input.shape, m.shape) from None
    return getitem(input.expand(shape), np.broadcast_to(m, shape))


values_indices = namedtuple("values_indices", ["values", "indices"])


def argsort(input, dim=-1, descending=False, *, stable=False):
    """Indices that sort ``input`` along ``dim`` (ties keep their order).

    >>> import axonic
    >>> axonic.tensor([3.0, 1.0, 2.0]).argsort()
    tensor([1, 2, 0])
    """
    if input.ndim == 0:
        return _make(np.zeros((), np.int64))
    (axis,) = norm_dim(dim, input.ndim, "argsort")
    keys = input.data
    if descending:  # a stable descending order: sort the reversed array, map back
        rev = np.flip(keys, axis)
        idx = keys.shape[axis] - 1 - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)
    else:
        idx = np.argsort(keys, axis=axis, kind="stable")
    return _make(idx.astype(np.int64, copy=False))


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
    idx = _make(np.take(idx.data, np.arange(k), axis=axis))
    return values_indices(gather(input, dim, idx), idx)


def index_select(input, dim, index):
    (d,) = norm_dim(dim, input.ndim, "index_select")
    return getitem(input, (slice(None),) * d + (index,))


class MaskedFill(Function):
    def forward(self, x, mask, value):
        xp = get_array_module(x)
        self.save_for_backward(mask)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    def backward(self, g):
        (mask,) = self.saved_tensors
        return self.xp.where(mask, 0, g)


def masked_fill(input, mask, value):
    """Replace the elements where ``mask`` is True by ``value``."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype.name}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        shape = None
    if shape != tuple(input.shape):
        raise ValueError(
            f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to the input's "
            f"shape {tuple(input.shape)}")
    if isinstance(value, Tensor):
        if value.data.size != 1:
            raise ValueError("masked_fill: value must be a number or a 0-d tensor")
        value = value.item()
    return MaskedFill.apply(input, m, value)


class Where(Function):
    def forward(self, cond, a, b):
        self.save_for_backward(cond)
        return get_array_module(cond).where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved_tensors
        _, a, b = self.inputs
        _, na, nb = self.needs_input_grad
        xp = self.xp
        return (None, sum_to(xp.where(cond, g, 0), a.shape) if na else None,
                sum_to(xp.where(cond, 0, g), b.shape) if nb else None)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (either may be a number).
    With only a condition, the indices of its True elements (as ``nonzero(as_tuple=True)``)."""
    c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(_make(i) for i in c.nonzero())
    if c.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor, got {c.dtype.name}")
    input, other = promote(as_operand(input), as_operand(other))
    # A Python number takes the other side's dtype (or the default float dtype), as in
    # PyTorch; left to NumPy it would make the result float64.
    if not isinstance(other, Tensor):
        other = np.asarray(other, dtype=_number_dtype(input, other))
    if not isinstance(input, Tensor):
        input = np.asarray(input, dtype=_number_dtype(other, input))
    try:
        return Where.apply(c, input, other)
    except ValueError:
        sa = np.shape(input.data if isinstance(input, Tensor) else input)
        sb = np.shape(other.data if isinstance(other, Tensor) else other)
        raise broadcast_error("where", sa, sb) from None


def _number_dtype(partner, number):
    if isinstance(partner, Tensor):
        return partner.data.dtype
    if hasattr(partner, "dtype"):  # a number already turned into an array
        return partner.dtype
    return get_default_dtype() if isinstance(number, float) or isinstance(partner, float) else (
        np.result_type(number, partner))


def nonzero(input, as_tuple=False):
    idx = input.data.nonzero()
    if as_tuple:
        return tuple(_make(i) for i in idx)
    xp = get_array_module(input.data)
    return _make(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), dtype=np.int64))


def one_hot(tensor, num_classes=-1):
    """Class indices to one-hot rows (int64), as ``torch.nn.functional.one_hot``."""
    idx = tensor.data
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: expects an integer tensor of class indices, got {idx.dtype.name}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise ValueError(
            f"one_hot: class index {bad} is out of range for num_classes={num_classes}")
    xp = get_array_module(idx)
    return _make((idx[..., None] == xp.arange(num_classes)).astype(np.int64))


def _repeated(r):
    return (r.uniform(-1, 1, (5, 3)),)


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
    OpSpec("masked_select", lambda a: masked_select(a, Tensor(np.array([True, False, True]))),
           lambda a: a[:, [0, 2]].reshape(-1), [((2, 3),)],
           lambda a: a.masked_select(TORCH.tensor([True, False, True]))),
    OpSpec("sort", lambda a: sort(a, -1).values, lambda a: np.sort(a, -1), [((3, 4),), ((5,),)],
           lambda a: a.sort(-1).values),
    OpSpec("sort_descending_dim0", lambda a: sort(a, 0, descending=True).values,
           lambda a: -np.sort(-a, 0), [((4, 3),)], lambda a: a.sort(0, descending=True).values),
    OpSpec("topk", lambda a: topk(a, 2).values, lambda a: -np.sort(-a, -1)[..., :2],
           [((3, 5),)], lambda a: a.topk(2).values),
    OpSpec("topk_smallest", lambda a: topk(a, 3, 0, largest=False).values,
           lambda a: np.sort(a, 0)[:3], [((4, 2),)], lambda a: a.topk(3, 0, largest=False).values),
    OpSpec("getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [((4, 5),)],
           lambda a: a[1:, ::2]),
    OpSpec("getitem_int", lambda a: a[1], lambda a: a[1], [((4, 5),)], lambda a: a[1]),
    OpSpec("getitem_ellipsis_none", lambda a: a[..., None, 0], lambda a: a[..., None, 0],
           [((2, 3, 4),)], lambda a: a[..., None, 0]),
    OpSpec("getitem_int_array_repeated", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]],
           [_repeated], lambda a: a[[0, 2, 0, 0]]),
    OpSpec("getitem_two_arrays", lambda a: a[[0, 1, 1], [2, 0, 2]],
           lambda a: a[[0, 1, 1], [2, 0, 2]], [_repeated], lambda a: a[[0, 1, 1], [2, 0, 2]]),
    OpSpec("getitem_mask", lambda a: a[a.detach() > 0], lambda a: a[a > 0], [((4, 5),)],
           lambda a: a[a.detach() > 0]),
    OpSpec("getitem_row_mask", lambda a: a[np.array([True, False, True, True])],
           lambda a: a[np.array([True, False, True, True])], [((4, 3),)],
           lambda a: a[TORCH.tensor([True, False, True, True])]),
    OpSpec("gather", lambda a: gather(a, 1, Tensor([[0, 0], [1, 0], [3, 3]])),
           lambda a: np.take_along_axis(a, np.array([[0, 0], [1, 0], [3, 3]]), 1),
           [((3, 4),)], lambda a: a.gather(1, TORCH.tensor([[0, 0], [1, 0], [3, 3]]))),
    OpSpec("index_select", lambda a: index_select(a, 1, Tensor([2, 0, 2])),
           lambda a: a[:, [2, 0, 2]], [((3, 4),)],
           lambda a: a.index_select(1, TORCH.tensor([2, 0, 2]))),
    OpSpec("masked_fill", lambda a: masked_fill(a, Tensor(np.array([True, False, True])), -1.5),
           lambda a: np.where([True, False, True], -1.5, a), [((2, 3),)],
           lambda a: a.masked_fill(TORCH.tensor([True, False, True]), -1.5)),
    OpSpec("where", lambda c, a, b: where(c.detach() > 0, a, b),
           lambda c, a, b: np.where(c > 0, a, b), [((3, 4), (3, 4), (4,))],
           lambda c, a, b: TORCH.where(c.detach() > 0, a, b)),
    OpSpec("where_scalar", lambda c, a: where(c.detach() > 0, a, 0.0),
           lambda c, a: np.where(c > 0, a, 0.0), [((3, 4), (3, 4))],
           lambda c, a: TORCH.where(c.detach() > 0, a, 0.0)),
]
