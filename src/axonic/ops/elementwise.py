"""Elementwise functions of one tensor: abs exp log log1p sqrt rsqrt sin cos tanh sigmoid
relu clamp, and the non-differentiable sign floor ceil round."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, get_default_dtype
from axonic.ops._registry import op
from axonic.ops._spec import TORCH, OpSpec, away_from


class Abs(Function):
    onnx_op = "Abs"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).abs(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = self.xp
        return g * xp.sign(x)


class Exp(Function):
    onnx_op = "Exp"

    def forward(self, x):
        out = get_array_module(x).exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * out


class Log(Function):
    onnx_op = "Log"

    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / x


class Log1p(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).log1p(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (1 + x)


class Sqrt(Function):
    onnx_op = "Sqrt"

    def forward(self, x):
        out = get_array_module(x).sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g / (2 * out)


class Rsqrt(Function):
    def forward(self, x):
        out = 1 / get_array_module(x).sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return -0.5 * g * out ** 3

    def to_onnx(self, g, x):
        return g.op("Reciprocal", g.op("Sqrt", x))


class Clamp(Function):
    def forward(self, x, min=None, max=None):
        self.save_for_backward(x)
        self.lo, self.hi = min, max
        return get_array_module(x).clip(x, min, max)

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.lo is not None and self.hi is not None:
            mask = self.xp.logical_and(x >= self.lo, x <= self.hi)
        elif self.lo is not None:
            mask = x >= self.lo
        else:
            mask = x <= self.hi
        return g * mask

    def to_onnx(self, g, x, min=None, max=None):
        lo, hi = (b if b is None or isinstance(b, str) else g.const(b, g.out_dtype)
                  for b in (min, max))
        return g.op("Clip", x, lo, hi)


class Expm1(Function):
    def forward(self, x):
        out = get_array_module(x).expm1(x)  # exp(x) - 1 without cancellation for small x
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return g * (out + 1)


class NanToNum(Function):
    """Replace NaN and infinities; the gradient flows only where the value was finite."""

    def forward(self, x, nan, posinf, neginf):
        self.save_for_backward(x)
        return get_array_module(x).nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * self.xp.isfinite(x)


class Reciprocal(Function):
    onnx_op = "Reciprocal"

    def forward(self, x):
        out = 1 / x
        self.save_for_backward(out)
        return out

    def backward(self, g):
        (out,) = self.saved_tensors
        return -g * out * out


def _float(x: Tensor) -> Tensor:
    return x.to(get_default_dtype()) if x._data.dtype.kind in "biu" else x


@op(methods=("abs", "__abs__"))
def abs(input):
    return Abs.apply(input)


@op(methods=("exp",))
def exp(input):
    return Exp.apply(_float(input))


@op(methods=("log",))
def log(input):
    return Log.apply(_float(input))


@op(methods=("log1p",))
def log1p(input):
    return Log1p.apply(_float(input))


@op(methods=("sqrt",))
def sqrt(input):
    return Sqrt.apply(_float(input))


@op(methods=("rsqrt",))
def rsqrt(input):
    return Rsqrt.apply(_float(input))


@op(methods=("expm1",))
def expm1(input):
    """``exp(x) - 1``, accurate for small ``x``.

    >>> import axonic
    >>> axonic.expm1(axonic.tensor([1e-10], dtype=axonic.float64)).item()
    1.00000000005e-10
    """
    return Expm1.apply(_float(input))


_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))


@op(methods=("log2",))
def log2(input):
    return log(input) / _LN2


@op(methods=("log10",))
def log10(input):
    return log(input) / _LN10


@op(methods=("nan_to_num",))
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN to ``nan``, +-inf to ``posinf``/``neginf`` (by default the dtype's extremes).

    >>> import axonic
    >>> axonic.tensor([float("nan"), 1.0, float("-inf")]).nan_to_num(neginf=-5.0)
    tensor([ 0.,  1., -5.])
    """
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


@op(methods=("reciprocal",))
def reciprocal(input):
    return Reciprocal.apply(_float(input))


class Logit(Function):
    def forward(self, x, eps=None):
        self.eps = eps
        self.save_for_backward(x)
        xp = get_array_module(x)
        z = x if eps is None else xp.clip(x, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 and 1 map to -inf and inf
            return xp.log(z / (1 - z))

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.eps is None:
            return g / (x * (1 - x))
        # the clamped input is constant outside [eps, 1 - eps]: no gradient there (and no
        # division by x (1 - x) there, which may be 0)
        xp = self.xp
        inside = xp.logical_and(x >= self.eps, x <= 1 - self.eps)
        x = xp.where(inside, x, 0.5)
        return xp.where(inside, g / (x * (1 - x)), 0)


@op(methods=("logit",))
def logit(input, eps=None):
    """``log(p / (1 - p))``, the inverse of ``sigmoid``; with ``eps`` the input is first
    clamped to ``[eps, 1 - eps]`` (so the result is finite), as ``torch.logit``.

    >>> import axonic
    >>> axonic.tensor([0.5, 0.0]).logit(eps=1e-6)
    tensor([  0.0000, -13.8155])
    """
    if eps is not None and not 0 <= eps < 0.5:
        raise ValueError(f"logit: eps must be in [0, 0.5), got {eps!r}")
    return Logit.apply(_float(input), eps=eps)


@op(methods=("square",))
def square(input):
    return input * input


@op("clamp", "clip", methods=("clamp", "clip"))
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


def _nograd(name):
    def op(input):
        data = input._data
        return _make(get_array_module(data).asarray(getattr(get_array_module(data), name)(data)))

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} (no gradient: piecewise constant)."
    return op


sign = op("sign", methods=("sign",))(_nograd("sign"))
floor = op("floor", methods=("floor",))(_nograd("floor"))
ceil = op("ceil", methods=("ceil",))(_nograd("ceil"))
round = op("round", methods=("round",))(_nograd("round"))
trunc = op("trunc", methods=("trunc",))(_nograd("trunc"))
isnan = op("isnan", methods=("isnan",))(_nograd("isnan"))
isinf = op("isinf", methods=("isinf",))(_nograd("isinf"))
isfinite = op("isfinite", methods=("isfinite",))(_nograd("isfinite"))


_SHAPES = [((3, 4),), ((),), ((0, 2),), ((2, 3, 4),)]


def _positive(r):
    return (r.uniform(0.2, 3.0, (3, 4)),)


def _with_non_finite(r):
    return (np.array([1.5, np.nan, np.inf, -np.inf, -0.5]),)


SPECS = [
    OpSpec("expm1", expm1, np.expm1, _SHAPES + [lambda r: (np.array([1e-9, -1e-7, 0.3]),)],
           lambda a: a.expm1()),
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
    OpSpec("clamp", lambda a: clamp(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           [lambda r: (away_from(r.uniform(-2, 2, (4, 5)), [-0.5, 0.7]),)],
           lambda a: a.clamp(-0.5, 0.7)),
    OpSpec("clamp_min", lambda a: clamp(a, min=0.1), lambda a: np.maximum(a, 0.1),
           [lambda r: (away_from(r.uniform(-2, 2, (4, 5)), [0.1]),)], lambda a: a.clamp(min=0.1)),
    OpSpec("reciprocal", reciprocal, lambda a: 1 / a, [_positive], lambda a: a.reciprocal()),
    OpSpec("logit", logit, lambda a: np.log(a / (1 - a)),
           [lambda r: (r.uniform(0.05, 0.95, (3, 4)),), lambda r: (np.array([0.5]),)],
           lambda a: a.logit()),
    OpSpec("logit_eps", lambda a: logit(a, 0.1),
           lambda a: np.log(np.clip(a, 0.1, 0.9) / (1 - np.clip(a, 0.1, 0.9))),
           [lambda r: (away_from(r.uniform(-0.5, 1.5, (4, 5)), [0.1, 0.9]),)],
           lambda a: TORCH.logit(a, 0.1)),
    OpSpec("square", square, np.square, _SHAPES, lambda a: a.square()),
]
