"""A plan: the recorded ops of one call, replayed on raw arrays.

A replay runs each op's ``forward`` directly on arrays (no ``Tensor`` wrapping, no
``Module.__call__``, no hooks, no graph), reading the parameters and buffers afresh from
their modules at every call, so an optimizer step, ``load_state_dict`` or a replaced
parameter is seen. Ops whose results the output does not depend on are skipped (an
LSTM's final states when only its outputs are used), and each intermediate is dropped
after its last reader. The values flow through one list (``env``) indexed by the slots of the
recording; constants are placed in it once.

>>> import axonic
>>> from axonic import nn
>>> from axonic.compile.trace import record
>>> m = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
>>> x = axonic.randn(4, 3)
>>> with axonic.no_grad():
...     eager, rec = record(lambda: m(x), [x], m)
...     again = Plan(rec, m).run([x])
>>> bool((again.numpy() == eager.numpy()).all())
True
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import _make
from axonic.compile.inplace import Assign, InplaceUfunc
from axonic.compile.trace import CONST, INPUT, LIVE, STEP, STORE

_new = object.__new__
_ndarray, _generic = np.ndarray, np.generic
# what ``run`` returns instead of an output
EAGER = object()  # this call needs autograd: run it eagerly
STALE = object()  # the model's structure changed since the recording: record again


class Plan:
    """The replayable form of a ``Recording`` of a call on ``model`` (or None)."""

    def __init__(self, rec, model=None):
        self.n_inputs = sum(1 for kind, _ in rec.slots if kind == INPUT)
        self.base: list = [None] * len(rec.slots)
        self.stores, self.live, self.step_slot = [], [], {}
        for k, (kind, what) in enumerate(rec.slots):
            if kind == STORE:
                self.stores.append((k, what[0], what[1]))
            elif kind == LIVE:
                self.live.append((k, what))
            elif kind == CONST:
                self.base[k] = what
            elif kind == STEP:
                self.step_slot[what] = k
        self.tensors = rec.slots  # what an output slot returns as a tensor
        self._reads: list = []  # the slots each step reads
        steps = [self._step(i, *s) for i, s in enumerate(rec.steps)]
        self.output = rec.output
        outs = [self.step_slot[i] for i in range(len(steps))]
        kept = set(_slots_of(self.output))
        live = _needed(self._reads, outs, [s[0] for s in rec.steps], kept, self.base)
        steps, reads, outs = ([x[i] for i in live] for x in (steps, self._reads, outs))
        free = _last_uses(reads, outs, kept, self.base)
        self.steps = [step + (f,) for step, f in zip(steps, free)]
        # an output sharing memory with a constant is copied: eager makes it anew each call
        self.consts = [a for a in self.base if isinstance(a, np.ndarray)]
        edges = _edges(model)
        self.owners = [owner for owner, _, _ in edges]
        self.names = [name for _, name, _ in edges]
        self.children = tuple(child for _, _, child in edges)
        # a hook registered after the recording: record again (and run eagerly then)
        self.hooks = [m.__dict__[kind] for m in _modules(model) for kind in HOOKS
                      if kind in m.__dict__]

    def _step(self, i, cls, args, opts):
        """``(class, getter of the arguments from env, fixed options, (name, slot) of array
        options, out slot, needs_input_grad, whether an argument is a pack)``; constant
        arguments get slots of their own."""
        ix = tuple(self._slot(a) for a in args)
        fixed, dynamic = {}, []
        for name, ref in opts.items():
            if ref[0] == "const":
                fixed[name] = ref[1]
            else:
                dynamic.append((name, self._slot(ref)))
        self._reads.append(list(ix) + [k for _, k in dynamic])
        packed = any(isinstance(self.base[k], _Pack) for k in ix)
        get = itemgetter(*ix) if len(ix) > 1 else _one(ix[0]) if ix else _none
        return cls, get, fixed, tuple(dynamic), self.step_slot[i], [False] * len(ix), packed

    def _slot(self, ref) -> int:
        if ref[0] == "slot":
            return ref[1]
        if ref[0] == "const":
            self.base.append(ref[1])
        else:  # a tuple or list of values: built from its slots at each call
            self.base.append(_Pack(ref[0], [self._slot(r) for r in ref[1]]))
        return len(self.base) - 1

    def run(self, inputs):
        """The output for ``inputs`` (tensors, in the order of the recording), or ``EAGER``
        when autograd must see this call, or ``STALE`` when the model changed."""
        if tuple(map(dict.get, self.owners, self.names)) != self.children or any(self.hooks):
            return STALE
        env = self.base.copy()
        grad = STATE.enabled
        for i, t in enumerate(inputs):
            if grad and t._rg:
                return EAGER
            env[i] = t._data
        for k, store, name in self.stores:
            t = store.get(name)
            if t is None:
                return STALE
            if grad and t._rg:
                return EAGER
            env[k] = t._data
        for k, t in self.live:
            if grad and t._rg:
                return EAGER
            env[k] = t._data
        for cls, get, fixed, dynamic, out, needs, packed, free in self.steps:
            fn = _new(cls)
            fn.needs_input_grad = needs
            args = get(env)
            if packed:
                args = [a.build(env) if a.__class__ is _Pack else a for a in args]
            fn.inputs = args
            if dynamic:
                fixed = dict(fixed)
                for name, k in dynamic:
                    v = env[k]
                    fixed[name] = v.build(env) if v.__class__ is _Pack else v
            r = fn.forward(*args, **fixed)
            if r.__class__ is not _ndarray and isinstance(r, _generic):
                r = np.asarray(r)  # as Function.apply does with NumPy's 0-d scalars
            env[out] = r
            for k in free:  # its last reader ran: let NumPy reuse the memory, as eager does
                env[k] = None
        return self._output(self.output, env, inputs)

    def _output(self, ref, env, inputs):
        tag, what = ref
        if tag == "slot":
            kind, where = self.tensors[what]
            if kind == INPUT:
                return inputs[where]
            if kind == LIVE:
                return where
            if kind == STORE:
                return where[0][where[1]]
            a = env[what]
            if kind == CONST or any(np.may_share_memory(a, c) for c in self.consts):
                a = a.copy(order="K")
            return _make(a)
        if tag == "const":
            return what
        if tag == "dict":
            return {k: self._output(v, env, inputs) for k, v in what}
        if tag == "namedtuple":
            cls, what = what
            return cls(*[self._output(v, env, inputs) for v in what])
        items = [self._output(v, env, inputs) for v in what]
        return tuple(items) if tag == "tuple" else items


def _one(k):
    """A getter of the 1-tuple ``(env[k],)`` (``itemgetter`` of one index gives the item)."""
    get = itemgetter(k)
    return lambda env: (get(env),)


def _none(env):
    return ()


class _Pack:
    """A tuple or list argument whose items come from slots."""

    def __init__(self, kind, slots):
        self.kind, self.slots = kind, slots

    def build(self, env):
        items = [env[k].build(env) if env[k].__class__ is _Pack else env[k]
                 for k in self.slots]
        return tuple(items) if self.kind == "tuple" else items


def _slots_of(ref):
    """The slots an output structure refers to."""
    tag, what = ref
    if tag == "slot":
        yield what
    elif tag == "dict":
        for _, v in what:
            yield from _slots_of(v)
    elif tag == "namedtuple":
        for v in what[1]:
            yield from _slots_of(v)
    elif tag != "const":
        for v in what:
            yield from _slots_of(v)


def _expand(k, base) -> list:
    """Slot ``k`` and, for a pack, the slots of its items."""
    v = base[k]
    return [k] + [j for i in v.slots for j in _expand(i, base)] if v.__class__ is _Pack else [k]


def _needed(reads, outs, classes, kept, base) -> list:
    """The indices of the steps the output depends on (and every in-place write, which
    changes an array that something may read): the others are dead code, skipped."""
    needed, steps = set(kept), []
    for i in reversed(range(len(outs))):
        if outs[i] in needed or classes[i] in (InplaceUfunc, Assign):
            steps.append(i)
            needed.update(j for k in reads[i] for j in _expand(k, base))
    return steps[::-1]


def _last_uses(reads, outs, kept, base) -> list:
    """For each step, the step results it was the last to read (or its own, if nothing
    reads it), except the output's."""
    last = {}
    for i, (ks, out) in enumerate(zip(reads, outs)):
        last.setdefault(out, i)
        for k in ks:
            for j in _expand(k, base):
                last[j] = i
    free = [[] for _ in outs]
    results = set(outs)
    for k, i in last.items():
        if k in results and k not in kept:
            free[i].append(k)
    return [tuple(f) for f in free]


# a module's hook dicts: a replay runs none of them
HOOKS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


def _modules(model) -> list:
    return list(model.modules()) if hasattr(model, "modules") else []


def _edges(model) -> list:
    """(children dict, name, child) of every module of ``model``: a replaced submodule
    makes the plan stale."""
    if model is None or not hasattr(model, "_modules"):
        return []
    out, todo, seen = [], [model], set()
    while todo:
        m = todo.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        for name, child in m._modules.items():
            out.append((m._modules, name, child))
            if child is not None:
                todo.append(child)
    return out
