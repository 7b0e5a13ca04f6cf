"""``RReLU``, the randomized leaky ReLU (Xu et al., 2015): in training each negative input
is scaled by its own slope drawn uniformly from ``[lower, upper]``; in evaluation by their
mean ``(lower + upper) / 2``. Slopes come from axonic's default generator.

>>> import axonic
>>> rrelu(axonic.tensor([-2.0, 3.0]), training=False).tolist()  # slope (1/8 + 1/3) / 2
[-0.4583333432674408, 3.0]
"""

from __future__ import annotations

from axonic.autograd.tensor import _make
from axonic.backend import get_array_module
from axonic.backend.random import default_generator
from axonic.nn.activation_base import _Activation, _number


def _bounds(name: str, lower, upper) -> tuple[float, float]:
    _number(name, "lower", lower), _number(name, "upper", upper)
    if not 0 <= lower <= upper:
        raise ValueError(f"{name}: expected 0 <= lower <= upper, got lower={lower!r}, "
                         f"upper={upper!r}")
    return float(lower), float(upper)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """``x`` where ``x >= 0``, else ``a * x`` with ``a ~ U(lower, upper)`` per element in
    training and ``a = (lower + upper) / 2`` otherwise."""
    lower, upper = _bounds("rrelu", lower, upper)
    xp = get_array_module(input._data)
    negative = input._data < 0
    if training:
        slope = default_generator.uniform(lower, upper, input.shape, input.dtype, input.device)
    else:
        slope = xp.asarray((lower + upper) / 2, dtype=input.dtype)
    scale = xp.where(negative, slope, xp.asarray(1, dtype=input.dtype)).astype(input.dtype)
    return input * _make(scale)


class RReLU(_Activation):
    """Randomized leaky ReLU (slopes in ``[lower, upper]`` while training)."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__(inplace)
        self.lower, self.upper = _bounds("RReLU", lower, upper)

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
