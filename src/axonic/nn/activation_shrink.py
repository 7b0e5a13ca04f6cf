"""The shrinking activations, composed of other ops (their gradients are those ops'):
``Hardshrink`` (zero inside ``[-lambd, lambd]``), ``Softshrink`` (also moves the rest
towards zero by ``lambd``) and ``Tanhshrink`` (``x - tanh(x)``), and their functional forms.

>>> import axonic
>>> hardshrink(axonic.tensor([-1.0, 0.2, 0.75])).tolist()
[-1.0, 0.0, 0.75]
>>> softshrink(axonic.tensor([-1.0, 0.2, 0.75])).tolist()
[-0.5, 0.0, 0.25]
"""

from __future__ import annotations

from axonic.nn.activation_base import _Activation, _number
from axonic.ops import activations as _unary
from axonic.ops.elementwise import clamp as _clamp


def _lambd(name: str, lambd):
    _number(name, "lambd", lambd)
    if lambd < 0:
        raise ValueError(f"{name}: lambd must be >= 0, got {lambd!r}")
    return float(lambd)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return input * (input.abs() > _lambd("hardshrink", lambd))


def softshrink(input, lambd: float = 0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    lambd = _lambd("softshrink", lambd)
    return input - _clamp(input, -lambd, lambd)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - _unary.tanh(input)


class Hardshrink(_Activation):
    """``x`` where ``|x| > lambd``, else 0."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = _lambd("Hardshrink", lambd)

    def forward(self, input):
        return hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(_Activation):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = _lambd("Softshrink", lambd)

    def forward(self, input):
        return softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Tanhshrink(_Activation):
    """``x - tanh(x)``."""

    def __init__(self):
        super().__init__()

    def forward(self, input):
        return tanhshrink(input)
