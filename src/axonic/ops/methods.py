"""Attach the ops to ``Tensor`` as methods and operators (``x.sum()``, ``a @ b``, ``x[i]``).

Kept in one place so that ``autograd`` stays free of ops and every method is the same
function that ``axonic.<name>`` exposes.
"""

from __future__ import annotations

from axonic.autograd.tensor import Tensor
from axonic.ops import (
    activations,
    convert,
    indexing,
    join,
    linalg,
    shape,
    softmax,
)
from axonic.ops import (
    arithmetic as ar,
)
from axonic.ops import (
    comparison as cmp,
)
from axonic.ops import (
    elementwise as unary,
)
from axonic.ops import (
    reductions as reduce,
)


def _reflected(fn):
    def r(self, other):
        return fn(other, self)

    return r


def _new(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        from axonic.ops.creation import full

        shape = size[0] if len(size) == 1 and isinstance(size[0], tuple | list) else size
        return full(tuple(shape), fill, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    return new


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return _new(fill_value)(self, size, dtype=dtype, device=device, requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from axonic.autograd.tensor import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _install():
    T = Tensor
    # operators
    T.__add__ = ar.add
    T.__radd__ = _reflected(ar.add)
    T.__sub__ = ar.sub
    T.__rsub__ = _reflected(ar.sub)
    T.__mul__ = ar.mul
    T.__rmul__ = _reflected(ar.mul)
    T.__truediv__ = ar.div
    T.__rtruediv__ = _reflected(ar.div)
    T.__floordiv__ = ar.floor_divide
    T.__rfloordiv__ = _reflected(ar.floor_divide)
    T.__mod__ = ar.remainder
    T.__rmod__ = _reflected(ar.remainder)
    T.__pow__ = ar.pow
    T.__rpow__ = _reflected(ar.pow)
    T.__matmul__ = linalg.matmul
    T.__rmatmul__ = _reflected(linalg.matmul)
    T.__neg__ = ar.neg
    T.__pos__ = lambda self: self
    T.__abs__ = unary.abs
    T.__eq__ = cmp.eq
    T.__ne__ = cmp.ne
    T.__lt__ = cmp.lt
    T.__le__ = cmp.le
    T.__gt__ = cmp.gt
    T.__ge__ = cmp.ge
    T.__and__ = cmp.bitwise_and
    T.__or__ = cmp.bitwise_or
    T.__xor__ = cmp.bitwise_xor
    T.__invert__ = cmp.bitwise_not
    T.__getitem__ = indexing.getitem
    T.__hash__ = object.__hash__

    methods = {
        # arithmetic
        "add": ar.add, "sub": ar.sub, "subtract": ar.sub, "mul": ar.mul, "multiply": ar.mul,
        "div": ar.div, "divide": ar.div, "true_divide": ar.div, "floor_divide": ar.floor_divide,
        "remainder": ar.remainder, "pow": ar.pow, "neg": ar.neg, "negative": ar.neg,
        "maximum": ar.maximum, "minimum": ar.minimum,
        # unary
        "abs": unary.abs, "exp": unary.exp, "log": unary.log, "log1p": unary.log1p,
        "sqrt": unary.sqrt, "rsqrt": unary.rsqrt, "sin": unary.sin, "cos": unary.cos,
        "tanh": activations.tanh, "sigmoid": activations.sigmoid, "relu": activations.relu,
        "clamp": unary.clamp, "clip": unary.clamp, "reciprocal": unary.reciprocal,
        "expm1": unary.expm1, "tan": unary.tan, "sinh": unary.sinh, "cosh": unary.cosh,
        "atan": unary.atan, "arctan": unary.atan, "log2": unary.log2, "log10": unary.log10,
        "nan_to_num": unary.nan_to_num, "atan2": ar.atan2, "lerp": ar.lerp,
        "logaddexp": ar.logaddexp, "clamp_min": ar.clamp_min, "clamp_max": ar.clamp_max,
        "square": unary.square, "sign": unary.sign, "floor": unary.floor, "ceil": unary.ceil,
        "round": unary.round, "trunc": unary.trunc, "isnan": unary.isnan, "isinf": unary.isinf,
        "isfinite": unary.isfinite,
        # reductions
        "sum": reduce.sum, "mean": reduce.mean, "var": reduce.var, "std": reduce.std,
        "max": reduce.max, "min": reduce.min, "amax": reduce.amax, "amin": reduce.amin,
        "prod": reduce.prod, "logsumexp": reduce.logsumexp, "argmax": reduce.argmax,
        "argmin": reduce.argmin, "all": reduce.all, "any": reduce.any,
        "cumsum": reduce.cumsum, "norm": reduce.norm, "count_nonzero": reduce.count_nonzero,
        "softmax": softmax.softmax, "log_softmax": softmax.log_softmax,
        # shape
        "reshape": shape.reshape, "view": shape.view, "flatten": shape.flatten,
        "unflatten": shape.unflatten, "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze,
        "permute": shape.permute, "transpose": shape.transpose, "swapaxes": shape.transpose,
        "t": shape.t, "expand": shape.expand, "expand_as": shape.expand_as,
        "broadcast_to": shape.broadcast_to, "contiguous": shape.contiguous,
        "tril": shape.tril, "triu": shape.triu, "flip": shape.flip, "repeat": shape.repeat,
        "roll": shape.roll, "movedim": shape.movedim, "moveaxis": shape.movedim,
        "tile": shape.tile, "diagonal": shape.diagonal, "trace": shape.trace,
        "view_as": lambda self, other: shape.reshape(self, other.shape),
        "reshape_as": lambda self, other: shape.reshape(self, other.shape),
        # join / split
        "split": join.split, "chunk": join.chunk, "unbind": join.unbind, "narrow": join.narrow,
        # indexing
        "gather": indexing.gather, "index_select": indexing.index_select,
        "masked_fill": indexing.masked_fill, "nonzero": indexing.nonzero,
        "masked_select": indexing.masked_select,
        "scatter": indexing.scatter, "scatter_add": indexing.scatter_add,
        "sort": indexing.sort, "argsort": indexing.argsort, "topk": indexing.topk,
        "where": lambda self, condition, other: indexing.where(condition, self, other),
        # linalg
        "matmul": linalg.matmul, "mm": linalg.mm, "bmm": linalg.bmm, "dot": linalg.dot,
        "outer": linalg.outer,
        # new tensors like this one
        "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0),
        "new_full": _new_full, "new_tensor": _new_tensor,
        # comparisons
        "eq": cmp.eq, "ne": cmp.ne, "lt": cmp.lt, "le": cmp.le, "gt": cmp.gt, "ge": cmp.ge,
        "logical_and": cmp.logical_and, "logical_or": cmp.logical_or,
        "logical_not": cmp.logical_not, "logical_xor": cmp.logical_xor,
        "equal": cmp.equal, "allclose": cmp.allclose, "isclose": cmp.isclose,
        # dtype / device
        "to": convert.to, "float": convert.float, "double": convert.double,
        "half": convert.half, "long": convert.long, "int": convert.int, "bool": convert.bool,
        "type_as": convert.type_as, "clone": convert.clone,
    }
    for name, fn in methods.items():
        setattr(T, name, fn)
    T.T = property(shape.T)
    T.mT = property(shape.mT)


_install()
