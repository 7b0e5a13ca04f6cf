"""``Parameter``: a tensor that a ``Module`` registers as learnable."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules collect in ``parameters()``.

    >>> import axonic
    >>> p = Parameter(axonic.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = _make(np.empty(0, np.float32))
        arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        p = object.__new__(cls)
        p._data = arr
        p._rg = False
        p.grad = None
        p.grad_fn = None
        p._vc = data._vc if isinstance(data, Tensor) else [0]
        p._hooks = None
        p._retain = False
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (_make(self._data), self._rg))
