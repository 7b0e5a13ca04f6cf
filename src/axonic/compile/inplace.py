"""In-place changes of intermediate results in a plan: ``x += y``, ``ReLU(inplace=True)``,
``masked_fill_``, ``copy_``, ``fill_`` ...

Outside autograd, axonic's in-place ops end in one of two writes: ``ufunc_inplace`` (a
ufunc with ``out=``: ``add_``, ``x += y``, ...) or ``assign`` (``data[...] = value``: the
activations' ``inplace=True``, ``masked_fill_``, ``copy_``, ``fill_``, ...). While a call
is recorded both are wrapped, and a write into the result of a recorded op becomes a step
of the plan that does the same write into the same array of the replay. A write into
anything else (an input, a weight, a tensor made outside the ops) is not recorded, and
the version checks of the recording report it. Other in-place paths (``clamp_``,
``x[i] = v``) move the version counter without being recorded: reported as well.

>>> import numpy as np
>>> a = np.ones(3, np.float32)
>>> InplaceUfunc().forward(a, 2.0, "add") is a, a.tolist()
(True, [3.0, 3.0, 3.0])
"""

from __future__ import annotations

import threading

import numpy as np

from axonic.ops import inplace as _inplace
from axonic.ops import inplace_graph as _inplace_graph


class InplaceUfunc:
    """``ufunc(data, other, out=data)``, as ``ufunc_inplace`` does it."""

    def forward(self, data, other, ufunc):
        getattr(np, ufunc)(data, other, out=data, casting="same_kind")
        return data


class Assign:
    """``data[...] = value``, as ``assign`` does it."""

    def forward(self, data, value):
        if value is not data:
            data[...] = value
        return data


def patches(note) -> list:
    """``(module, name, wrapper)`` for each in-place write; ``note(cls, t, operand,
    options)`` records one (called before the write, in the recording thread only)."""
    thread = threading.get_ident()
    ufunc_inplace, assign = _inplace_graph.ufunc_inplace, _inplace_graph.assign

    def recorded_ufunc_inplace(t, op, ufunc, other):
        mine = threading.get_ident() == thread
        step = note(InplaceUfunc, t, other, {"ufunc": ufunc}) if mine else None
        out = ufunc_inplace(t, op, ufunc, other)
        if step is not None:
            step()
        return out

    def recorded_assign(t, op, value):
        mine = threading.get_ident() == thread
        step = note(Assign, t, value, {}) if mine else None
        out = assign(t, op, value)
        if step is not None:
            step()
        return out

    return [(_inplace, "ufunc_inplace", recorded_ufunc_inplace),
            (_inplace, "assign", recorded_assign),
            (_inplace_graph, "assign", recorded_assign)]
