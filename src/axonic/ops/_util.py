"""Small helpers shared by the op files: argument normalisation and error messages."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make, tensor
from axonic.backend import get_array_module, get_default_dtype


def xp_of(*arrays):
    for a in arrays:
        if isinstance(a, Tensor):
            return get_array_module(a._data)
        if a is not None and not isinstance(a, int | float | bool):
            return get_array_module(a)
    return np


def norm_dim(dim, ndim: int, op: str):
    """Normalise ``dim`` (int, tuple or None) into a tuple of non-negative axes or None."""
    if dim is None:
        return None
    if isinstance(dim, int | np.integer):
        dims = (dim,)
    elif isinstance(dim, tuple | list):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    out = []
    for d in dims:
        if not isinstance(d, int | np.integer):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a value in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])"
            )
        out.append(int(d) % max(ndim, 1))
    return tuple(out)


def dim_arg(dim, axis, op):
    """Accept PyTorch's ``dim`` or NumPy's ``axis`` (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass dim or axis, not both")
        return axis
    return dim


def broadcast_error(op: str, a_shape, b_shape) -> ValueError:
    """The error for shapes that do not broadcast, naming the op, both shapes and the axis."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    n = max(len(a_shape), len(b_shape))
    pa = (1,) * (n - len(a_shape)) + a_shape
    pb = (1,) * (n - len(b_shape)) + b_shape
    axis = next((i - n for i in range(n) if pa[i] != pb[i] and 1 not in (pa[i], pb[i])), None)
    return ValueError(
        f"{op}: shapes {a_shape} and {b_shape} cannot be broadcast together "
        f"(sizes {pa[axis]} and {pb[axis]} differ at dim {axis}; each pair of sizes, "
        "aligned from the right, must be equal or 1)"
    )


def float_result(a):
    """Integer/bool data promoted to the default float dtype (as PyTorch does for
    true division and float scalars); floating data unchanged."""
    if isinstance(a, Tensor):
        if a._data.dtype.kind in "biu":
            return a.to(get_default_dtype())
        return a
    return a


def as_operand(x):
    """Tensors and Python numbers pass through; NumPy scalars become Python numbers (so they
    promote like PyTorch's scalars); lists and arrays become constants."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):  # before int/float: np.float64 is a subclass of float
        return x.item()
    if isinstance(x, int | float):
        return x
    if isinstance(x, list | tuple):
        return tensor(x)
    return _make(x) if hasattr(x, "shape") else _make(np.asarray(x))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2}  # "V": ml_dtypes' bfloat16


def _category(x) -> int:
    if isinstance(x, Tensor):
        return _CATEGORY[x._data.dtype.kind]
    return 0 if isinstance(x, bool) else 1 if isinstance(x, int) else 2


def promote(a, b, true_div=False):
    """PyTorch's type promotion on top of NumPy's: bool < integer < floating. An operand of a
    lower category takes the higher one's dtype (a Python float means the default float
    dtype); true division of integers gives the default float dtype; a 0-d float tensor
    follows a dimensioned float tensor of another precision."""
    ca, cb = _category(a), _category(b)
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    if true_div and ca < 2 and cb < 2:
        fl = get_default_dtype()
        return (a.to(fl) if a_t else a), (b.to(fl) if b_t else b)
    if ca == cb:
        if ca == 2 and a_t and b_t and a._data.dtype != b._data.dtype:
            if a._data.ndim == 0 and b._data.ndim:
                a = a.to(b._data.dtype)
            elif b._data.ndim == 0 and a._data.ndim:
                b = b.to(a._data.dtype)
        return a, b
    if ca < cb and a_t:
        a = a.to(b._data.dtype if b_t else get_default_dtype() if cb == 2 else np.int64)
    elif cb < ca and b_t:
        b = b.to(a._data.dtype if a_t else get_default_dtype() if ca == 2 else np.int64)
    return a, b


def common_dtype(tensors):
    """The dtype PyTorch gives tensors joined together (cat, stack): the highest category
    (bool < integer < floating) wins, NumPy's promotion within it."""
    top = max(_CATEGORY[t._data.dtype.kind] for t in tensors)
    return np.result_type(*[t._data.dtype for t in tensors if _CATEGORY[t._data.dtype.kind] == top])
