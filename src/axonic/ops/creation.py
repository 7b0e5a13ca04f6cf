"""Creation functions (not differentiable): zeros ones full arange linspace eye empty,
the random ones, the ``*_like`` variants, ``from_numpy``, ``as_tensor``, ``from_dlpack``."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make, tensor
from axonic.backend import as_device, get_array_module, get_default_dtype, resolve_dtype, to_device
from axonic.backend.random import default_generator
from axonic.ops._registry import method, op


def _shape(size, name):
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"{name}: sizes must be non-negative ints, got {size!r}")
    return tuple(int(s) for s in size)


def _finish(arr, device, requires_grad):
    if device is not None and as_device(device).type != "cpu":
        arr = to_device(arr, device)
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


@op()
def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    >>> import axonic
    >>> axonic.zeros(2, 3).shape
    (2, 3)
    """
    return _finish(np.zeros(_shape(size, "zeros"), resolve_dtype(dtype)), device, requires_grad)


@op()
def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(size, "ones"), resolve_dtype(dtype)), device, requires_grad)


@op()
def empty(*size, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(size, "empty"), resolve_dtype(dtype)), device, requires_grad)


@op()
def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 np.int64 if isinstance(fill_value, int) else get_default_dtype())
    size = _shape((size,) if isinstance(size, int) else tuple(size), "full")
    return _finish(np.full(size, fill_value, resolve_dtype(dtype)), device, requires_grad)


@op()
def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer
    arguments, else the default float dtype.

    >>> import axonic
    >>> axonic.arange(4)
    tensor([0, 1, 2, 3])
    >>> axonic.arange(0, 1, 0.25)
    tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    return _finish(np.arange(start, end, step).astype(resolve_dtype(dtype)), device,
                   requires_grad)


@op()
def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps).astype(resolve_dtype(dtype)), device,
                   requires_grad)


@op()
def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=resolve_dtype(dtype)), device, requires_grad)


def _floating(dtype, name):
    d = resolve_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"{name}: dtype must be floating point, got {d.name}")
    return d


@op()
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform random values in [0, 1)."""
    g = generator or default_generator
    arr = g.uniform(0.0, 1.0, _shape(size, "rand"), _floating(dtype, "rand"))
    return _finish(arr, device, requires_grad)


@op()
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal random values, reproducible with ``axonic.manual_seed``.

    >>> import axonic
    >>> _ = axonic.manual_seed(0)
    >>> a = axonic.randn(3)
    >>> _ = axonic.manual_seed(0)
    >>> bool((axonic.randn(3) == a).all())
    True
    """
    g = generator or default_generator
    arr = g.normal(0.0, 1.0, _shape(size, "randn"), _floating(dtype, "randn"))
    return _finish(arr, device, requires_grad)


@op()
def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Random integers in [low, high): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None:
        if high is None or not isinstance(high, tuple | list):
            raise TypeError("randint: size is required, e.g. randint(10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    g = generator or default_generator
    arr = g.integers(low, high, _shape((tuple(size),), "randint"),
                     resolve_dtype(dtype or np.int64))
    return _finish(arr, device, requires_grad)


@op()
def randperm(n, generator=None, dtype=None, device=None):
    g = generator or default_generator
    return _finish(g.permutation(n).astype(resolve_dtype(dtype or np.int64)), device, False)


@op()
def normal(mean, std, size, generator=None, dtype=None, device=None, requires_grad=False):
    g = generator or default_generator
    arr = g.normal(mean, std, _shape((tuple(size),), "normal"), _floating(dtype, "normal"))
    return _finish(arr, device, requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*input.shape, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad, **kw)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and by default dtype, device) of ``input``."
    return like


zeros_like = op("zeros_like")(_like(zeros))
ones_like = op("ones_like")(_like(ones))
empty_like = op("empty_like")(_like(empty))
rand_like = op("rand_like")(_like(rand))
randn_like = op("randn_like")(_like(randn))


@op()
def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


@op()
def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    resolve_dtype(array.dtype)
    return _make(array)


@op()
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but without a copy when ``data`` already fits."""
    if isinstance(data, Tensor):
        return data.to(*(a for a in (device, dtype) if a is not None))
    if isinstance(data, np.ndarray) or get_array_module(data) is not np:
        arr = data if dtype is None else data.astype(resolve_dtype(dtype), copy=False)
        return _finish(arr, device, False)
    return tensor(data, dtype=dtype, device=device)


@op()
def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with any object that speaks DLPack (NumPy, CuPy, PyTorch).

    >>> import numpy as np, axonic
    >>> axonic.from_dlpack(np.arange(3.0))
    tensor([0., 1., 2.], dtype=axonic.float64)
    """
    dev_type = ext.__dlpack_device__()[0] if hasattr(ext, "__dlpack_device__") else 1
    if dev_type == 1:  # kDLCPU
        return _make(np.from_dlpack(ext))
    xp = get_array_module(to_device(np.empty(0), "cuda"))  # the GPU's array module
    return _make(xp.from_dlpack(ext))


# --- new tensors like this one: x.new_zeros(2, 3) has x's dtype and device ----------------
def _new(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        shape = size[0] if len(size) == 1 and isinstance(size[0], tuple | list) else size
        return full(tuple(shape), fill, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    return new


@op(export=False, methods=("new_full",))
def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return _new(fill_value)(self, size, dtype=dtype, device=device, requires_grad=requires_grad)


@op(export=False, methods=("new_tensor",))
def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


method("new_zeros", _new(0))
method("new_ones", _new(1))
method("new_empty", _new(0))
