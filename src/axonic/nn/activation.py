"""Activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``GELU``, ``SiLU``,
``Sigmoid``, ``Tanh``, ``Softplus``, each wrapping the op of the same name (``axonic.ops``).

``inplace=True`` writes the result into the input, recorded by autograd as an in-place op
(``axonic.ops.inplace``), and returns the input. The softmax family is in
``nn.activation_softmax``, the composite activations (``Hardtanh``, ``Mish``, ``GLU`` ...)
in ``nn.activation_composite``; every name stays importable from here, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from axonic.backend import resolve_dtype
from axonic.nn import init
from axonic.nn.activation_base import _Activation, _number
from axonic.nn.activation_composite import (  # noqa: F401  (this module's names, as in PyTorch)
    CELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    ReLU6,
    Softsign,
    Threshold,
    celu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    softsign,
    threshold,
)
from axonic.nn.activation_shrink import (  # noqa: F401
    Hardshrink,
    Softshrink,
    Tanhshrink,
    hardshrink,
    softshrink,
    tanhshrink,
)
from axonic.nn.activation_softmax import (  # noqa: F401
    LogSoftmax,
    Softmax,
    Softmax2d,
    Softmin,
    log_softmax,
    softmax,
    softmin,
)
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops import activations as _special
from axonic.ops import activations as _unary
from axonic.ops.inplace import honours_inplace


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

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):  # noqa: F811  (torch's name)
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


@honours_inplace
def relu(input, inplace: bool = False):
    """``max(x, 0)``; with ``inplace=True`` written into ``input``."""
    return _unary.relu(input)
