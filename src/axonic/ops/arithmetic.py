"""Elementwise arithmetic with NumPy broadcasting: add sub mul div pow neg, maximum minimum."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function, sum_to
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec
from axonic.ops._util import as_operand, broadcast_error, promote, xp_of


class Add(Function):
    onnx_op = "Add"

    def forward(self, a, b):
        return a + b

    def backward(self, g):  # only the shapes of the inputs (kept by the engine) are read
        na, nb = self.needs_input_grad
        a, b = self.inputs
        return (sum_to(g, a._data.shape) if na else None,
                sum_to(g, b._data.shape) if nb else None)


class Sub(Function):
    onnx_op = "Sub"

    def forward(self, a, b):
        return a - b

    def backward(self, g):  # only the shapes of the inputs (kept by the engine) are read
        na, nb = self.needs_input_grad
        a, b = self.inputs
        return (sum_to(g, a._data.shape) if na else None,
                sum_to(-g, b._data.shape) if nb else None)


class Mul(Function):
    onnx_op = "Mul"

    def forward(self, a, b):
        na, nb = self.needs_input_grad
        # each side is kept only for the other's gradient (as PyTorch): changing an input in
        # place afterwards fails at backward only where its value is needed
        self.save_for_backward(a if nb else None, b if na else None)
        return a * b

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        ia, ib = self.inputs
        return (sum_to(g * b, ia._data.shape) if na else None,
                sum_to(g * a, ib._data.shape) if nb else None)


class Div(Function):
    onnx_op = "Div"

    def forward(self, a, b):
        self.save_for_backward(a if self.needs_input_grad[1] else None, b)  # as PyTorch
        return a / b

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        ia, ib = self.inputs
        ga = g / b
        return (sum_to(ga, ia._data.shape) if na else None,
                sum_to(-ga * (a / b), ib._data.shape) if nb else None)


class Neg(Function):
    onnx_op = "Neg"

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    onnx_op = "Pow"

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out if self.needs_input_grad[1] else None)
        return out

    def backward(self, g):
        a, b, out = self.saved_tensors
        na, nb = self.needs_input_grad
        xp = self.xp
        ga = gb = None
        if na:
            # d/da a^b = b a^(b-1); a^(b-1) computed directly so a == 0 stays finite for b >= 1
            ga = sum_to(g * b * a ** (b - 1), a.shape)
        if nb:
            with xp.errstate(divide="ignore", invalid="ignore"):
                term = out * xp.log(a)
            # 0^b with b >= 0 has derivative 0 in b (PyTorch's convention)
            term = xp.where(xp.logical_and(a == 0, b >= 0), 0, term)
            gb = sum_to(g * term, b.shape)
        return ga, gb


class Maximum(Function):
    onnx_op = "Max"

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    def _wins(self, a, b):
        return a > b

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        xp = self.xp
        # ties split the gradient in half, as PyTorch does
        ga = xp.where(a == b, g * 0.5, g * self._wins(a, b))
        return (sum_to(ga, a.shape) if na else None,
                sum_to(g - ga, b.shape) if nb else None)


class Minimum(Maximum):
    onnx_op = "Min"

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).minimum(a, b)

    def _wins(self, a, b):
        return a < b


class Atan2(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).arctan2(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        r2 = a * a + b * b
        return (sum_to(g * b / r2, a.shape) if na else None,
                sum_to(-g * a / r2, b.shape) if nb else None)


class Remainder(Function):
    def forward(self, a, b):
        self.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        if self.needs_input_grad[1]:  # a's gradient needs no values
            self.save_for_backward(a, b)
        else:
            self.save_for_backward()
        return get_array_module(a).remainder(a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        gb = None
        if nb:
            a, b = self.saved_tensors
            gb = sum_to(-g * self.xp.floor_divide(a, b), sb)
        return (sum_to(g, sa) if na else None), gb


# --- the public functions --------------------------------------------------------------


_NUMBERS = (int, float, bool)


def _binary(cls, op, a, b, true_div=False):
    # The common cases need no promotion: a float tensor with a Python number or with a
    # tensor of its own dtype. Everything else goes through the full rules.
    if a.__class__ is Tensor and a._data.dtype.kind == "f":
        fast = b.__class__ in _NUMBERS or b.__class__ is Tensor and b._data.dtype == a._data.dtype
    else:
        fast = (b.__class__ is Tensor and b._data.dtype.kind == "f"
                and a.__class__ in _NUMBERS)
    if not fast:
        a, b = promote(as_operand(a), as_operand(b), true_div)
    try:
        return cls.apply(a, b)
    except ValueError:
        sa = np.shape(a._data if isinstance(a, Tensor) else a)
        sb = np.shape(b._data if isinstance(b, Tensor) else b)
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise broadcast_error(op, sa, sb) from None
        raise


@op(methods=("add", "__add__"), rmethods=("__radd__",))
def add(input, other, alpha=1):
    """``input + alpha * other`` with broadcasting.

    >>> import axonic
    >>> axonic.add(axonic.tensor([[1.0], [2.0]]), axonic.tensor([10.0, 20.0]))
    tensor([[11., 21.],
            [12., 22.]])
    """
    return _binary(Add, "add", input, other if alpha == 1 else mul(other, alpha))


@op(methods=("sub", "subtract", "__sub__"), rmethods=("__rsub__",))
def sub(input, other, alpha=1):
    return _binary(Sub, "sub", input, other if alpha == 1 else mul(other, alpha))


@op(methods=("mul", "multiply", "__mul__"), rmethods=("__rmul__",))
def mul(input, other):
    return _binary(Mul, "mul", input, other)


@op(methods=("div", "divide", "true_divide", "__truediv__"), rmethods=("__rtruediv__",))
def div(input, other, rounding_mode=None):
    """True division; ``rounding_mode='floor'`` or ``'trunc'`` give integer-valued results
    without a gradient. Integers divide into the default float dtype, as in PyTorch.

    >>> import axonic
    >>> axonic.tensor([3, -3]) / 2
    tensor([ 1.5000, -1.5000])
    >>> axonic.div(axonic.tensor([3, -3]), 2, rounding_mode="floor")
    tensor([ 1, -2])
    """
    if rounding_mode is None:
        return _binary(Div, "div", input, other, true_div=True)
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    xp = xp_of(a, b)
    if rounding_mode == "floor":
        out = xp.floor_divide(a, b)
    elif rounding_mode == "trunc":
        out = xp.trunc(xp.true_divide(a, b))
        if np.result_type(a, b).kind in "iu":
            out = out.astype(np.result_type(a, b))
    else:
        raise ValueError(
            f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    return _make(xp.asarray(out))


@op(methods=("floor_divide", "__floordiv__"), rmethods=("__rfloordiv__",))
def floor_divide(input, other):
    return div(input, other, rounding_mode="floor")


@op(methods=("remainder", "__mod__"), rmethods=("__rmod__",))
def remainder(input, other):
    return _binary(Remainder, "remainder", input, other)


@op(methods=("pow", "__pow__"), rmethods=("__rpow__",))
def pow(input, exponent):
    """``input ** exponent``; either may be a tensor or a number.

    >>> import axonic
    >>> axonic.tensor([1.0, 2.0, 3.0]) ** 2
    tensor([1., 4., 9.])
    """
    return _binary(Pow, "pow", input, exponent)


@op(export=False, methods=("__pos__",))
def positive(input):
    return input


@op(methods=("neg", "negative", "__neg__"))
def neg(input):
    return Neg.apply(input)


@op(methods=("maximum",))
def maximum(input, other):
    """Elementwise maximum; at ties the gradient is split in half.

    >>> import axonic
    >>> axonic.maximum(axonic.tensor([1.0, 5.0]), axonic.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _binary(Maximum, "maximum", input, other)


@op(methods=("minimum",))
def minimum(input, other):
    return _binary(Minimum, "minimum", input, other)


@op(methods=("atan2",))
def atan2(input, other):
    """The angle of the point ``(other, input)``, elementwise with broadcasting.

    >>> import axonic
    >>> axonic.atan2(axonic.tensor([1.0]), axonic.tensor([-1.0]))
    tensor([2.3562])
    """
    return _binary(Atan2, "atan2", input, other)


@op(methods=("lerp",))
def lerp(input, end, weight):
    """``input + weight * (end - input)``."""
    return add(input, mul(weight, sub(end, input)))


@op(methods=("logaddexp",))
def logaddexp(input, other):
    """``log(exp(a) + exp(b))`` without overflow.

    >>> import axonic
    >>> axonic.logaddexp(axonic.tensor([1000.0]), axonic.tensor([1000.0]))
    tensor([1000.6932])
    """
    from axonic.ops.elementwise import abs, exp, log1p

    return add(maximum(input, other), log1p(exp(neg(abs(sub(input, other))))))


@op(methods=("clamp_min",))
def clamp_min(input, min):
    from axonic.ops.elementwise import clamp

    return clamp(input, min=min)


@op(methods=("clamp_max",))
def clamp_max(input, max):
    from axonic.ops.elementwise import clamp

    return clamp(input, max=max)


def _pos(rng):
    return (rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(-2, 2, (3, 4)))


def _pow_safe(rng):
    return (rng.uniform(0.5, 2.0, (2, 3)), rng.uniform(-1.5, 1.5, (3,)))


def _ties(rng):
    a = rng.uniform(-1, 1, (4, 5))
    b = a + rng.choice([-0.5, 0.5], size=(4, 5))
    return a, b


_BIN_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 3)),
               ((4,), ()), ((0, 3), (3,)), ((2, 1, 3), (4, 1))]

SPECS = [
    OpSpec("atan2", atan2, np.arctan2, [((3, 4), (3, 4)), ((2, 3), (3,))],
           lambda a, b: TORCH.atan2(a, b)),
    OpSpec("lerp", lambda a, b, w: lerp(a, b, w), lambda a, b, w: a + w * (b - a),
           [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), ())], lambda a, b, w: TORCH.lerp(a, b, w)),
    OpSpec("logaddexp", logaddexp, np.logaddexp,
           [((3, 4), (4,)), lambda r: (np.array([1e3, -1e3, 2.0]), np.array([1e3 - 1, 5.0, 1.5]))],
           lambda a, b: TORCH.logaddexp(a, b)),
    OpSpec("add", add, np.add, _BIN_SHAPES, lambda a, b: a + b),
    OpSpec("sub", sub, np.subtract, _BIN_SHAPES, lambda a, b: a - b),
    OpSpec("mul", mul, np.multiply, _BIN_SHAPES, lambda a, b: a * b),
    OpSpec("div", div, np.divide,
           [lambda r: (r.uniform(-2, 2, (3, 4)),
                       r.uniform(0.5, 2, (3, 4)) * r.choice([-1, 1], (3, 4))),
            lambda r: (r.uniform(-2, 2, (2, 3)), r.uniform(0.5, 2, (3,)))],
           lambda a, b: a / b),
    OpSpec("neg", neg, np.negative, [((3, 4),), ((),), ((0,),)], lambda a: -a),
    OpSpec("pow", pow, np.power, [_pow_safe, _pos], lambda a, b: a ** b),
    OpSpec("pow_scalar", lambda a: pow(a, 3), lambda a: a ** 3, [((3, 4),), ((),)],
           lambda a: a ** 3),
    OpSpec("pow_fractional", lambda a: pow(a, 0.5), np.sqrt,
           [lambda r: (r.uniform(0.5, 2, (5,)),)], lambda a: a ** 0.5),
    OpSpec("rpow", lambda a: pow(2.0, a), lambda a: 2.0 ** a, [((3, 4),)], lambda a: 2.0 ** a),
    OpSpec("maximum", maximum, np.maximum, [_ties, ((3, 1), (1, 4))], lambda a, b: a.maximum(b)),
    OpSpec("minimum", minimum, np.minimum, [_ties, ((3, 1), (1, 4))], lambda a, b: a.minimum(b)),
    OpSpec("maximum_ties", maximum, np.maximum,
           [lambda r: (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0]))],
           lambda a, b: a.maximum(b), gradcheck=False),
    OpSpec("remainder", remainder, np.remainder,
           [lambda r: (r.uniform(-3, 3, (6,)), np.full(6, 1.3))], lambda a, b: a.remainder(b)),
]
