"""The dtypes axonic supports, as NumPy dtype objects, and the default float dtype."""

from __future__ import annotations

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

# uint8/int8/int16 appear in image data and masks; accepted, never differentiated.
_SUPPORTED = {
    d.name: d
    for d in (float16, float32, float64, int32, int64, bool_, np.dtype("uint8"),
              np.dtype("int8"), np.dtype("int16"))
}
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64,
            "int": int32, "bool": bool_}

_default = [float32]


def bfloat16_dtype() -> np.dtype:
    """The bfloat16 dtype of ``ml_dtypes`` (imported on first use; storage and elementwise
    NumPy math work, autograd does not: NumPy sees it as a non-float kind)."""
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError("bfloat16 needs ml_dtypes: pip install 'axonic[bf16]'") from None
    return np.dtype(ml_dtypes.bfloat16)


def resolve_dtype(dtype) -> np.dtype:
    """Turn ``axonic.float32``, ``"float32"``, ``np.float32`` or ``float`` into a dtype.

    Raises ``TypeError`` naming what was received and what is allowed.

    >>> resolve_dtype("double"), resolve_dtype(float), resolve_dtype(None)
    (dtype('float64'), dtype('float32'), dtype('float32'))
    """
    if dtype is None:
        return _default[0]
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if dtype is float:
        return _default[0]
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, str) and dtype == "bfloat16":
        return bfloat16_dtype()
    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.name not in _SUPPORTED and d.name != "bfloat16":
        raise TypeError(
            f"unsupported dtype {dtype!r}; expected one of {sorted(_SUPPORTED)}"
        )
    return d


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def get_default_dtype() -> np.dtype:
    return _default[0]


def set_default_dtype(dtype) -> None:
    """Set the dtype of Python floats and of creation functions (float32 or float64)."""
    d = resolve_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"default dtype must be a floating dtype, got {d.name}")
    _default[0] = d
