"""The object ``axonic.compile`` returns: one plan per call signature, eager otherwise.

A call's signature is the shape, dtype and array type of each tensor argument (and the
values of a bool one, and of an integer one from which the forward derives values
outside the ops: masks and a graph's edges are usually the same at every call, and what
a layer derives from them is then a constant of the plan), the other arguments' values,
the grad mode and the ``training`` flag of every module. The first
call with a signature runs eagerly while it is recorded, and is recorded again on
changed values (``verify``); the later calls replay the plan. What a plan cannot
represent runs eagerly for that signature, after one warning naming why
(``fullgraph=True`` raises ``Unsupported`` instead).
"""

from __future__ import annotations

import warnings
from operator import attrgetter

import numpy as np

from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor
from axonic.compile.plan import EAGER, HOOKS, STALE, Plan
from axonic.compile.trace import RECORDING, Unsupported, record
from axonic.compile.verify import compare, record_changed
from axonic.nn.module import Module

_training = attrgetter("training")
# PyTorch's ``torch._dynamo.config.cache_size_limit``: beyond it, new signatures run eagerly
CACHE_SIZE_LIMIT = 8


class _Eager:
    """The entry of a signature that runs eagerly, and why."""

    def __init__(self, reason: str):
        self.reason = reason


class Compiler:
    """Plans of ``fn`` (a function, or a module's ``__call__`` with ``model`` set)."""

    def __init__(self, fn, model=None, fullgraph: bool = False):
        self.fn, self.model, self.fullgraph = fn, model, fullgraph
        self.plans: dict = {}
        self.valued: set = set()  # positions of integer inputs whose values count
        self._modules = list(model.modules()) if isinstance(model, Module) else []

    def __call__(self, *args, **kwargs):
        if RECORDING[0]:  # inside another compiled call being recorded: record these ops too
            return self.fn(*args, **kwargs)
        try:
            key = self.signature(args, kwargs)
        except TypeError:  # nothing to key a plan on
            return self._eager("an argument is neither a tensor nor hashable, or holds "
                               "tensors in a tuple", args, kwargs)
        plan = self.plans.get(key)
        if plan is None:
            if len(self.plans) >= CACHE_SIZE_LIMIT:
                return self._fall_back(key, f"more than {CACHE_SIZE_LIMIT} signatures were "
                                       "recorded (shapes, dtypes, masks or flags keep changing)",
                                       _tensors(args, kwargs), lambda: self.fn(*args, **kwargs))
            return self._record(key, args, kwargs)
        if plan.__class__ is _Eager:
            return self.fn(*args, **kwargs)
        out = plan.run(_tensors(args, kwargs))
        if out is STALE:
            self.plans.clear()
            self._modules = list(self.model.modules())
            return self(*args, **kwargs)
        if out is EAGER:  # autograd must record this call (training): eager
            return self.fn(*args, **kwargs)
        return out

    def signature(self, args, kwargs) -> tuple:
        key = [STATE.enabled, *map(_training, self._modules)]
        n = 0  # the tensor's position among the inputs
        for v in (*args, *[kwargs[k] for k in sorted(kwargs)]) if kwargs else args:
            if isinstance(v, Tensor):
                a = v._data
                if a.dtype == bool or n in self.valued:  # a mask, edges: values count
                    key.append((a.__class__, a.shape, a.dtype, a.tobytes()))
                else:
                    key.append((a.__class__, a.shape, a.dtype))
                n += 1
            elif isinstance(v, Module):  # a module passed to a compiled function
                key.append((v, tuple([m.training for m in v.modules()])))
            elif isinstance(v, tuple) and any(isinstance(t, Tensor) for t in v):
                raise TypeError("tensors in a tuple")  # hashed by identity: no reuse
            else:
                hash(v)
                key.append((v.__class__, v))
        return (*key, *sorted(kwargs))

    def _record(self, key, args, kwargs):
        inputs = _tensors(args, kwargs)
        why = _refused(inputs) or _hooked(self.model)
        if why is not None:
            return self._fall_back(key, why, inputs, lambda: self.fn(*args, **kwargs))
        out, first = record(lambda: self.fn(*args, **kwargs), inputs, self.model)
        why = first.unsupported or self._verify(first, args, kwargs, inputs)
        if why is not None:
            return self._fall_back(key, why, inputs, lambda: out)
        self.plans[self.signature(args, kwargs)] = Plan(first, self.model)  # valued may grow
        return out

    def _verify(self, first, args, kwargs, inputs) -> str | None:
        """Why the second recording disagrees with ``first``, or None. An integer input
        from which the forward derives values outside the ops (a graph's edges, an
        attention mask) joins ``valued``: its values become part of the signature."""
        why = self._second(first, args, kwargs, inputs, self.valued)
        ints = {i for i, t in enumerate(inputs) if t._data.dtype.kind in "iu"} - self.valued
        if why is None or not ints:
            return why
        fixed = self.valued | ints
        if self._second(first, args, kwargs, inputs, fixed) is not None:
            return why
        for i in sorted(ints):  # keep only the ones the forward needs
            if self._second(first, args, kwargs, inputs, fixed - {i}) is None:
                fixed = fixed - {i}
        self.valued = fixed
        return None

    def _second(self, first, args, kwargs, inputs, fixed) -> str | None:
        try:
            second = record_changed(lambda ins: self._call_with(args, kwargs, ins), inputs,
                                    self.model, fixed=fixed)
        except Exception as e:  # the changed values are not ones the model accepts
            return f"the second recording, on changed values, raised {type(e).__name__}: {e}"
        return compare(first, second)

    def _fall_back(self, key, why, inputs, call):
        if self.fullgraph:
            raise Unsupported(f"axonic.compile(fullgraph=True): {self._name()}: {why}")
        self.plans[key] = _Eager(why)
        warnings.warn(f"axonic.compile: {self._name()} runs eagerly for inputs "
                      f"{_describe(inputs)}: {why}", stacklevel=4)
        return call()

    def _call_with(self, args, kwargs, tensors):
        new_args, new_kwargs = _replace(args, kwargs, tensors)
        return self.fn(*new_args, **new_kwargs)

    def _eager(self, reason, args, kwargs):
        if self.fullgraph:
            raise Unsupported(f"axonic.compile(fullgraph=True): {self._name()}: {reason}")
        if not self.__dict__.get("_warned"):  # once: there is no signature to warn per
            self._warned = True
            warnings.warn(f"axonic.compile: {self._name()} runs eagerly: {reason}",
                          stacklevel=4)
        return self.fn(*args, **kwargs)

    def _name(self) -> str:
        target = self.model if self.model is not None else self.fn
        return getattr(target, "__qualname__", type(target).__name__)


def _refused(inputs) -> str | None:
    """Why a call is not even recorded, or None."""
    if STATE.anomaly:
        return "anomaly detection is on (it checks every op's output)"
    for t in inputs:
        if not isinstance(t._data, np.ndarray):
            return f"plans run on NumPy arrays; an input is a {type(t._data).__module__} array"
    return None


def _hooked(model) -> str | None:
    """Why the hooks of ``model``'s modules stop a plan (a replay would skip them)."""
    if not isinstance(model, Module):
        return None
    for name, m in model.named_modules():
        for kind in HOOKS:
            if m.__dict__.get(kind):
                return (f"module '{name or type(m).__name__}' has {kind.strip('_')}, which a "
                        "replay would not run")
    return None


def _tensors(args, kwargs) -> list:
    out = [a for a in args if isinstance(a, Tensor)]
    if kwargs:
        out += [kwargs[k] for k in sorted(kwargs) if isinstance(kwargs[k], Tensor)]
    return out


def _replace(args, kwargs, tensors):
    """``args`` and ``kwargs`` with their tensors replaced by ``tensors`` in order."""
    it = iter(tensors)
    new_args = tuple(next(it) if isinstance(a, Tensor) else a for a in args)
    new_kwargs = dict(kwargs)
    for k in sorted(kwargs):
        if isinstance(kwargs[k], Tensor):
            new_kwargs[k] = next(it)
    return new_args, new_kwargs


def _describe(inputs) -> str:
    return ", ".join(f"{tuple(t.shape)} {t._data.dtype}" for t in inputs) or "()"
