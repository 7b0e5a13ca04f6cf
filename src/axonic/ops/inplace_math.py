"""The in-place forms PyTorch programs use that ``inplace.py`` does not declare: ``sqrt_``,
``pow_``, ``addcmul_``, ``addcdiv_``, ``lerp_``, ``abs_``, ``round_`` ...

Each is ``self.<op>(...)`` written into ``self`` through ``update_``, so outside the graph
the array changes in place and in the graph the change is recorded (hand-written optimizers
and EMA updates work under ``no_grad`` as in PyTorch). A name some other op file declares
is left to it.

>>> import axonic
>>> m = axonic.zeros(2)
>>> m.mul_(0.9).addcmul_(axonic.tensor([1.0, 2.0]), axonic.tensor([1.0, 2.0]), value=0.1)
tensor([0.1000, 0.4000])
"""

from __future__ import annotations

import importlib
import pkgutil

import axonic.ops as _ops_package
from axonic.autograd.tensor import Tensor
from axonic.ops._registry import METHODS, method
from axonic.ops.inplace_graph import update_

UNARY = ("abs", "sqrt", "rsqrt", "log", "log1p", "log2", "log10", "expm1", "floor", "ceil",
         "round", "trunc", "sign", "sin", "cos", "tan", "sinh", "cosh", "asin", "acos", "atan",
         "reciprocal", "square", "erf", "exp2", "sgn", "frac", "nan_to_num")
# same-shape results only: update_ writes the result into self's array
WITH_ARGS = ("pow", "lerp", "addcmul", "addcdiv", "fmod", "remainder", "scatter", "scatter_add",
             "index_fill", "masked_scatter",
             "tril", "triu", "clamp_min", "clamp_max", "atan2", "hypot", "xlogy", "copysign",
             "floor_divide", "logit", "index_add", "eq", "ne", "lt", "le", "gt", "ge",
             "logical_and", "logical_or", "logical_not", "logical_xor")


def _load_other_op_files() -> None:
    for m in pkgutil.iter_modules(_ops_package.__path__):
        if not m.name.startswith("_") and m.name != __name__.rsplit(".", 1)[-1]:
            importlib.import_module(f"{_ops_package.__name__}.{m.name}")


def _inplace(name: str):
    def inplace(self, *args, **kwargs):
        operands = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        return update_(self, f"{name}_", lambda old: getattr(old, name)(*args, **kwargs),
                       operands)

    inplace.__name__ = f"{name}_"
    inplace.__doc__ = f"``self.{name}(...)`` written into ``self`` (PyTorch's ``{name}_``)."
    return inplace


def _declare() -> None:
    for name in UNARY + WITH_ARGS:
        target = METHODS.get(name) or getattr(Tensor, name, None)
        if target is not None and f"{name}_" not in METHODS \
                and not hasattr(Tensor, f"{name}_"):
            method(f"{name}_", _inplace(name))


_load_other_op_files()
_declare()
