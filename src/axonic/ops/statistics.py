"""Statistics over dims: ``var`` and ``std`` (Bessel's correction by default, as PyTorch),
``var_mean`` and ``std_mean``; composed of ``mean`` and ``sum``, so they need no backward of
their own and are differentiable to any order.
"""

from __future__ import annotations

import builtins

import numpy as np

from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import dim_arg, norm_dim
from axonic.ops.reductions import _float, mean, sum


@op(methods=("var",))
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Variance with Bessel's correction by default (``correction=1``), as PyTorch.

    >>> import axonic
    >>> axonic.tensor([1.0, 2.0, 3.0]).var(), axonic.tensor([1.0, 2.0, 3.0]).var(correction=0)
    (tensor(1.), tensor(0.6667))
    """
    keepdim = keepdims if keepdims is not None else keepdim
    dim = dim_arg(dim, axis, "var")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = norm_dim(dim, input.ndim, "var")
    n = input._data.size if axes is None else int(np.prod([input.shape[a] for a in axes]))
    x = _float(input)
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim=keepdim) / builtins.max(n - correction, 0)


@op(methods=("std",))
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    return var(input, dim, unbiased, keepdim, correction=correction, axis=axis,
               keepdims=keepdims).sqrt()


@op()
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one call."""
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(_float(input), dim, keepdim))


@op()
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(_float(input), dim, keepdim))


def _np_var(a, axis=None, ddof=1, keepdims=False):
    return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


SPECS = [
    OpSpec("var_mean", lambda a: var_mean(a, 1)[0] + var_mean(a, 1)[1],
           lambda a: a.var(1, ddof=1) + a.mean(1), [((3, 4),)],
           lambda a: TORCH.var_mean(a, 1)[0] + TORCH.var_mean(a, 1)[1]),
    OpSpec("var", var, lambda a: np.var(a, ddof=1), [((3, 4),)], lambda a: a.var()),
    OpSpec("var_dim_biased", lambda a: var(a, 1, unbiased=False), lambda a: np.var(a, 1),
           [((3, 4),)], lambda a: a.var(1, unbiased=False)),
    OpSpec("std", lambda a: std(a, 0), lambda a: np.std(a, 0, ddof=1), [((5, 3),)],
           lambda a: a.std(0)),
]
