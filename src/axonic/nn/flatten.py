"""``Flatten`` and ``Unflatten``: reshape layers for the seam between conv and dense parts."""

from __future__ import annotations

import math

import numpy as np

from axonic.nn.module import Module
from axonic.ops.shape import flatten, unflatten


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one (by default all but the batch dim).

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Flatten()(axonic.ones(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise ValueError(f"Flatten: {name} must be an int, got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, input):
        n = max(input.ndim, 1)
        s, e = self.start_dim, self.end_dim
        if not (-n <= s < n and -n <= e < n) or (s % n) > (e % n):
            raise self.input_error(
                f"start_dim={s} and end_dim={self.end_dim} do not fit an input of shape "
                f"{tuple(input.shape)}")
        return flatten(input, s, e)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.Unflatten(1, (3, 4))(axonic.ones(2, 12)).shape
    (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise ValueError(f"Unflatten: dim must be an int, got {dim!r}")
        if not isinstance(unflattened_size, list | tuple) or not all(
                isinstance(v, int | np.integer) and not isinstance(v, bool)
                for v in unflattened_size):
            raise ValueError(f"Unflatten: unflattened_size must be a tuple of ints, "
                             f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = int(dim), tuple(unflattened_size)

    def forward(self, input):
        n = input.ndim
        if not -n <= self.dim < n:
            raise self.input_error(f"dim {self.dim} is out of range for an input of shape "
                                   f"{tuple(input.shape)}")
        size = input.shape[self.dim]
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if (-1 not in sizes and known != size) or (-1 in sizes and (known == 0 or size % known)):
            raise self.input_error(f"cannot unflatten dim {self.dim} of size {size} into "
                                   f"{sizes} (input shape {tuple(input.shape)})")
        return unflatten(input, self.dim, sizes)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
