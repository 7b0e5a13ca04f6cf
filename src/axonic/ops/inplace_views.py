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

from axonic.autograd.function import INPLACE_CLOCK, Function
from axonic.autograd.tensor import Tensor, _make
from axonic.autograd.views import Region, ViewOf
from axonic.backend import get_array_module


def differentiable_base(t: Tensor):
    """The farthest tensor up ``t``'s chain of views whose memory ``t`` writes into, or
    None when ``t`` is not such a view. ``detach()`` shares memory but not the graph, and
    a reshape that had to copy owns its memory: the chain stops there."""
    root, cur = None, t
    xp = get_array_module(t._data)
    while cur._base is not None:
        base = cur._base
        if cur._data is base._data and cur.grad_fn is None:  # detach(): versions only
            break
        if not xp.may_share_memory(t._data, base._data):
            break
        root = cur = base
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
        maker = getattr(cur.grad_fn, "multi_output_view", None)
        if maker is not None:
            raise RuntimeError(
                f"Output of {maker} is a view and is being modified inplace. This view is "
                "the output of a function that returns multiple views. Such functions do not "
                "allow the output views to be modified inplace. You should replace the "
                "inplace operation by an out-of-place one, or clone() the output first"
            )
        if cur.grad_fn is None and cur._base._rg:
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad "
                "mode enabled: make the view and change it both inside or both outside "
                "no_grad(), or clone() the view first"
            )
        cur = cur._base


def record_on_view(t: Tensor, root: Tensor, op: str, compute) -> Tensor:
    """Change view ``t`` of ``root`` in place to ``compute(old part)``, recorded."""
    from axonic.ops.inplace_graph import check_result, keep_old_values

    INPLACE_CLOCK[0] += 1
    region = Region(root._data, t._data)
    old_root = _make(root._data, root._rg, root.grad_fn)
    part = ViewOf.apply(old_root, region=region, view=t._data)
    r = compute(part)
    keep_old_values(r, part)
    check_result(t, op, r)
    put = CopySlices.apply(old_root, r, region=region, view=t._data).grad_fn
    fn = r.grad_fn
    if getattr(fn, "out_version", None) is not None:
        # the kept output is the view's memory now; changing it again fails at backward
        if r.dtype == t.dtype:
            _rebind(fn, r._data, t._data)
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
    prev = _make(view._data, view._rg, view.grad_fn)
    fn = ViewOf.apply(root, region=Region(root._data, view._data), view=view._data).grad_fn
    fn._prev = prev
    view.grad_fn, view._rg = fn, True


class CopySlices(Function):
    """The base with one view's part replaced by the in-place op's result."""

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
