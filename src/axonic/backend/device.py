"""Devices and their array modules. CuPy is imported lazily, here only."""

from __future__ import annotations

import numpy as np

_cupy = None
_cupy_checked = False


def _load_cupy():
    """Import CuPy once, on first use; ``None`` when it is not installed or has no GPU."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no CuPy, no driver, or no device: CUDA is unavailable
            _cupy = None
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return _load_cupy() is not None


class Device:
    """A device: ``type`` is ``"cpu"`` or ``"cuda"``; ``index`` the GPU number (or None)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        self.type = type
        self.index = index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = as_device(other)
        return isinstance(other, Device) and (self.type, self.index or 0) == (
            other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))


CPU = Device("cpu")


def as_device(device) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``Device``; raise on anything else."""
    if device is None:
        return CPU
    if isinstance(device, Device):
        return device
    if isinstance(device, str):
        kind, _, idx = device.partition(":")
        if kind == "cpu" and not idx:
            return CPU
        if kind == "cuda" and (not idx or idx.isdigit()):
            return Device("cuda", int(idx) if idx else None)
    raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'")


_ndarray, _numpy_types = np.ndarray, (np.ndarray, np.generic)


def get_array_module(array):
    """The array module (``numpy`` or ``cupy``) that owns ``array``."""
    if array.__class__ is _ndarray or isinstance(array, _numpy_types):  # every op asks
        return np
    cp = _cupy
    if cp is not None and isinstance(array, cp.ndarray):
        return cp
    return np


def device_of(array) -> Device:
    """The device an array lives on."""
    if isinstance(array, np.ndarray | np.generic) or _cupy is None:
        return CPU
    if isinstance(array, _cupy.ndarray):
        return Device("cuda", array.device.id)
    return CPU


def to_device(array, device):
    """Move ``array`` to ``device`` (a copy only when it has to move)."""
    dev = as_device(device)
    if dev.type == "cpu":
        return to_numpy(array)
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(
            f"device {str(dev)!r} requested but CUDA is not available "
            "(install CuPy, e.g. `pip install axonic[gpu]`, on a machine with an NVIDIA GPU)"
        )
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(array)


def to_numpy(array):
    """A NumPy array with the contents of ``array`` (no copy if it already is one)."""
    if isinstance(array, np.ndarray):
        return array
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)
