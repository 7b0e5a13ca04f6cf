"""``torch.accelerator``: which accelerator axonic computes on (CUDA through CuPy, or none).

>>> import axonic
>>> axonic.accelerator.current_accelerator() in (None, axonic.device("cuda"))
True
"""

from __future__ import annotations

from axonic.backend import Device, cuda_is_available

__all__ = ["current_accelerator", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    """True when a CUDA device is usable through CuPy."""
    return cuda_is_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """``device("cuda")`` when a GPU is usable, else None (PyTorch's answer on a CPU-only
    machine)."""
    return Device("cuda") if cuda_is_available() else None


def device_count() -> int:
    """The number of CUDA devices CuPy sees (0 without a GPU)."""
    if not cuda_is_available():
        return 0
    from axonic.cuda.devices import device_count as cuda_device_count

    return cuda_device_count()


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work to finish (nothing to wait for on the CPU)."""
    if cuda_is_available():
        from axonic.cuda.devices import synchronize as cuda_synchronize

        cuda_synchronize(device)
