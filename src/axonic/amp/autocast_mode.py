"""``autocast``: mark a region as mixed precision, with PyTorch's arguments.

The state is thread-local and per device type; ops compute in their inputs' dtypes.
"""

from __future__ import annotations

import functools
import threading

from axonic.backend import resolve_dtype

_DEFAULT_DTYPE = {"cpu": "bfloat16", "cuda": "float16"}


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": None, "cuda": None}


_STATE = _State()


def _check_device_type(device_type, who):
    if not isinstance(device_type, str) or device_type.split(":")[0] not in _DEFAULT_DTYPE:
        raise ValueError(f"{who}: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return device_type.split(":")[0]


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast`` accepts ``device_type`` (``'cpu'`` and ``'cuda'``)."""
    return isinstance(device_type, str) and device_type.split(":")[0] in _DEFAULT_DTYPE


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """True inside an enabled ``autocast(device_type)`` block."""
    return _STATE.enabled[_check_device_type(device_type, "is_autocast_enabled")]


def get_autocast_dtype(device_type: str):
    """The dtype ``autocast(device_type)`` was given (PyTorch's default when none)."""
    device_type = _check_device_type(device_type, "get_autocast_dtype")
    return resolve_dtype(_STATE.dtype[device_type] or _DEFAULT_DTYPE[device_type])


class autocast:
    """``with autocast("cuda", dtype=...)`` or ``@autocast("cpu")``: mark a region as
    mixed precision. Ops still compute in their inputs' dtypes (see the module docstring).

    >>> import axonic
    >>> with axonic.amp.autocast("cpu"):
    ...     axonic.amp.is_autocast_enabled("cpu")
    True
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type = _check_device_type(device_type, "autocast")
        if dtype is not None:
            dtype = resolve_dtype(dtype)
            if dtype.kind != "f" and dtype.name != "bfloat16":
                raise ValueError(f"autocast: dtype must be a floating dtype, got {dtype.name}")
        self.fast_dtype = dtype
        self.enabled = bool(enabled)

    def __enter__(self):
        d = self.device_type
        self._prev = (_STATE.enabled[d], _STATE.dtype[d])
        _STATE.enabled[d] = self.enabled
        if self.fast_dtype is not None:
            _STATE.dtype[d] = self.fast_dtype
        return self

    def __exit__(self, *exc):
        _STATE.enabled[self.device_type], _STATE.dtype[self.device_type] = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self.enabled):
                return func(*args, **kwargs)

        return wrapper


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """PyTorch's decorator for a custom Function's ``forward``; the function runs as is."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type="cuda"):
    """PyTorch's decorator for a custom Function's ``backward``; the function runs as is."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
