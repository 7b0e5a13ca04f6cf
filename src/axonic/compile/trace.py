"""Recording one eager call into the steps of a plan.

While ``record`` runs the model, ``Function.apply`` is wrapped (in the recording thread
only) so that every op that runs is written down: its class, its keyword options and,
for each argument, where the value comes from: an input of the call, the result of an
earlier op, a parameter or buffer of the model (read live at each replay), another
tensor (read live), or a constant. Everything the plan cannot represent is reported as
``Unsupported`` with the reason: random numbers drawn, an in-place change of an input,
a result or a buffer, a value read back into Python (``.item()``, ``bool(t)``,
``.numpy()``), or output that is not made of tensors.

>>> import axonic
>>> from axonic import nn
>>> m = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
>>> x = axonic.randn(4, 3)
>>> with axonic.no_grad():
...     out, rec = record(lambda: m(x), [x], m)
>>> [step[0].__name__ for step in rec.steps]
['Linear', 'Relu']
"""

from __future__ import annotations

import threading

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor
from axonic.backend.random import default_generator
from axonic.compile.inplace import patches
from axonic.compile.nograd import patches as nograd_patches

# slot kinds of a recording: where an argument's value comes from
INPUT, STEP, STORE, LIVE, CONST = "input", "step", "store", "live", "const"
# Tensor methods that hand a value back to Python: the plan could not follow it
_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
          "__array__")


# One recording at a time (it swaps ``Function.apply``); while one runs, compiled calls
# inside it run eagerly so that their ops are recorded too.
_LOCK = threading.RLock()
RECORDING = [False]


class Unsupported(RuntimeError):
    """What a plan cannot represent, with the reason as its message."""


class Recording:
    """The steps of one call: ``(Function class, argument slots, options)`` each, where an
    option that is a tensor or array is a slot too; ``slots`` says what each slot is."""

    def __init__(self, n_inputs: int):
        self.slots = [(INPUT, i) for i in range(n_inputs)]
        self.steps: list = []
        self.output = None  # the output's structure, its tensors replaced by slots
        self.reads: list = []  # the Tensor methods that read a value back into Python
        self.unsupported = None  # why a plan cannot represent the call, or None
        self._results: list = []  # (tensor, version at creation, step) of every op's result
        self.expected: dict = {}  # id(version counter) -> its value after a recorded write
        self.outside: list = []  # in-place writes into what is not a recorded result
        self._live: list = []  # (tensor, version, array) of live tensors at first use

    def slot_of(self, value, by_tensor: dict, by_array: dict, stores: dict):
        """The slot holding ``value``, adding one for a value seen the first time."""
        if isinstance(value, Tensor):
            k = by_tensor.get(id(value))
            if k is None:
                k = by_array.get(id(value._data))
            if k is None:  # a parameter or buffer (or a tensor sharing its array), or other
                store = stores.get(id(value)) or stores.get(id(value._data))
                k = self._add((STORE, store) if store else (LIVE, value))
                self._live.append((value, value._vc[0], value._data))
                by_tensor[id(value)] = k
                by_array[id(value._data)] = k
            return ("slot", k)
        if isinstance(value, np.ndarray):
            k = by_array.get(id(value))
            if k is None:
                store = stores.get(id(value))
                if store is not None:  # a buffer's array passed as an option (BatchNorm)
                    k = self._add((STORE, store + ("array",)))
                    by_array[id(value)] = k
                    return ("slot", k)
                return ("const", value)
            return ("slot", k)
        if isinstance(value, tuple | list) and any(isinstance(v, Tensor | np.ndarray)
                                                  for v in value):
            return (type(value).__name__, [self.slot_of(v, by_tensor, by_array, stores)
                                           for v in value])
        return ("const", value)

    def _add(self, kind) -> int:
        self.slots.append(kind)
        return len(self.slots) - 1


def stores_of(model) -> dict:
    """id of every parameter and buffer of ``model`` (and of its array) -> where it lives
    (``(owner's store dict, name)``), so a replay reads it afresh each call."""
    out: dict = {}
    if model is None or not hasattr(model, "named_modules"):
        return out
    for _, m in model.named_modules():
        for store in (m._parameters, m._buffers):
            for name, t in store.items():
                if t is not None:
                    out.setdefault(id(t), (store, name))
                    out.setdefault(id(t._data), (store, name))
    return out


def record(call, inputs: list, model=None):
    """Run ``call()`` eagerly, recording its ops; ``inputs`` are the tensors it is given.
    Returns ``(output, Recording)``; what a plan cannot represent is ``unsupported`` of
    the recording (the reason; None when there is none)."""
    with _LOCK:
        return _record(call, inputs, model)


def _record(call, inputs, model):
    rec = Recording(len(inputs))
    by_tensor = {id(t): i for i, t in enumerate(inputs)}
    by_array = {id(t._data): i for i, t in enumerate(inputs)}
    stores = stores_of(model)
    before = _snapshot(model, inputs)
    original = Function.__dict__["apply"]
    thread = threading.get_ident()

    def apply(cls, *a, **kw):
        run = original.__get__(None, cls)  # the classmethod, bound as ``cls.apply`` is
        if threading.get_ident() != thread:
            return run(*a, **kw)
        slots = [rec.slot_of(v, by_tensor, by_array, stores) for v in a]
        opts = {k: rec.slot_of(v, by_tensor, by_array, stores) for k, v in kw.items()}
        out = run(*a, **kw)
        add(cls, slots, opts, out)
        return out

    def add(cls, slots, opts, out):
        k = rec._add((STEP, len(rec.steps)))
        rec.steps.append((cls, slots, opts))
        rec._results.append((out, out._vc[0], len(rec.steps) - 1))
        by_tensor[id(out)] = k
        by_array[id(out._data)] = k

    def note_call(cls, args, options, out):
        """Record a call of an op without a gradient (``nograd``), after it ran, unless
        its result is already a recorded one."""
        if id(out) in by_tensor:
            return
        add(cls, [rec.slot_of(v, by_tensor, by_array, stores) for v in args],
            {n: ("const", v) for n, v in options.items()}, out)

    def outside_arrays():
        """The arrays a plan does not make afresh at each call."""
        return [i._data for i in inputs] + [a for _, _, a in rec._live]

    def note(cls, t, operand, options):
        """Record an in-place write into ``t``; returns what to do once it is done."""
        k = by_tensor.get(id(t), by_array.get(id(t._data)))
        if k is None or rec.slots[k][0] != STEP or any(
                np.may_share_memory(t._data, a) for a in outside_arrays()):
            rec.outside.append(cls.__name__)  # into an input, a weight, a made tensor
            return None
        ref = rec.slot_of(operand, by_tensor, by_array, stores)

        def done():
            rec.expected[id(t._vc)] = t._vc[0]
            rec._add((STEP, len(rec.steps)))
            rec.steps.append((cls, [("slot", k), ref], {n: ("const", v)
                                                        for n, v in options.items()}))
        return done

    swaps = [(Function, "apply", classmethod(apply))] + patches(note) + nograd_patches(note_call)
    swaps += [(Tensor, name, _reading(name, Tensor.__dict__[name], rec, thread))
              for name in _READS if name in Tensor.__dict__]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in swaps]
    for owner, name, value in swaps:
        setattr(owner, name, value)
    RECORDING[0] = True
    try:
        output = call()
    finally:
        RECORDING[0] = False
        for owner, name, value in saved:
            setattr(owner, name, value)
    try:
        _check(rec, before, _snapshot(model, inputs))
        rec.output = _structure(output, rec, by_tensor, by_array, stores)
    except Unsupported as e:
        rec.unsupported = str(e)
    return output, rec


def _reading(name, method, rec, thread):
    """``method`` noting that it ran: any value read into Python may steer the forward
    (an input's, a result's, or a weight's that a later call may change)."""
    def read(self, *a, **kw):
        if threading.get_ident() == thread:
            rec.reads.append(name)
        return method(self, *a, **kw)

    return read


def _snapshot(model, inputs) -> dict:
    """What must not change during a recorded call: the random state, and the version and
    array of every input, parameter and buffer."""
    tensors = [(f"input {i}", t) for i, t in enumerate(inputs)]
    if model is not None and hasattr(model, "named_parameters"):
        tensors += list(model.named_parameters()) + list(model.named_buffers())
    return {"rng": (repr(default_generator.rng.bit_generator.state),
                    repr(np.random.get_state()[1][:4]), np.random.get_state()[2]),
            "tensors": {name: (t, t._vc[0], id(t._data)) for name, t in tensors}}


def _check(rec: Recording, before: dict, after: dict) -> None:
    if rec.reads:
        raise Unsupported(f"the forward reads a tensor's value back into Python "
                          f"(Tensor.{rec.reads[0]}), so what it does may depend on the values")
    if before["rng"] != after["rng"]:
        raise Unsupported("the forward draws random numbers (dropout in training mode, "
                          "randn, ...), which a replay would repeat")
    for name, (t, version, array) in before["tensors"].items():
        _, v2, a2 = after["tensors"].get(name, (t, version, array))
        if (v2, a2) != (version, array):
            raise Unsupported(f"the forward changes {name} in place (version {version} -> {v2})"
                              " (BatchNorm in training mode updates its running statistics)")
    if rec.outside:
        raise Unsupported("an in-place op changes a tensor that is not the result of a "
                          f"recorded op ({rec.outside[0]})")
    for t, version, k in rec._results:
        if t._vc[0] != rec.expected.get(id(t._vc), version):
            cls = rec.steps[k][0].__name__
            raise Unsupported(f"an in-place op that a plan does not record changes the result "
                              f"of {cls} (op {k}) (clamp_, x[i] = v, ...)")
    for t, version, array in rec._live:
        if t._vc[0] != version or t._data is not array:
            raise Unsupported("an in-place op changes a tensor the forward also reads "
                              f"(shape {tuple(t.shape)})")


def _structure(value, rec, by_tensor, by_array, stores):
    """The output with each tensor replaced by its slot."""
    if isinstance(value, Tensor):
        return rec.slot_of(value, by_tensor, by_array, stores)
    if isinstance(value, tuple | list):
        items = [_structure(v, rec, by_tensor, by_array, stores) for v in value]
        if hasattr(value, "_fields"):  # a namedtuple (a model output class)
            return ("namedtuple", (type(value), items))
        if type(value) not in (tuple, list):
            raise Unsupported(f"the output is a {type(value).__name__}; a plan returns "
                              "tensors and tuples, lists, named tuples and dicts of them")
        return (type(value).__name__, items)
    if isinstance(value, dict):
        return ("dict", [(k, _structure(v, rec, by_tensor, by_array, stores))
                         for k, v in value.items()])
    return ("const", value)
