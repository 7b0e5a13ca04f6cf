"""Indexing and selection: ``x[index]`` (basic, integer arrays, boolean masks), gather,
index_select, masked_fill, where, one_hot. Backward of a gather scatters with
accumulation, so repeated indices add up."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import as_operand, broadcast_error, norm_dim, promote


def _on_device_of(like, value):
    """``value`` (a list or NumPy array) as an array on the device of the tensor ``like``."""
    return (get_array_module(like._data) if isinstance(like, Tensor) else np).asarray(value)


def _convert_index(index):
    """Tensors and lists inside an index become arrays; returns (tuple, is_advanced)."""
    if not isinstance(index, tuple):
        index = (index,)
    out, advanced = [], False
    for i in index:
        if isinstance(i, Tensor):
            i = i._data
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
    onnx_sized = ("index", 1)  # slice bounds on a dynamic axis count from its end
    is_view = True

    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        out = x[index]
        if out.__class__ is not x.__class__:  # one element: a 0-d view, not NumPy's scalar copy
            out = x[(index if isinstance(index, tuple) else (index,)) + (None,)].reshape(())
        return out

    def backward(self, g):
        return _scatter_back(self, g, True)

    def to_onnx(self, g, x, index):
        from axonic.onnx.export_shapes import basic_index

        return basic_index(g, x, index, self.shape, g.twin.index, g.twin.shape)


class AdvancedIndex(Function):

    def forward(self, x, index):
        self.shape, self.index = x.shape, _own(self, index)
        return x[index]

    def backward(self, g):
        return _scatter_back(self, g, False)

    def to_onnx(self, g, x, index):
        items = index if isinstance(index, tuple) else (index,)
        arrays = [k for k, i in enumerate(items) if not isinstance(i, slice)]
        whole = all(i == slice(None) for i in items if isinstance(i, slice))
        if len(arrays) != 1 or not whole or np.asarray(items[arrays[0]]).dtype.kind not in "iu":
            raise g.error("only one integer array indexing one axis (x[:, idx]) has an ONNX "
                          "mapping; boolean masks and several index arrays do not")
        idx = g.const(np.asarray(items[arrays[0]]).astype(np.int64))
        return g.op("Gather", x, idx, axis=arrays[0])


def _own(fn, index):
    """``index`` with private copies of its arrays when ``fn`` is recorded: they may be a
    caller's tensor, which could change in place before the backward reads them."""
    if True not in fn.needs_input_grad:
        return index
    if isinstance(index, tuple):
        return tuple(i.copy() if hasattr(i, "copy") and not isinstance(i, np.generic) else i
                     for i in index)
    return index.copy() if hasattr(index, "copy") else index


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


    def forward(self, g, shape, index, basic):
        self.index, self.basic = index, basic
        return _index_add(g, shape, index, basic)

    def backward(self, gg):
        if self._graph_mode:
            return (BasicIndex if self.basic else AdvancedIndex).apply(gg, index=self.index)
        return gg[self.index]


@op(export=False, methods=("__getitem__",))
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

    def forward(self, x, value, index):
        self.index = _own(self, index)
        stripped = _strip_leading_ones(value)
        # backward needs only shapes: value's own, and the one its gradient is summed to
        self.value_shapes = (getattr(value, "shape", ()), getattr(stripped, "shape", ()))
        x[index] = stripped
        return x

    def backward(self, g):
        nx, nv = self.needs_input_grad[:2]
        gx = gv = None
        if nx:
            gx = g.copy()
            gx[self.index] = 0
        if nv:
            shape, stripped = self.value_shapes
            gv = sum_to(g[self.index], stripped).reshape(shape)
        return gx, gv


def _strip_leading_ones(value):
    """A value of shape (1, 1, 3) broadcasts wherever (3,) does, and also into a lower-rank
    target (PyTorch accepts ``x[0] = tensor([1.])``; NumPy needs the shape trimmed)."""
    shape = getattr(value, "shape", ())
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return value.reshape(shape[k:]) if k else value


@op(methods=("masked_select",))
def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-d tensor."""
    m = mask._data if isinstance(mask, Tensor) else _on_device_of(input, mask)
    if m.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {m.dtype.name}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise broadcast_error("masked_select", input.shape, m.shape) from None
    return getitem(input.expand(shape), get_array_module(m).broadcast_to(m, shape))


@op(methods=("index_select",))
def index_select(input, dim, index):
    (d,) = norm_dim(dim, input.ndim, "index_select")
    return getitem(input, (slice(None),) * d + (index,))


class MaskedFill(Function):
    def forward(self, x, mask, value):
        xp = get_array_module(x)
        self.save_for_backward(_own(self, mask))  # the mask arrives as the caller's array
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    def backward(self, g):
        (mask,) = self.saved_tensors
        return self.xp.where(mask, 0, g)

    def to_onnx(self, g, x, mask, value):
        value = value if isinstance(value, str) else g.const(value, g.out_dtype)
        return g.op("Where", mask, value, x)


@op(methods=("masked_fill",))
def masked_fill(input, mask, value):
    """Replace the elements where ``mask`` is True by ``value``."""
    m = mask._data if isinstance(mask, Tensor) else _on_device_of(input, mask)
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
        if value._data.size != 1:
            raise ValueError("masked_fill: value must be a number or a 0-d tensor")
        value = value.item()
    return MaskedFill.apply(input, m, value)


class Where(Function):
    onnx_op = "Where"

    def forward(self, cond, a, b):
        self.save_for_backward(_own(self, cond))  # the condition arrives as the caller's array
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return get_array_module(cond).where(cond, a, b)

    def backward(self, g):
        (cond,) = self.saved_tensors
        sa, sb = self.shapes
        _, na, nb = self.needs_input_grad
        xp = self.xp
        return (None, sum_to(xp.where(cond, g, 0), sa) if na else None,
                sum_to(xp.where(cond, 0, g), sb) if nb else None)


@op()
def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (either may be a number).
    With only a condition, the indices of its True elements (as ``nonzero(as_tuple=True)``)."""
    c = (condition._data if isinstance(condition, Tensor) else
         _on_device_of(input if isinstance(input, Tensor) else other, condition))
    if input is None and other is None:
        return tuple(_make(i) for i in c.nonzero())
    if c.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor, got {c.dtype.name}")
    input, other = promote(as_operand(input), as_operand(other))
    # A Python number takes the other side's dtype (or the default float dtype), as in
    # PyTorch; left to NumPy it would make the result float64.
    xp = get_array_module(c)
    if not isinstance(other, Tensor):
        other = xp.asarray(other, dtype=_number_dtype(input, other))
    if not isinstance(input, Tensor):
        input = xp.asarray(input, dtype=_number_dtype(other, input))
    try:
        return Where.apply(c, input, other)
    except ValueError:
        sa = np.shape(input._data if isinstance(input, Tensor) else input)
        sb = np.shape(other._data if isinstance(other, Tensor) else other)
        raise broadcast_error("where", sa, sb) from None


@op(export=False, methods=("where",))
def where_method(input, condition, other):
    """``x.where(condition, y)``: ``x`` where ``condition`` holds, else ``y``."""
    return where(condition, input, other)


def _number_dtype(partner, number):
    if isinstance(partner, Tensor):
        return partner._data.dtype
    if hasattr(partner, "dtype"):  # a number already turned into an array
        return partner.dtype
    return get_default_dtype() if isinstance(number, float) or isinstance(partner, float) else (
        np.result_type(number, partner))


@op(methods=("nonzero",))
def nonzero(input, as_tuple=False):
    idx = input._data.nonzero()
    if as_tuple:
        return tuple(_make(i) for i in idx)
    xp = get_array_module(input._data)
    return _make(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), dtype=np.int64))


@op()
def one_hot(tensor, num_classes=-1):
    """Class indices to one-hot rows (int64), as ``torch.nn.functional.one_hot``."""
    idx = tensor._data
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


SPECS = [
    OpSpec("masked_select", lambda a: masked_select(a, Tensor(np.array([True, False, True]))),
           lambda a: a[:, [0, 2]].reshape(-1), [((2, 3),)],
           lambda a: a.masked_select(TORCH.tensor([True, False, True]))),
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
