"""Which GPUs there are and which one is current, as ``torch.cuda`` names it.

>>> import axonic
>>> axonic.cuda.device_count() >= 0
True
"""

from __future__ import annotations

from axonic.cuda._lazy import cupy_or_none, require_cupy


def device_count() -> int:
    """The number of GPUs CuPy sees; 0 without CuPy or a GPU (as PyTorch)."""
    cp = cupy_or_none()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the current GPU; raises without one (as PyTorch)."""
    return int(require_cupy("current_device").cuda.runtime.getDevice())


def _index(device, what: str) -> int:
    """A GPU index from ``None`` (current), an int, ``"cuda:N"`` or an ``axonic.device``."""
    if device is None:
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        from axonic.backend import as_device

        dev = as_device(device)
        if dev.type != "cuda":
            raise ValueError(f"axonic.cuda.{what}: expected a cuda device, got {device!r}")
        index = current_device() if dev.index is None else dev.index
    count = device_count()
    if not 0 <= index < count:
        raise ValueError(f"axonic.cuda.{what}: device {index} does not exist "
                         f"(there are {count} GPUs)")
    return index


def set_device(device) -> None:
    """Make ``device`` the current GPU; a negative index does nothing (as PyTorch)."""
    if isinstance(device, int) and device < 0:
        return
    cp = require_cupy("set_device")
    cp.cuda.runtime.setDevice(_index(device, "set_device"))


class device:  # noqa: N801  (PyTorch's name)
    """Context manager that makes ``index`` the current GPU inside the ``with`` block."""

    def __init__(self, index):
        self.index = index
        self._previous = None

    def __enter__(self):
        if self.index is not None and not (isinstance(self.index, int) and self.index < 0):
            self._previous = current_device()
            set_device(self.index)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            set_device(self._previous)
        return False


def synchronize(device=None) -> None:
    """Wait until every kernel queued on ``device`` (default: the current GPU) has finished."""
    cp = require_cupy("synchronize")
    with cp.cuda.Device(_index(device, "synchronize")) as d:
        d.synchronize()


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``"NVIDIA H200"``."""
    require_cupy("get_device_name")
    props = get_device_properties(device)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_properties(device=None) -> dict:
    """CUDA's device properties as a dict (``name``, ``totalGlobalMem``, ``major``, ...)."""
    cp = require_cupy("get_device_properties")
    return dict(cp.cuda.runtime.getDeviceProperties(_index(device, "get_device_properties")))


def is_initialized() -> bool:
    """True once CuPy has been loaded and found a GPU."""
    from axonic.backend import device as backend_device

    return backend_device._cupy is not None
