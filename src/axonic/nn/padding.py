"""Padding layers, PyTorch's ``torch.nn`` set: ``ZeroPad{1,2,3}d``, ``ConstantPad{1,2,3}d``,
``ReflectionPad{1,2,3}d``, ``ReplicationPad{1,2,3}d`` and ``CircularPad{1,2,3}d``, each
``F.pad`` over the last 1, 2 or 3 dims of a batched or unbatched input.

``padding`` is one int (every side) or ``2 * n`` ints ``(left, right, top, bottom, front,
back)``, last dim first, as in PyTorch; constant and zero padding may be negative (crops).

>>> import axonic
>>> from axonic import nn
>>> nn.ZeroPad2d((1, 0, 2, 0))(axonic.ones(1, 2, 2)).shape
(1, 4, 3)
>>> nn.ReflectionPad1d(2)(axonic.tensor([[[1.0, 2.0, 3.0]]])).tolist()
[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
"""

from __future__ import annotations

import numpy as np

from axonic.nn.module import Module
from axonic.ops.join import pad


class _PadNd(Module):
    """``F.pad(input, padding, mode, value)`` over the last ``dims`` dims."""

    dims = 0
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        name, n = type(self).__name__, 2 * self.dims
        values = (padding,) * n if isinstance(padding, int | np.integer) else padding
        if (isinstance(padding, bool) or not isinstance(values, list | tuple)
                or len(values) != n or not all(isinstance(v, int | np.integer)
                                               and not isinstance(v, bool) for v in values)):
            raise ValueError(f"{name}: padding must be an int or a tuple of {n} ints, "
                             f"got {padding!r}")
        if self.mode != "constant" and any(v < 0 for v in values):
            raise ValueError(f"{name}: padding must be >= 0 for {self.mode} padding, "
                             f"got {padding!r}")
        self.padding = tuple(int(v) for v in values)
        self.value = float(value)

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise self.input_error(
                f"expected a {self.dims + 1}-d (unbatched) or {self.dims + 2}-d (batched) "
                f"input, got shape {tuple(input.shape)}")
        try:
            return pad(input, self.padding, self.mode, self.value)
        except ValueError as e:
            raise self.input_error(str(e).removeprefix("pad: ")) from None

    def extra_repr(self) -> str:
        value = f", value={self.value}" if type(self).__name__.startswith("Constant") else ""
        return f"{self.padding}{value}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class _ZeroPadNd(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``."""
    dims = 3


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros."""
    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros."""
    dims = 3


class _ReflectionPadNd(_ZeroPadNd):
    mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dim with its reflection (the edge not repeated)."""
    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last two dims with their reflection."""
    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last three dims with their reflection."""
    dims = 3


class _ReplicationPadNd(_ZeroPadNd):
    mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dim by repeating its edge values."""
    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last two dims by repeating their edge values."""
    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last three dims by repeating their edge values."""
    dims = 3


class _CircularPadNd(_ZeroPadNd):
    mode = "circular"


class CircularPad1d(_CircularPadNd):
    """Pad the last dim with values from its other end (wrap-around)."""
    dims = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims with wrap-around values."""
    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims with wrap-around values."""
    dims = 3
