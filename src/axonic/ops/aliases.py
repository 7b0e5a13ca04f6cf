"""PyTorch's second names for ops axonic already has (``absolute`` is ``abs``, ``greater``
is ``gt``, ``swapaxes`` is ``transpose`` ...), and a few tensor queries PyTorch exports as
functions (``is_tensor``, ``numel``, ``broadcast_shapes`` ...).

An alias is the target's own function, so it behaves identically (and is differentiable
when the target is). Every other op file is imported first, so an alias never shadows a
name declared elsewhere and a missing target is skipped.

>>> import axonic
>>> axonic.absolute is axonic.abs, axonic.greater(axonic.tensor(2), 1).item()
(True, True)
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

import axonic.ops as _ops_package
from axonic.autograd.tensor import Tensor
from axonic.ops._registry import METHODS, OPS, method, op

# alias -> target, as PyTorch documents them ("Alias for torch.abs()", ...)
ALIASES = {
    "absolute": "abs", "arccos": "acos", "arcsin": "asin", "arctan": "atan",
    "arctan2": "atan2", "arccosh": "acosh", "arcsinh": "asinh", "arctanh": "atanh",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
    "not_equal": "ne", "multiply": "mul", "divide": "div", "true_divide": "div",
    "subtract": "sub", "negative": "neg", "swapdims": "transpose", "swapaxes": "transpose",
    "concat": "cat", "concatenate": "cat", "fix": "trunc", "ger": "outer", "clip": "clamp",
    "moveaxis": "movedim", "row_stack": "vstack", "arccos_": "acos_", "absolute_": "abs_",
    "negative_": "neg_", "clip_": "clamp_", "fix_": "trunc_", "multiply_": "mul_",
    "divide_": "div_", "true_divide_": "div_", "subtract_": "sub_",
    "greater_": "gt_", "less_": "lt_", "not_equal_": "ne_", "swapdims_": "transpose_",
    "swapaxes_": "transpose_",
}


def _load_other_op_files() -> None:
    for m in pkgutil.iter_modules(_ops_package.__path__):
        if not m.name.startswith("_") and m.name != __name__.rsplit(".", 1)[-1]:
            importlib.import_module(f"{_ops_package.__name__}.{m.name}")


def _declare_aliases() -> None:
    for alias, target in ALIASES.items():
        if target in OPS and alias not in OPS:
            OPS[alias] = OPS[target]
        if target in METHODS and alias not in METHODS:
            method(alias, METHODS[target])


_load_other_op_files()
_declare_aliases()


@op()
def is_tensor(obj) -> bool:
    """True for an axonic ``Tensor`` (or ``Parameter``)."""
    return isinstance(obj, Tensor)


@op()
def numel(input) -> int:
    """The number of elements of ``input``."""
    return int(input._data.size)


@op()
def is_floating_point(input) -> bool:
    return input._data.dtype.kind == "f" or input._data.dtype.name == "bfloat16"


@op()
def is_complex(input) -> bool:
    return input._data.dtype.kind == "c"


@op()
def is_nonzero(input) -> bool:
    return input.is_nonzero()


@op()
def is_same_size(input, other) -> bool:
    return tuple(input.shape) == tuple(other.shape)


@op(methods=("positive",))
def positive(input):
    """``input`` itself, as PyTorch's ``positive`` (``+x``) for numeric tensors."""
    if input._data.dtype == np.bool_:
        raise TypeError("positive: not supported for bool tensors")
    return input


@op()
def broadcast_shapes(*shapes) -> tuple:
    """The shape the given shapes broadcast to (NumPy's rules, which are PyTorch's)."""
    try:
        return np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes])
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {list(shapes)} can't be broadcast "
                         "together") from None


@op()
def broadcast_tensors(*tensors) -> tuple:
    """Each tensor expanded to the common broadcast shape (views; differentiable)."""
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t.expand(*shape) for t in tensors)
