"""Changing dtype or device: ``to``, ``float``, ``double``, ``long`` ... Differentiable
between floating dtypes and across devices."""

from __future__ import annotations

import numpy as np

from axonic.autograd.function import Function
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import Device, as_device, device_of, resolve_dtype, to_device
from axonic.ops._registry import op
from axonic.ops._spec import OpSpec


class Cast(Function):

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.to(self.in_dtype) if self._graph_mode else g.astype(self.in_dtype)

    def to_onnx(self, g, x, dtype):
        return g.cast(x, g.out_dtype)


class ToDevice(Function):

    def forward(self, x, device):
        self.src = device_of(x)
        return to_device(x, device)

    def backward(self, g):
        return g.to(self.src) if self._graph_mode else to_device(g, self.src)


def _parse_to(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, Device) or isinstance(a, str) and a.startswith(("cpu", "cuda")):
            device = a
        elif isinstance(a, str):
            try:
                dtype = resolve_dtype(a)
            except TypeError as e:
                allowed = str(e).split("; ")[-1]
                raise ValueError(
                    f"to(): {a!r} is neither a device (expected 'cpu', 'cuda' or 'cuda:N') "
                    f"nor a dtype ({allowed})"
                ) from None
        elif a is not None:
            dtype = a
    return device, dtype, copy


@op(methods=("to",))
def to(input, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``.

    Returns ``input`` itself when nothing changes (unless ``copy=True``).
    """
    device, dtype, copy = _parse_to(args, dict(kwargs))
    out = input
    if dtype is not None:
        dt = resolve_dtype(dtype)
        if dt != out._data.dtype:
            if dt.kind in "fc" and out._data.dtype.kind in "fc":
                out = Cast.apply(out, dtype=dt)
            else:
                out = _make(out._data.astype(dt))
    if device is not None:
        dev = as_device(device)
        if dev != out.device:
            out = ToDevice.apply(out, device=dev)
    if copy and out is input:
        out = input.clone()
    return out


def _caster(dtype_name):
    def cast(input):
        return to(input, np.dtype(dtype_name))

    cast.__name__ = dtype_name
    return cast


float = op(export=False, methods=("float",))(_caster("float32"))
double = op(export=False, methods=("double",))(_caster("float64"))
half = op(export=False, methods=("half",))(_caster("float16"))
long = op(export=False, methods=("long",))(_caster("int64"))
int = op(export=False, methods=("int",))(_caster("int32"))
bool = op(export=False, methods=("bool",))(_caster("bool"))


@op(export=False, methods=("type_as",))
def type_as(input, other):
    return to(input, other.dtype)


class Clone(Function):
    onnx_op = "Identity"

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


@op(methods=("clone",))
def clone(input):
    """A copy of the data that stays in the graph."""
    return Clone.apply(input)


SPECS = [
    OpSpec("clone", clone, np.copy, [((3, 2),), ((),)], lambda a: a.clone()),
]
