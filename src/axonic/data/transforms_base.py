"""The base of batch transforms: ``Transform`` (a batch or one image, a Tensor or an array,
in and out), ``Compose``, ``Lambda``, and the generator random transforms draw from (the
call's, else the one a ``DataLoader`` set for its batch, else axonic's default).

>>> import numpy as np
>>> Compose([Lambda(lambda x: x * 2)])(np.ones(2)).tolist()
[2.0, 2.0]
"""

from __future__ import annotations

import contextlib

from axonic.autograd.tensor import Tensor, _make
from axonic.backend.random import Generator, default_generator

_ACTIVE = [None]  # the generator a DataLoader set for the batch it is building


@contextlib.contextmanager
def using_generator(generator):
    """Make random transforms inside the block draw from ``generator`` (None: no change;
    a callable: called for the generator the first time a transform needs one)."""
    prev = _ACTIVE[0]
    _ACTIVE[0] = generator if generator is not None else prev
    try:
        yield
    finally:
        _ACTIVE[0] = prev


def _generator(explicit):
    if explicit is not None:
        return explicit
    g = _ACTIVE[0]
    if g is not None and not isinstance(g, Generator):  # a factory: built on first use
        g = _ACTIVE[0] = g()
    return g or default_generator


class Transform:
    """Base class: subclasses define ``apply(batch_array, generator) -> batch_array``."""

    generator = None

    def __call__(self, x, generator=None):
        is_tensor = isinstance(x, Tensor)
        a = x._data if is_tensor else x
        if not hasattr(a, "ndim"):
            raise TypeError(f"{type(self).__name__}: expected a Tensor or an array, got "
                            f"{type(x).__name__}")
        single = a.ndim == 3
        if a.ndim not in (3, 4) and self.needs_image:
            raise ValueError(f"{type(self).__name__}: expected a batch (N, C, H, W) or an "
                             f"image (C, H, W), got shape {tuple(a.shape)}")
        if single:
            a = a[None]
        out = self.apply(a, _generator(generator or self.generator))
        if single:
            out = out[0]
        return _make(out) if is_tensor else out

    needs_image = True

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` one after another.

    >>> import numpy as np
    >>> from axonic.data.transforms import Normalize
    >>> Compose([Normalize([0.5], [0.5])])(np.ones((1, 1, 2, 2), np.float32)).max()
    np.float32(1.0)
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x, generator=None):
        for t in self.transforms:
            x = t(x, generator) if isinstance(t, Transform) else t(x)
        return x


class Lambda(Transform):
    """Wrap a function of the batch as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x, generator=None):
        return self.fn(x)
