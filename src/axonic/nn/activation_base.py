"""What activation layers share: ``_Activation`` (honours ``inplace=True`` by recording the
layer as an in-place op on its input) and the checks of their arguments, which name the
layer and the value received.

>>> _number("ELU", "alpha", "1")
Traceback (most recent call last):
    ...
ValueError: ELU: alpha must be a number, got '1'
"""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor
from axonic.nn.module import Module
from axonic.ops.inplace import update_


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
