"""Element-wise ONNX ops: arithmetic, math functions, comparisons, logic, Cast, Clip.

Floating-point inputs run through axonic's differentiable ops; integer and boolean ones
(shape arithmetic, masks) in NumPy, where no gradient is needed."""

from __future__ import annotations

import numpy as np

import axonic
from axonic.onnx.ops import onnx_op
from axonic.onnx.ops._util import arr, const, is_float, onnx_dtype, tensor_of, to_value


def _both(diff, nump):
    """An op that runs ``diff`` on floating inputs and ``nump`` on NumPy arrays otherwise."""
    def run(inputs, attrs, ctx):
        if any(is_float(x) for x in inputs):
            return diff(*inputs)
        return const(nump(*[arr(x) for x in inputs]))
    return run


def _int_div(a, b):
    if a.dtype.kind in "ui":
        q = np.trunc(a / np.where(b == 0, 1, b))
        return q.astype(a.dtype)
    return a / b


def _pow(x, y):
    if is_float(x):
        y = y.to(x.dtype) if is_float(y) or hasattr(y, "_data") else y
        return x ** y
    return const(np.power(arr(x).astype(np.float64), arr(y)).astype(arr(x).dtype))


_BINARY = {
    "Add": (lambda a, b: a + b, np.add),
    "Sub": (lambda a, b: a - b, np.subtract),
    "Mul": (lambda a, b: a * b, np.multiply),
    "Div": (lambda a, b: a / b, _int_div),
}
for _name, (_d, _n) in _BINARY.items():
    onnx_op(_name)(_both(_d, _n))


@onnx_op("Pow")
def pow_(inputs, attrs, ctx):
    return _pow(*inputs)


@onnx_op("Mod")
def mod(inputs, attrs, ctx):
    a, b = inputs
    if attrs.get("fmod", 0):
        if is_float(a):
            return a - axonic.trunc(a / b) * b
        return const(np.fmod(arr(a), arr(b)))
    if is_float(a):
        return axonic.remainder(a, b)
    return const(np.mod(arr(a), arr(b)))


def _unary(diff, nump=None):
    def run(inputs, attrs, ctx):
        (x,) = inputs
        if is_float(x) and diff is not None:
            return diff(x)
        return const((nump or diff)(arr(x)), like=None)
    return run


def _np_only(fn):
    # ops axonic has no differentiable kernel for: computed in NumPy, no gradient
    return lambda inputs, attrs, ctx: const(fn(arr(inputs[0])).astype(arr(inputs[0]).dtype))


_UNARY = {
    "Neg": (axonic.neg, np.negative), "Abs": (axonic.abs, np.abs),
    "Sqrt": (axonic.sqrt, np.sqrt), "Exp": (axonic.exp, np.exp), "Log": (axonic.log, np.log),
    "Reciprocal": (axonic.reciprocal, np.reciprocal), "Floor": (axonic.floor, np.floor),
    "Ceil": (axonic.ceil, np.ceil), "Round": (axonic.round, np.round),
    "Sign": (axonic.sign, np.sign), "Erf": (axonic.erf, None),
    "Sin": (axonic.sin, np.sin), "Cos": (axonic.cos, np.cos), "Tan": (axonic.tan, np.tan),
    "Atan": (axonic.atan, np.arctan), "Sinh": (axonic.sinh, np.sinh),
    "Cosh": (axonic.cosh, np.cosh),
}
for _name, (_d, _n) in _UNARY.items():
    onnx_op(_name)(_unary(_d, _n))

for _name, _fn in {"Asin": np.arcsin, "Acos": np.arccos, "Asinh": np.arcsinh,
                   "Acosh": np.arccosh, "Atanh": np.arctanh}.items():
    onnx_op(_name)(_np_only(_fn))


@onnx_op("Identity")
def identity(inputs, attrs, ctx):
    return inputs[0]


def _variadic(diff, nump):
    def run(inputs, attrs, ctx):
        out = inputs[0]
        for x in inputs[1:]:
            out = diff(out, x) if is_float(out) else const(nump(arr(out), arr(x)))
        return out
    return run


onnx_op("Max")(_variadic(axonic.maximum, np.maximum))
onnx_op("Min")(_variadic(axonic.minimum, np.minimum))
onnx_op("Sum")(_variadic(lambda a, b: a + b, np.add))


@onnx_op("Mean")
def mean(inputs, attrs, ctx):
    total = _variadic(lambda a, b: a + b, np.add)(inputs, attrs, ctx)
    return total / len(inputs)


_COMPARE = {"Equal": np.equal, "Less": np.less, "Greater": np.greater,
            "LessOrEqual": np.less_equal, "GreaterOrEqual": np.greater_equal,
            "And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor,
            "BitwiseAnd": np.bitwise_and, "BitwiseOr": np.bitwise_or,
            "BitwiseXor": np.bitwise_xor}
for _name, _fn in _COMPARE.items():
    onnx_op(_name)(lambda inputs, attrs, ctx, _fn=_fn: to_value(_fn(*[arr(x) for x in inputs])))

for _name, _fn in {"Not": np.logical_not, "BitwiseNot": np.invert, "IsNaN": np.isnan}.items():
    onnx_op(_name)(lambda inputs, attrs, ctx, _fn=_fn: to_value(_fn(arr(inputs[0]))))


@onnx_op("IsInf")
def isinf(inputs, attrs, ctx):
    x = arr(inputs[0])
    pos, neg = attrs.get("detect_positive", 1), attrs.get("detect_negative", 1)
    return to_value((np.isposinf(x) & bool(pos)) | (np.isneginf(x) & bool(neg)))


@onnx_op("BitShift")
def bitshift(inputs, attrs, ctx):
    a, b = (arr(x) for x in inputs)
    fn = np.left_shift if attrs["direction"] == "LEFT" else np.right_shift
    return to_value(fn(a, b))


@onnx_op("Where")
def where(inputs, attrs, ctx):
    c, a, b = inputs
    if is_float(a) or is_float(b):
        return axonic.where(c, a, b)
    return to_value(np.where(arr(c), arr(a), arr(b)))


@onnx_op("Clip", until=10)
def clip_attrs(inputs, attrs, ctx):
    x = inputs[0]
    return axonic.clamp(x, attrs.get("min", -3.4028234663852886e38),
                        attrs.get("max", 3.4028234663852886e38))


@onnx_op("Clip", since=11)
def clip(inputs, attrs, ctx):
    x, lo, hi = (list(inputs) + [None, None])[:3]
    if not is_float(x):
        a = arr(x)
        lo_v = arr(lo) if lo is not None else None
        hi_v = arr(hi) if hi is not None else None
        if lo_v is not None:
            a = np.maximum(a, lo_v)
        if hi_v is not None:
            a = np.minimum(a, hi_v)
        return const(a)
    lo_t = tensor_of(arr(lo), x) if lo is not None else None
    hi_t = tensor_of(arr(hi), x) if hi is not None else None
    out = x
    if lo_t is not None:
        out = axonic.maximum(out, lo_t)
    if hi_t is not None:
        out = axonic.minimum(out, hi_t)
    return out


def _cast(x, dtype):
    src = arr(x)
    if is_float(x) and dtype.kind == "f" and dtype.name in ("float16", "float32", "float64"):
        return x.to(dtype)
    if dtype.kind == "O":  # to strings
        return np.vectorize(str, otypes=[object])(src)
    if src.dtype == object:  # strings to numbers
        return to_value(src.astype(np.float64).astype(dtype))
    return to_value(src.astype(dtype))


@onnx_op("Cast")
def cast(inputs, attrs, ctx):
    return _cast(inputs[0], onnx_dtype(attrs["to"]))


@onnx_op("CastLike", since=15)
def cast_like(inputs, attrs, ctx):
    return _cast(inputs[0], arr(inputs[1]).dtype)
