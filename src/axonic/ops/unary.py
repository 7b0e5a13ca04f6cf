"""Elementwise functions of one tensor: abs exp log log1p sqrt rsqrt sin cos tanh sigmoid
relu clamp, and the non-differentiable sign floor ceil round."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_default_dtype
from axonic.ops._spec import OpSpec, away_from


class Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.x)


class Exp(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return g / self.x


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return np.log1p(x)

    def backward(self, g):
        return g / (1 + self.x)


class Sqrt(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Rsqrt(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = 1 / np.sqrt(x)
        return self.out

    def backward(self, g):
        return -0.5 * g * self.out ** 3


class Sin(Function):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, g):
        return g * np.cos(self.x)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, g):
        return -g * np.sin(self.x)


class Tanh(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)


class Sigmoid(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        # exp(-|x|) never overflows; both branches keep full relative precision
        e = np.exp(-np.abs(x))
        r = 1 / (1 + e)
        self.out = np.where(x >= 0, r, e * r)
        return self.out

    def backward(self, g):
        out = self.out
        return g * (out * (1 - out))


class Relu(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, g):
        return g * (self.out > 0)


class Clamp(Function):
    def forward(self, x, min=None, max=None):
        self.x, self.lo, self.hi = x, min, max
        return np.clip(x, min, max)

    def backward(self, g):
        x = self.x
        if self.lo is not None and self.hi is not None:
            mask = (x >= self.lo) & (x <= self.hi)
        elif self.lo is not None:
            mask = x >= self.lo
        else:
            mask = x <= self.hi
        return g * mask


class Expm1(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.expm1(x)  # exp(x) - 1 without cancellation for small x
        return self.out

    def backward(self, g):
        return g * (self.out + 1)


class Tan(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.tan(x)
        return self.out

    def backward(self, g):
        return g * (1 + self.out * self.out)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return np.sinh(x)

    def backward(self, g):
        return g * np.cosh(self.x)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return np.cosh(x)

    def backward(self, g):
        return g * np.sinh(self.x)


class Atan(Function):
    def forward(self, x):
        self.x = x
        return np.arctan(x)

    def backward(self, g):
        return g / (1 + self.x * self.x)


class NanToNum(Function):
    """Replace NaN and infinities; the gradient flows only where the value was finite."""

    def forward(self, x, nan, posinf, neginf):
        self.finite = np.isfinite(x)
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * self.finite


class Reciprocal(Function):
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = 1 / x
        return self.out

    def backward(self, g):
        return -g * self.out * self.out


def _float(x: Tensor) -> Tensor:
    return x.to(get_default_dtype()) if x.data.dtype.kind in "biu" else x


def abs(input):
    return Abs.apply(input)


def exp(input):
    return Exp.apply(_float(input))


def log(input):
    return Log.apply(_float(input))


def log1p(input):
    return Log1p.apply(_float(input))


def sqrt(input):
    return Sqrt.apply(_float(input))


def rsqrt(input):
    return Rsqrt.apply(_float(input))


def sin(input):
    return Sin.apply(_float(input))


def cos(input):
    return Cos.apply(_float(input))


def tanh(input):
    return Tanh.apply(_float(input))


def sigmoid(input):
    """``1 / (1 + exp(-x))``, exact in float32 for large negative inputs.

    >>> import axonic
    >>> axonic.tensor([-100.0, 0.0]).sigmoid()
    tensor([3.7835e-44, 5.0000e-01])
    """
    return Sigmoid.apply(_float(input))


def relu(input):
    return Relu.apply(input)


def expm1(input):
    """``exp(x) - 1``, accurate for small ``x``.

    >>> import axonic
    >>> axonic.expm1(axonic.tensor([1e-10], dtype=axonic.float64)).item()
    1.00000000005e-10
    """
    return Expm1.apply(_float(input))


def tan(input):
    return Tan.apply(_float(input))


def sinh(input):
    return Sinh.apply(_float(input))


def cosh(input):
    return Cosh.apply(_float(input))


def atan(input):
    return Atan.apply(_float(input))


_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))


def log2(input):
    return log(input) / _LN2


def log10(input):
    return log(input) / _LN10


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN to ``nan``, +-inf to ``posinf``/``neginf`` (by default the dtype's extremes).

    >>> import axonic
    >>> axonic.tensor([float("nan"), 1.0, float("-inf")]).nan_to_num(neginf=-5.0)
    tensor([ 0.,  1., -5.])
    """
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def reciprocal(input):
    return Reciprocal.apply(_float(input))


def square(input):
    return input * input


def clamp(input, min=None, max=None):
    """Limit values to ``[min, max]``; the gradient flows where the value was kept.
    ``min``/``max`` may be numbers or tensors.

    >>> import axonic
    >>> axonic.tensor([-2.0, 0.5, 3.0]).clamp(-1, 1)
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from axonic.ops.arithmetic import maximum, minimum

        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(input, min=min, max=max)


clip = clamp


def _nograd(fn):
    def op(input):
        return _make(np.asarray(fn(input.data)))

    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise {fn.__name__} (no gradient: piecewise constant)."
    return op


sign = _nograd(np.sign)
floor = _nograd(np.floor)
ceil = _nograd(np.ceil)
round = _nograd(np.round)
trunc = _nograd(np.trunc)
isnan = _nograd(np.isnan)
isinf = _nograd(np.isinf)
isfinite = _nograd(np.isfinite)


_SHAPES = [((3, 4),), ((),), ((0, 2),), ((2, 3, 4),)]


def _positive(r):
    return (r.uniform(0.2, 3.0, (3, 4)),)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _with_non_finite(r):
    return (np.array([1.5, np.nan, np.inf, -np.inf, -0.5]),)


SPECS = [
    OpSpec("expm1", expm1, np.expm1, _SHAPES + [lambda r: (np.array([1e-9, -1e-7, 0.3]),)],
           lambda a: a.expm1()),
    OpSpec("tan", tan, np.tan, [lambda r: (r.uniform(-1.2, 1.2, (3, 4)),)], lambda a: a.tan()),
    OpSpec("sinh", sinh, np.sinh, _SHAPES, lambda a: a.sinh()),
    OpSpec("cosh", cosh, np.cosh, _SHAPES, lambda a: a.cosh()),
    OpSpec("atan", atan, np.arctan, _SHAPES, lambda a: a.atan()),
    OpSpec("log2", log2, np.log2, [_positive], lambda a: a.log2()),
    OpSpec("log10", log10, np.log10, [_positive], lambda a: a.log10()),
    OpSpec("nan_to_num", lambda a: nan_to_num(a, 0.5, 7.0, -7.0),
           lambda a: np.nan_to_num(a, nan=0.5, posinf=7.0, neginf=-7.0), [_SHAPES[0],
                                                                           _with_non_finite],
           lambda a: a.nan_to_num(0.5, 7.0, -7.0), gradcheck=False),
    OpSpec("abs", abs, np.abs, [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),)],
           lambda a: a.abs()),
    OpSpec("exp", exp, np.exp, _SHAPES, lambda a: a.exp()),
    OpSpec("log", log, np.log, [_positive], lambda a: a.log()),
    OpSpec("log1p", log1p, np.log1p, [lambda r: (r.uniform(-0.5, 3, (3, 4)),)],
           lambda a: a.log1p()),
    OpSpec("sqrt", sqrt, np.sqrt, [_positive], lambda a: a.sqrt()),
    OpSpec("rsqrt", rsqrt, lambda a: 1 / np.sqrt(a), [_positive], lambda a: a.rsqrt()),
    OpSpec("sin", sin, np.sin, _SHAPES, lambda a: a.sin()),
    OpSpec("cos", cos, np.cos, _SHAPES, lambda a: a.cos()),
    OpSpec("tanh", tanh, np.tanh, _SHAPES, lambda a: a.tanh()),
    OpSpec("sigmoid", sigmoid, _sig, _SHAPES + [lambda r: (np.array([-30.0, -5, 0, 5, 30]),)],
           lambda a: a.sigmoid()),
    OpSpec("relu", relu, lambda a: np.maximum(a, 0),
           [lambda r: (away_from(r.uniform(-2, 2, (3, 4)), [0]),), ((),)], lambda a: a.relu()),
    OpSpec("clamp", lambda a: clamp(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           [lambda r: (away_from(r.uniform(-2, 2, (4, 5)), [-0.5, 0.7]),)],
           lambda a: a.clamp(-0.5, 0.7)),
    OpSpec("clamp_min", lambda a: clamp(a, min=0.1), lambda a: np.maximum(a, 0.1),
           [lambda r: (away_from(r.uniform(-2, 2, (4, 5)), [0.1]),)], lambda a: a.clamp(min=0.1)),
    OpSpec("reciprocal", reciprocal, lambda a: 1 / a, [_positive], lambda a: a.reciprocal()),
    OpSpec("square", square, np.square, _SHAPES, lambda a: a.square()),
]
