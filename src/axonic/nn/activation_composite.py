"""Activations composed of other ops, with no backward of their own: the piecewise-linear
ones (``Hardtanh``, ``ReLU6``, ``Hardsigmoid``, ``Hardswish``, ``Threshold``), ``Mish``,
``LogSigmoid``, ``Softsign``, ``SELU``, ``CELU``, ``GLU``, and their functional forms.

>>> import axonic
>>> relu6(axonic.tensor([-1.0, 3.0, 9.0])).tolist()
[0.0, 3.0, 6.0]
"""

from __future__ import annotations

from axonic.nn.activation_base import _Activation, _dim_ok, _number
from axonic.nn.module import Module
from axonic.ops import activations as _special
from axonic.ops import activations as _unary
from axonic.ops.elementwise import clamp as _clamp
from axonic.ops.inplace import honours_inplace


@honours_inplace
def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """``clamp(x, min_val, max_val)``."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _clamp(input, min_val, max_val)


@honours_inplace
def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)``."""
    return _clamp(input, 0.0, 6.0)


@honours_inplace
def hardsigmoid(input, inplace: bool = False):
    """``clamp(x / 6 + 1/2, 0, 1)``."""
    return _clamp(input * (1 / 6) + 0.5, 0.0, 1.0)


@honours_inplace
def hardswish(input, inplace: bool = False):
    """``x * hardsigmoid(x)``."""
    return input * hardsigmoid(input)


@honours_inplace
def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))``."""
    return input * _unary.tanh(_special.softplus(input))


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x."""
    return -_special.softplus(-input)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@honours_inplace
def selu(input, inplace: bool = False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _special.elu(input, _SELU_ALPHA) * _SELU_SCALE


@honours_inplace
def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, ``alpha * (exp(x / alpha) - 1)`` elsewhere."""
    if alpha == 0:
        raise ValueError("celu: alpha must be nonzero, got 0")
    return _special.elu(input * (1.0 / alpha), 1.0) * alpha


class SELU(_Activation):
    """Scaled ELU with the self-normalising constants."""

    def forward(self, input):
        return selu(input)


class CELU(_Activation):
    """Continuously differentiable ELU."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = _number("CELU", "alpha", alpha, nonzero=True)

    def forward(self, input):
        return celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(_Activation):
    """``clamp(x, min_val, max_val)``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.min_val = _number(type(self).__name__, "min_val", min_val)
        self.max_val = _number(type(self).__name__, "max_val", max_val)
        if self.min_val > self.max_val:
            raise ValueError(f"{type(self).__name__}: min_val ({min_val}) must not exceed "
                             f"max_val ({max_val})")

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Activation):
    """``clamp(x / 6 + 1/2, 0, 1)``."""

    def forward(self, input):
        return hardsigmoid(input)


class Hardswish(_Activation):
    """``x * hardsigmoid(x)``."""

    def forward(self, input):
        return hardswish(input)


class Mish(_Activation):
    """``x * tanh(softplus(x))``."""

    def forward(self, input):
        return mish(input)


class LogSigmoid(_Activation):
    """``log(sigmoid(x))``."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return logsigmoid(input)


class Softsign(_Activation):
    """``x / (1 + |x|)``."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return softsign(input)


def glu(input, dim: int = -1):
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``."""
    from axonic.ops.join import chunk

    n = input.ndim
    if n == 0 or not -n <= dim < n or input.shape[dim] % 2:
        raise ValueError(f"glu: dim {dim} of an input of shape {tuple(input.shape)} must exist "
                         "and have an even size")
    a, b = chunk(input, 2, dim)
    return a * _unary.sigmoid(b)


@honours_inplace
def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    from axonic.ops.indexing import where

    return where(input > threshold, input, value)


class GLU(Module):
    """Gated linear unit over ``dim`` (its size halves)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = _dim_ok("GLU", dim)

    def forward(self, input):
        try:
            return glu(input, self.dim)
        except ValueError as e:
            raise self.input_error(str(e).split(": ", 1)[1]) from None

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Threshold(_Activation):
    """``x`` where ``x > threshold``, ``value`` elsewhere."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        self.threshold = _number("Threshold", "threshold", threshold)
        self.value = _number("Threshold", "value", value)

    def forward(self, input):
        return threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")
