"""Views read again from their base: where a view sits in its base's memory (``Region``)
and the op that reads it from there (``ViewOf``, PyTorch's AsStridedBackward).

An in-place change through a view rewrites the base's history (``ops/inplace_views``); a
view made before such a change and used after it must take its gradient from the base's
new history, as PyTorch regenerates a view's ``grad_fn``. The engine asks ``stale_view``
at each edge whose op was recorded after the view (a later in-place clock).
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module


def _address(a) -> int:
    return a.ctypes.data if isinstance(a, np.ndarray) else a._data.ptr


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

    double_backward = False  # backward writes into a new array

    def forward(self, base, region, view):
        self.region = region
        return view

    def backward(self, g):
        gb = self.xp.zeros(self.region.base_shape, dtype=g.dtype)
        self.region.put(gb, g)
        return gb




def stale_view(fn, view, cache: dict):
    """The node through which ``fn``'s gradient for ``view`` must go when the memory the
    view reads was changed in place (through its base or another view) after the view was
    made and before ``fn`` took it; None when the view's own history is right."""
    key = (id(view), fn._epoch)
    if key not in cache:
        root = _changed_root(fn, view)
        node = None
        if root is not None:
            node = ViewOf.__new__(ViewOf)
            node.inputs, node.needs_input_grad = (root,), (True,)
            node.region = Region(root._data, view._data)
            node._epoch = fn._epoch  # the engine reads the root as ``fn`` saw it
        cache[key] = node
    return cache[key]


def _changed_root(fn, view):
    from axonic.autograd.engine import _as_seen_by

    xp = get_array_module(view._data)
    cur, changed = view, False
    while cur._base is not None and cur.grad_fn is not None:
        base = cur._base
        if not xp.may_share_memory(view._data, base._data):  # a reshape that copied
            break
        seen = _as_seen_by(fn, base).grad_fn
        if seen is not None and seen._epoch > cur.grad_fn._epoch:
            changed = True
        cur = base
    return cur if changed else None
