"""Moving a ``Module``'s parameters and buffers between devices and dtypes in place: the
Parameter objects stay the same, so an optimizer built before the move keeps working."""

from __future__ import annotations

from axonic.autograd.grad_mode import no_grad
from axonic.backend import resolve_dtype, to_device


def apply_arrays(module, convert):
    """Replace the array of every parameter and buffer (and gradient) by ``convert(array)``.

    >>> import numpy as np
    >>> from axonic import nn
    >>> layer = apply_arrays(nn.Linear(2, 1), lambda a: a.astype(np.float64))
    >>> layer.weight.dtype
    dtype('float64')
    """
    with no_grad():
        for m in module.modules():
            for store in ("_parameters", "_buffers"):
                for t in m.__dict__[store].values():
                    if t is None:
                        continue
                    new = convert(t._data)
                    if new is not t._data:
                        t._data = new
                        if t.grad is not None:
                            t.grad._data = convert(t.grad._data)
    return module


def move(module, args, kwargs):
    """``Module.to(*args, **kwargs)``: a device, a floating dtype, or both."""
    from axonic.ops.convert import _parse_to

    device, dtype, _ = _parse_to(args, dict(kwargs))
    dt = resolve_dtype(dtype) if dtype is not None else None
    if dt is not None and dt.kind != "f":
        raise TypeError(f"Module.to: only floating dtypes are allowed, got {dt.name}")

    def convert(a):
        if dt is not None and a.dtype.kind == "f" and a.dtype != dt:
            a = a.astype(dt)
        if device is not None:
            a = to_device(a, device)
        return a

    return apply_arrays(module, convert)
