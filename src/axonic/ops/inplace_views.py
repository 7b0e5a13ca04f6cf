"""An in-place op on a view rewrites its base's history too (PyTorch's CopySlices).

``y[0].mul_(2)`` changes memory that ``y`` owns, so gradients through ``y`` must see the
change. The op runs on the view's part of the base's old history; ``CopySlices`` puts the
result back into the base (the base's new ``grad_fn``); the view, and every view between
it and the base, is then read again from the new base (``ViewOf``, PyTorch's
AsStridedBackward). Where a view sits in its base is found from the arrays' memory
layout, so any view that shares memory with its base (basic indexing, reshape, view,
transpose, permute, squeeze, ...) is supported.

>>> import axonic
>>> x = axonic.tensor([1.0, 2.0], requires_grad=True)
>>> y = x * 1
>>> y[0].mul_(3)
tensor(3., grad_fn=<ViewOfBackward>)
>>> y.sum().backward()
>>> x.grad
tensor([3., 1.])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import INPLACE_CLOCK, Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module


def _address(a) -> int:
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def differentiable_base(t: Tensor):
    """The tensor at the top of ``t``'s chain of views whose memory ``t`` writes into, or
    None when ``t`` is not such a view (``detach()`` shares memory but not the graph)."""
    root, cur = None, t
    while cur._base is not None:
        base = cur._base
        if cur.data is base.data and cur.grad_fn is None:  # detach(): versions only
            break
        root = cur = base
    if root is None:
        return None
    xp = get_array_module(t.data)
    if not xp.may_share_memory(t.data, root.data):  # a reshape that had to copy
        return None
    return root


def check_view(t: Tensor, root: Tensor) -> None:
    """PyTorch's refusals for in-place ops on views."""
    if root._rg and root.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation; change it under `with axonic.no_grad():` or work on a clone()"
        )
    cur = t
    while cur is not root:
        if cur.grad_fn is None and cur._base._rg:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad "
                "mode enabled: make the view and change it both inside or both outside "
                "no_grad(), or clone() the view first"
            )
        cur = cur._base


def record_on_view(t: Tensor, root: Tensor, op: str, compute) -> Tensor:
    """Change view ``t`` of ``root`` in place to ``compute(old part)``, recorded."""
    from axonic.ops.inplace import _check_result, _keep_old_values

    INPLACE_CLOCK[0] += 1
    region = Region(root.data, t.data)
    old_root = _make(root.data, root._rg, root.grad_fn)
    part = ViewOf.apply(old_root, region=region, view=t.data)
    r = compute(part)
    _keep_old_values(r, part)
    _check_result(t, op, r)
    put = CopySlices.apply(old_root, r, region=region, view=t.data).grad_fn
    fn = r.grad_fn
    if getattr(fn, "out_version", None) is not None:
        # the kept output is the view's memory now; changing it again fails at backward
        if r.dtype == t.dtype:
            _rebind(fn, r.data, t.data)
        fn.out_version = (t._vc, t._vc[0] + 1)
    put._prev = old_root
    root.grad_fn, root._rg = put, True
    cur = t
    while cur is not root:  # each view is read again from the changed base
        _read_again(cur, root)
        cur = cur._base
    t._vc[0] += 1
    return t


def _rebind(fn, old, new) -> None:
    d = fn.__dict__
    for k, v in list(d.items()):
        if v is old:
            d[k] = new
        elif k == "_saved" and v is not None:
            d[k] = tuple(new if a is old else a for a in v)


def _read_again(view: Tensor, root: Tensor) -> None:
    prev = _make(view.data, view._rg, view.grad_fn)
    fn = ViewOf.apply(root, region=Region(root.data, view.data), view=view.data).grad_fn
    fn._prev = prev
    view.grad_fn, view._rg = fn, True


class Region:
    """Where a view's elements sit in its base, as positions in the base's C order, so the
    same part of any base-shaped (gradient) array can be read and written."""

    def __init__(self, base, view):
        self.base_shape, self.shape = base.shape, view.shape
        size = base.itemsize
        if base.flags.c_contiguous:
            self.offset = (_address(view) - _address(base)) // size
            self.strides = tuple(s // size for s in view.strides)
            self.positions = None
        else:  # rare: find each view element's address among the base's
            b = _addresses(base.shape, base.strides, 0).reshape(-1)
            v = _addresses(view.shape, view.strides, _address(view) - _address(base))
            order = np.argsort(b, kind="stable")
            found = order[np.searchsorted(b[order], v.reshape(-1))]
            self.positions = get_array_module(base).asarray(found.reshape(view.shape))

    def take(self, a):
        """This region of base-shaped ``a`` (a view of it when ``a`` is C-contiguous)."""
        xp = get_array_module(a)
        flat = xp.ascontiguousarray(a).reshape(-1)
        if self.positions is not None:
            return flat[self.positions]
        strides = tuple(s * a.itemsize for s in self.strides)
        return xp.lib.stride_tricks.as_strided(flat[self.offset:], self.shape, strides)

    def put(self, a, value) -> None:
        """Write ``value`` into this region of C-contiguous, base-shaped ``a``."""
        if self.positions is not None:
            a.reshape(-1)[self.positions] = value
        else:
            self.take(a)[...] = value


def _addresses(shape, strides, start):
    out = np.full(shape, start, dtype=np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        out += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - k - 1))
    return out


class ViewOf(Function):
    """A view read from its base (after the base was changed through a view)."""

    saves_inputs = False
    double_backward = False  # backward writes into a new array

    def forward(self, base, region, view):
        self.region = region
        return view

    def backward(self, g):
        gb = self.xp.zeros(self.region.base_shape, dtype=g.dtype)
        self.region.put(gb, g)
        return gb


class CopySlices(Function):
    """The base with one view's part replaced by the in-place op's result."""

    saves_inputs = False
    double_backward = False  # backward writes into a new array

    def forward(self, base, value, region, view):
        self.region, self.value_shape = region, value.shape
        if value is not view:
            view[...] = value
        return base

    def backward(self, g):
        nb, nv = self.needs_input_grad
        g = self.xp.ascontiguousarray(g)
        gv = self.region.take(g).copy() if nv else None
        gb = None
        if nb:
            gb = g.copy()
            self.region.put(gb, 0)
        return gb, gv
