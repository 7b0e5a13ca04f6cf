"""The second recording that makes a plan trustworthy.

A value the forward computes from its inputs or weights outside the recorded ops (an
``argmax``, a comparison turned into a mask, a Python branch on a value) would be baked
into the plan as a constant. So the call is recorded a second time with every input and
every floating parameter and buffer changed (the values shuffled; a constant array moved
by one): the two recordings must agree op by op, option by option and constant by
constant, and a tensor that is not the same object in both must hold the same values.

>>> import axonic
>>> from axonic import nn
>>> m = nn.Linear(3, 2)
>>> x = axonic.randn(4, 3)
>>> with axonic.no_grad():
...     _, first = record(lambda: m(x), [x], m)
...     second = record_changed(lambda ins: m(*ins), [x], m)
>>> compare(first, second) is None
True
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.compile.trace import CONST, LIVE, Unsupported, record


def changed(array: np.ndarray, rng) -> np.ndarray:
    """The same dtype and shape with other values: shuffled (integers stay valid indices);
    where shuffling changes nothing, floats move by one and integers become 0 (or 1)."""
    out = rng.permutation(array.reshape(-1)).reshape(array.shape)
    if array.size and np.array_equal(out, array):
        if array.dtype.kind == "f":
            out = out + np.ones((), array.dtype)
        elif array.dtype.kind in "iu":
            out = np.full_like(array, 1 if array.reshape(-1)[0] == 0 else 0)
    return out.astype(array.dtype, copy=False)


def record_changed(call, inputs: list, model=None, seed: int = 0, fixed=()):
    """Record ``call(changed inputs)`` with the floating parameters and buffers of
    ``model`` changed too (restored afterwards, the same arrays); bool inputs and the
    inputs at the positions ``fixed`` (whose values the signature holds) stay."""
    rng = np.random.default_rng(seed)
    new_inputs = [t if t._data.dtype == bool or i in fixed
                  else _make(changed(np.asarray(t._data), rng)) for i, t in enumerate(inputs)]
    swapped = []
    if model is not None and hasattr(model, "named_parameters"):
        tensors = [p for _, p in model.named_parameters()] + [b for _, b in model.named_buffers()]
        for t in tensors:
            if isinstance(t._data, np.ndarray) and t._data.dtype.kind == "f":
                swapped.append((t, t._data))
                t._data = changed(t._data, rng)
    try:
        _, rec = record(lambda: call(new_inputs), new_inputs, model)
    finally:
        for t, array in swapped:
            t._data = array
    return rec


def compare(first, second) -> str | None:
    """Why the two recordings differ (a plan would be wrong), or None. Constant-valued
    tensors that are new objects in each recording become constants of ``first``."""
    if second.unsupported:
        return second.unsupported
    if len(first.steps) != len(second.steps):
        return (f"the forward ran {len(first.steps)} ops, then {len(second.steps)} on other "
                "values: Python control flow depends on the values")
    for k, ((c1, a1, o1), (c2, a2, o2)) in enumerate(zip(first.steps, second.steps)):
        where = f"op {k} ({c1.__name__})"
        if c1 is not c2:
            return (f"{where} became {c2.__name__} on other values: Python control flow "
                    "depends on the values")
        for r1, r2 in zip(list(a1) + list(o1.values()), list(a2) + list(o2.values())):
            if not _same_ref(r1, r2, first, second):
                return (f"an argument of {where} is computed outside the recorded ops from the"
                        " values (argmax, a comparison, a mask, .item(), ...)")
        if list(o1) != list(o2):
            return f"{where} got other options on other values"
    if not _same_ref(first.output, second.output, first, second):
        return "the output is computed outside the recorded ops from the values"
    return None


def _same_ref(r1, r2, first, second) -> bool:
    if r1[0] != r2[0]:
        return False
    if r1[0] == "const":
        return same(r1[1], r2[1])
    if r1[0] == "slot":
        return _same_slot(r1[1], r2[1], first, second)
    if r1[0] == "namedtuple":
        return r1[1][0] is r2[1][0] and _same_ref(("tuple", r1[1][1]), ("tuple", r2[1][1]),
                                                 first, second)
    if r1[0] == "dict":
        return ([k for k, _ in r1[1]] == [k for k, _ in r2[1]]
                and all(_same_ref(a[1], b[1], first, second) for a, b in zip(r1[1], r2[1])))
    return len(r1[1]) == len(r2[1]) and all(
        _same_ref(a, b, first, second) for a, b in zip(r1[1], r2[1]))


def _same_slot(k1, k2, first, second) -> bool:
    if k1 != k2:
        return False
    (kind1, what1), (kind2, what2) = first.slots[k1], second.slots[k2]
    if kind1 == CONST and kind2 == LIVE:  # made constant by an earlier use
        return same(what1, what2._data)
    if kind1 != kind2:
        return False
    if kind1 == LIVE:
        if what1 is what2:  # a tensor from outside the call: read live
            return True
        if not same(what1._data, what2._data):
            return False
        # made by the forward, always the same: a constant, taken from the second recording
        # (the first one's output, which may be a view of it, went to the caller)
        first.slots[k1] = (CONST, what2._data)
        return True
    if kind1 == "store":
        return what1[0] is what2[0] and what1[1:] == what2[1:]
    return what1 == what2


def same(a, b) -> bool:
    """Equal values (arrays: dtype, shape and every element, NaN equal to NaN)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return isinstance(a, Tensor) and isinstance(b, Tensor) and same(a._data, b._data)
    if isinstance(a, np.ndarray | np.generic) or isinstance(b, np.ndarray | np.generic):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an object without a usable ==: only itself is the same
        return False


__all__ = ["Unsupported", "changed", "compare", "record_changed", "same"]
