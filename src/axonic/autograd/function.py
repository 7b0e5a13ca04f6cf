"""``Function``: one differentiable op, its forward and backward side by side.

A subclass implements ``forward(self, *arrays, **options) -> array`` on raw arrays
(NumPy or CuPy) and ``backward(self, grad) -> grad | tuple`` returning one gradient
per positional input (``None`` where there is none). ``self`` is the context: whatever
``forward`` stores on it is there for ``backward``. ``apply`` wraps the arrays in
Tensors and records the op only when a gradient will be needed.

>>> import numpy as np
>>> import axonic
>>> class Cube(Function):
...     def forward(self, x):
...         self.x = x
...         return x ** 3
...     def backward(self, g):
...         return 3 * self.x ** 2 * g
>>> x = axonic.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([12.])
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.anomaly import check_finite
from axonic.autograd.grad_mode import STATE
from axonic.autograd.tensor import Tensor, _make

_ndarray = np.ndarray
_generic = np.generic
_new = object.__new__


class Function:
    # Backward reads its inputs' values: changing an input in place after the forward
    # makes the recorded graph wrong, so the engine checks the inputs' versions.
    saves_inputs = True
    # Backward reads the output's value (exp, tanh, sigmoid, softmax ...): check it too.
    saves_output = False
    # The output is a view of input 0 and shares its version counter.
    is_view = False
    # Set per instance only when used: hooks on the output, retain_grad, autograd.grad capture.
    _hooks = None
    _retain = None
    _out_id = None

    @classmethod
    def apply(cls, *args, **kwargs):
        fn = _new(cls)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = fn.forward(*arrays, **kwargs)
        if out.__class__ is not _ndarray and isinstance(out, _generic):
            out = np.asarray(out)  # NumPy returns scalars from 0-d ops; keep arrays throughout
        state = STATE
        if state.anomaly:
            check_finite(out, cls.__name__, "forward output")
        if not state.enabled:  # no_grad: nothing to record
            return _make(out) if not cls.is_view else _untracked(cls, out, args)
        for a in args:
            if isinstance(a, Tensor) and a._rg:
                break
        else:
            return _untracked(cls, out, args)
        result = _make(out, True, fn)
        fn.inputs = args
        if cls.saves_inputs:
            fn.versions = [(a._vc, a._vc[0]) for a in args if isinstance(a, Tensor)]
        if cls.saves_output:
            fn.out_version = (result._vc, 0)
        if cls.is_view:
            result._vc = args[0]._vc
            result._base = args[0]
        return result

    def forward(self, *arrays, **options):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    def check_versions(self) -> None:
        """Raise if a tensor this op saved was changed in place since the forward."""
        name = type(self).__name__
        for vc, v in getattr(self, "versions", ()):
            if vc[0] != v:
                raise RuntimeError(
                    f"one of the tensors needed by '{name}' for backward was modified by an "
                    f"in-place operation: it is at version {vc[0]}, expected version {v}. "
                    "Use an out-of-place op (x = x + 1 instead of x += 1) or clone() the "
                    "tensor before changing it."
                )
        ov = getattr(self, "out_version", None)
        if ov is not None and ov[0][0] != ov[1]:
            raise RuntimeError(
                f"the output of '{name}' is needed for backward but was modified by an "
                f"in-place operation (now at version {ov[0][0]}, expected {ov[1]}); "
                "clone() it before changing it in place."
            )

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _untracked(cls, out, args):
    """The result of an op that is not recorded; a view still shares its base's versions,
    so changing it in place is seen by every op that saved the base."""
    result = _make(out)
    if cls.is_view and isinstance(args[0], Tensor):
        result._vc = args[0]._vc
        result._base = args[0]
    return result


def sum_to(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    The single place where gradients of broadcast inputs are reduced.
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
