"""Activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``GELU``, ``SiLU``,
``Sigmoid``, ``Tanh``, ``Softplus``, ``Softmax``, ``LogSoftmax``.

Each wraps the op of the same name (``axonic.ops``); the functional forms are in
``axonic.nn.functional``. ``inplace=True`` writes the result into the input, recorded by
autograd as an in-place op (``axonic.ops.inplace``), and returns the input.
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.backend import resolve_dtype
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops import activations as _special
from axonic.ops import activations as _unary
from axonic.ops.elementwise import clamp as _clamp
from axonic.ops.inplace import honours_inplace, update_
from axonic.ops.softmax import log_softmax as _log_softmax
from axonic.ops.softmax import softmax as _softmax_fn


def _number(layer: str, name: str, v, positive: bool = False, nonzero: bool = False):
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise ValueError(f"{layer}: {name} must be a number, got {v!r}")
    if positive and not v > 0:
        raise ValueError(f"{layer}: {name} must be positive, got {v!r}")
    if nonzero and v == 0:
        raise ValueError(f"{layer}: {name} must be nonzero, got {v!r}")
    return v


class _Activation(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def __call__(self, *args, **kwargs):
        if args and not isinstance(args[0], Tensor):
            raise self.input_error(f"expected a Tensor, got {type(args[0]).__name__}")
        if self.inplace and args:
            call = super().__call__
            return update_(args[0], f"{type(self).__name__}(inplace=True)",
                           lambda old: call(old, *args[1:], **kwargs))
        return super().__call__(*args, **kwargs)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Activation):
    """``max(x, 0)``.

    >>> import axonic
    >>> ReLU()(axonic.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def forward(self, input):
        return _unary.relu(input)


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))``, stable for large |x|."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return _unary.sigmoid(input)


class Tanh(_Activation):
    """Hyperbolic tangent."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return _unary.tanh(input)


class SiLU(_Activation):
    """``x * sigmoid(x)``."""

    def forward(self, input):
        return _special.silu(input)


class LeakyReLU(_Activation):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, input):
        return _special.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Activation):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = _number("ELU", "alpha", alpha)

    def forward(self, input):
        return _special.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(_Activation):
    """``x * Phi(x)`` (exact, with our float64-accurate erf) or its tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return _special.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(_Activation):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = _number("Softplus", "beta", beta, nonzero=True)
        self.threshold = _number("Softplus", "threshold", threshold)

    def forward(self, input):
        return _special.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """Leaky ReLU with a learned slope: one for all channels, or one per channel (dim 1).

    >>> from axonic import nn
    >>> nn.PReLU(3).weight.shape
    (3,)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        if isinstance(num_parameters, bool) or not isinstance(
                num_parameters, int | np.integer) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, "
                             f"got {num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = _number("PReLU", "init", init)
        from axonic.ops.creation import empty

        self.weight = Parameter(empty(self.num_parameters, dtype=resolve_dtype(dtype),
                                      device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        n = self.num_parameters
        if n > 1 and (input.ndim < 2 or input.shape[1] != n):
            raise self.input_error(
                f"expected input with {n} channels in dim 1, got shape {tuple(input.shape)}")
        self.check_input_dtype(input, self.weight)
        return _special.Prelu.apply(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _dim_ok(layer, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int | np.integer)):
        raise ValueError(f"{layer}: dim must be an int or None, got {dim!r}")
    return dim


def _check_dim(layer, input):
    if not isinstance(input, Tensor):
        raise layer.input_error(f"expected a Tensor, got {type(input).__name__}")
    n = max(input.ndim, 1)
    if layer.dim is not None and not -n <= layer.dim < n:
        raise layer.input_error(f"dim {layer.dim} is out of range for an input of shape "
                                f"{tuple(input.shape)}")


class Softmax(Module):
    """``exp(x) / exp(x).sum(dim)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("Softmax", dim)

    def forward(self, input):
        _check_dim(self, input)
        return _softmax_fn(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``x - logsumexp(x, dim)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("LogSoftmax", dim)

    def forward(self, input):
        _check_dim(self, input)
        return _log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# --- functional forms with PyTorch's signatures ---------------------------------------------
@honours_inplace
def relu(input, inplace: bool = False):
    """``max(x, 0)``; with ``inplace=True`` written into ``input``."""
    return _unary.relu(input)


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, stable for large logits."""
    return _softmax_fn(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``x - logsumexp(x, dim)``, stable for large logits."""
    return _log_softmax(input, dim, dtype)


# --- piecewise-linear and composite activations ------------------------------------------
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


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    return _softmax_fn(-input, dim, dtype)


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


class Softmin(Module):
    """``softmax(-x)`` along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = _dim_ok("Softmin", dim)

    def forward(self, input):
        _check_dim(self, input)
        return softmin(input, self.dim)

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
