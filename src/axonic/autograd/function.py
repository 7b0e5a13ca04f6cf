"""``Function``: one differentiable op, its forward and backward side by side.

A subclass implements ``forward(self, *arrays, **options) -> array`` on raw arrays
(NumPy or CuPy) and ``backward(self, grad) -> grad | tuple`` returning one gradient
per positional input (``None`` where there is none). ``self`` is the context. What an
op needs from the engine it finds there, never re-derived:

- ``self.needs_input_grad``: one bool per positional input (PyTorch's name), known
  before ``forward`` runs, so work for an unneeded gradient is skipped;
- ``self.save_for_backward(*arrays)`` in forward and ``self.saved_tensors`` in backward:
  an input or the output saved this way is version-checked (changing it in place
  between forward and backward raises) and freed after backward;
- ``self.xp``: the array module of the inputs (numpy or cupy). Write backward with
  ``self.xp`` functions and operators only, and it is also its own second derivative:
  under ``create_graph=True`` the engine runs the same backward with ``xp`` standing for
  axonic's differentiable ops and ``saved_tensors`` giving the graph's tensors. An op
  whose backward cannot be written so (in-place writes into arrays, fused kernels) sets
  ``double_backward = False`` and ``create_graph`` through it raises, naming it.

>>> import axonic
>>> class Cube(Function):
...     def forward(self, x):
...         self.save_for_backward(x)
...         return x ** 3
...     def backward(self, g):
...         (x,) = self.saved_tensors
...         return 3 * x ** 2 * g
>>> x = axonic.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([12.])
>>> (g,) = axonic.autograd.grad(Cube.apply(x).sum(), [x], create_graph=True)
>>> axonic.autograd.grad(g.sum(), [x])[0]     # d2/dx2 x^3 = 6x
tensor([12.])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.anomaly import check_finite
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module

_ndarray = np.ndarray
_generic = np.generic
_new = object.__new__


class Function:
    # The output is a view of input 0 and shares its version counter (an op whose
    # output is a view only sometimes sets it per instance in forward).
    is_view = False
    # backward is written with ``self.xp`` and operators only, so it is differentiable.
    double_backward = True
    # Set per instance only when used: hooks on the output, retain_grad.
    _hooks = None
    _retain = None
    # Set by the engine while a create_graph backward runs this op.
    _graph_mode = False
    _saved = None
    # The in-place clock when this op was recorded (see ``INPLACE_CLOCK``).
    _epoch = 0
    # (version counter, version at forward) of each saved tensor, and of a saved output
    versions = ()
    out_version = None
    _out_at = None  # where the output is among the saved arrays

    @classmethod
    def apply(cls, *args, **kwargs):
        fn = _new(cls)
        fn.inputs = args  # also what ``xp`` looks at during forward
        enabled = STATE.enabled
        # Unrolled for one and two inputs (most ops): in CPython 3.11 each list
        # comprehension is a function call, a large share of the cost of a small op.
        n = len(args)
        if n == 1:
            a = args[0]
            if isinstance(a, Tensor):
                arrays = (a._data,)
                record = enabled and a._rg
            else:
                arrays, record = args, False
            needs = [record]
        elif n == 2:
            a, b = args
            if isinstance(a, Tensor):
                x, na = a._data, enabled and a._rg
            else:
                x, na = a, False
            if isinstance(b, Tensor):
                y, nb = b._data, enabled and b._rg
            else:
                y, nb = b, False
            arrays, needs, record = (x, y), [na, nb], na or nb
        else:
            arrays = [a._data if isinstance(a, Tensor) else a for a in args]
            needs = [isinstance(a, Tensor) and a._rg for a in args] if enabled else [False] * n
            record = True in needs
        fn.needs_input_grad = needs
        out = fn.forward(*arrays, **kwargs)
        if out.__class__ is not _ndarray and isinstance(out, _generic):
            scalar, out = out, np.asarray(out)  # NumPy returns scalars from 0-d ops
            if fn._saved is not None:  # a saved output stays this op's output
                fn._saved = tuple(out if a is scalar else a for a in fn._saved)
        if STATE.anomaly:
            check_finite(out, cls.__name__, "forward output")
        if not record:  # nothing refers to ``fn`` any more: what it saved goes with it
            result = _make(out)
            if fn.is_view and isinstance(args[0], Tensor):  # a view still shares versions
                result._vc = args[0]._vc
                result._base = args[0]
            return result
        result = _make(out, True, fn)
        clock = INPLACE_CLOCK[0]
        if clock:  # 0 (the class default) until the first recorded in-place op
            fn._epoch = clock
        saved = fn._saved
        if saved is not None:
            # every tensor input's version now; at backward only a changed input whose
            # array was saved is an error (``check_versions``)
            fn.versions = [(a._vc, a._vc[0]) for a in args if isinstance(a, Tensor)]
            i = 0
            for a in saved:
                if a is out:
                    fn.out_version = (result._vc, 0)
                    fn._out_at = i
                    break
                i += 1
        if fn.is_view:
            result._vc = args[0]._vc
            result._base = args[0]
        return result

    def forward(self, *arrays, **options):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    # --- what ops use -----------------------------------------------------------------
    def save_for_backward(self, *arrays) -> None:
        """Keep ``arrays`` (inputs, the output, or anything else) for backward."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """What forward saved: arrays, or under ``create_graph`` the graph's tensors
        (inputs as given, the output as this op's result, anything else as a constant)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"'{type(self).__name__}': the saved values are gone; they are freed after "
                "the first backward unless it is given retain_graph=True"
            )
        if not self._graph_mode:
            return saved
        out = []
        for i, a in enumerate(saved):
            if i == self._out_at:  # first: an in-place op may have written it into an input
                out.append(_make(a, True, self))  # this op's output, reconnected to the graph
                continue
            t = self._input_of(a)
            if t is not None:
                out.append(t)
            else:
                out.append(a if a is None or isinstance(a, int | float | bool) else _make(a))
        return tuple(out)

    @property
    def xp(self):
        """The array module for this op: numpy or cupy, or under ``create_graph`` the
        namespace of axonic's differentiable ops with the same function names."""
        if self._graph_mode:
            return _GRAPH_XP[0]
        for a in self.inputs or ():
            if isinstance(a, Tensor):
                d = a._data
                return np if d.__class__ is _ndarray else get_array_module(d)
        return np

    def _input_of(self, array):
        """The tensor input whose array ``array`` is (by identity), or None."""
        if array is None:
            return None
        for t in self.inputs:
            if isinstance(t, Tensor) and t._data is array:
                return t
        return None

    def _saved_input(self, vc) -> bool:
        """Whether the tensor input with version counter ``vc`` is needed by backward: the
        op saved its array."""
        for t in self.inputs:
            if isinstance(t, Tensor) and t._vc is vc:
                arr = t._data
                if any(a is arr for a in self._saved):
                    return True
        return False

    def check_versions(self) -> None:
        """Raise if a tensor this op saved was changed in place since the forward."""
        name = type(self).__name__
        for vc, v in self.versions:
            if vc[0] != v and self._saved_input(vc):
                raise RuntimeError(
                    f"one of the tensors needed by '{name}' for backward was modified by an "
                    f"in-place operation: it is at version {vc[0]}, expected version {v}. "
                    "Use an out-of-place op (x = x + 1 instead of x += 1) or clone() the "
                    "tensor before changing it."
                )
        ov = self.out_version
        if ov is not None and ov[0][0] != ov[1]:
            raise RuntimeError(
                f"the output of '{name}' is needed for backward but was modified by an "
                f"in-place operation (now at version {ov[0][0]}, expected {ov[1]}); "
                "clone() it before changing it in place."
            )

    def release(self) -> None:
        """Free what forward kept for backward (after a backward without retain_graph)."""
        hooks, retain = self._hooks, self._retain
        prev, epoch = self.__dict__.get("_prev"), self._epoch
        self.__dict__.clear()
        self.inputs = None
        if hooks:
            self._hooks = hooks
        if retain:
            self._retain = retain
        if prev is not None:  # an in-place op: the engine may still step back through it
            self._prev, self._epoch = prev, epoch

    def __repr__(self):
        return f"<{type(self).__name__}>"


# Moved by every recorded in-place op. An op recorded later than the op that consumed a
# tensor (larger ``_epoch``) and now its ``grad_fn`` is an in-place change made after the
# consumer took it; the engine steps back through its ``_prev`` (the history before).
INPLACE_CLOCK = [0]

# The differentiable namespace ``xp`` stands for under create_graph; ops/ registers it
# (autograd does not import ops).
_GRAPH_XP = [None]


def set_graph_namespace(namespace) -> None:
    _GRAPH_XP[0] = namespace


def sum_to(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    The single place where gradients of broadcast inputs are reduced; works on arrays
    and on tensors (under create_graph).
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad
