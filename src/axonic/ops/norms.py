"""``norm``: vector p-norms over dims (2 / "fro" as one op whose gradient at the zero
vector is 0, as PyTorch; 1, inf, -inf and other p composed of primitives).
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec, away_from
from axonic.ops._util import norm_dim
from axonic.ops.reductions import _distinct, _float, amax, amin, sum


class Norm2(Function):
    """The Euclidean norm; at the zero vector the gradient is 0 (a subgradient), as PyTorch."""

    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        out = get_array_module(x).sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        self.save_for_backward(x, out)
        return out

    def backward(self, g):
        x, out = self.saved_tensors
        xp = self.xp
        if not self.keepdim and self.axes is not None:
            out, g = xp.expand_dims(out, self.axes), xp.expand_dims(g, self.axes)
        safe = xp.where(out == 0, 1, out)
        return xp.where(out == 0, 0, g / safe) * x

    def to_onnx(self, g, x, axes, keepdim):
        return g.reduce("ReduceL2", x, axes, keepdim)


@op(methods=("norm",))
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (all elements by default): p = 2 or "fro", 1, inf,
    -inf or any other positive number.

    >>> import axonic
    >>> axonic.tensor([3.0, 4.0]).norm(), axonic.tensor([3.0, -4.0]).norm(1)
    (tensor(5.), tensor(7.))
    """
    from axonic.ops.elementwise import abs

    if dtype is not None:
        input = input.to(dtype)
    x = _float(input)
    axes = norm_dim(dim, x.ndim, "norm")
    if p in ("fro", 2):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(abs(x), () if axes is None else axes, keepdim)
    if p == float("-inf"):
        return amin(abs(x), () if axes is None else axes, keepdim)
    if not isinstance(p, int | float) or p <= 0:
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    if p == 1:
        return sum(abs(x), axes, keepdim)
    return sum(abs(x) ** p, axes, keepdim) ** (1.0 / p)


SPECS = [
    OpSpec("norm", norm, np.linalg.norm, [((3, 4),), ((5,),)], lambda a: a.norm()),
    OpSpec("norm_dim_keepdim", lambda a: norm(a, 2, 1, keepdim=True),
           lambda a: np.linalg.norm(a, axis=1, keepdims=True), [((3, 4),)],
           lambda a: a.norm(2, 1, keepdim=True)),
    OpSpec("norm_zero_row", lambda a: norm(a, dim=1), lambda a: np.linalg.norm(a, axis=1),
           [lambda r: (np.array([[0.0, 0.0], [3.0, 4.0]]),)], lambda a: a.norm(dim=1),
           gradcheck=False),
    OpSpec("norm_p1", lambda a: norm(a, 1, 0), lambda a: np.abs(a).sum(0),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),)], lambda a: a.norm(1, 0)),
    OpSpec("norm_p3", lambda a: norm(a, 3), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),)], lambda a: a.norm(3)),
    OpSpec("norm_inf", lambda a: norm(a, float("inf"), 1), lambda a: np.abs(a).max(1),
           [_distinct], lambda a: a.norm(float("inf"), 1)),
]
