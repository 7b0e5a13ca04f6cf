"""GPU memory as PyTorch reports it, read from CuPy's default memory pool.

``memory_allocated`` is the pool's bytes in use by arrays, ``memory_reserved`` the bytes
the pool holds from the driver (in use or cached for reuse). Without CUDA every reading is
0 and ``empty_cache`` does nothing, as in PyTorch. Peaks are tracked by a thin allocator
around the pool, installed by the first call to ``reset_peak_memory_stats`` or a
``max_memory_*`` reading, so code that never asks for a peak pays nothing.

>>> import axonic
>>> axonic.cuda.memory_allocated() >= 0
True
"""

from __future__ import annotations

from axonic.cuda._lazy import cupy_or_none, require_cupy
from axonic.cuda.devices import _index

_peak_allocated: dict = {}  # device index -> peak bytes in use since the last reset
_peak_reserved: dict = {}
_tracking = [False]


def _pool_reading(device, reading: str, what: str) -> int:
    cp = cupy_or_none()
    if cp is None:
        return 0
    with cp.cuda.Device(_index(device, what)):
        return int(getattr(cp.get_default_memory_pool(), reading)())


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory in use by arrays on ``device`` (0 without CUDA)."""
    return _pool_reading(device, "used_bytes", "memory_allocated")


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds on ``device``, in use or cached (0 without CUDA)."""
    return _pool_reading(device, "total_bytes", "memory_reserved")


def _track_peaks(cp) -> None:
    """Route CuPy's allocations through the pool with a peak update after each one."""
    if _tracking[0]:
        return
    pool = cp.get_default_memory_pool()

    def malloc(size):
        mem = pool.malloc(size)
        index = int(cp.cuda.runtime.getDevice())
        used, total = int(pool.used_bytes()), int(pool.total_bytes())
        if used > _peak_allocated.get(index, 0):
            _peak_allocated[index] = used
        if total > _peak_reserved.get(index, 0):
            _peak_reserved[index] = total
        return mem

    cp.cuda.set_allocator(malloc)
    _tracking[0] = True


def _peak(device, peaks: dict, current, what: str) -> int:
    cp = cupy_or_none()
    if cp is None:
        return 0
    _track_peaks(cp)
    index = _index(device, what)
    now = current(index)
    peaks[index] = max(peaks.get(index, 0), now)
    return peaks[index]


def max_memory_allocated(device=None) -> int:
    """The most bytes in use by arrays on ``device`` since the last reset (0 without CUDA)."""
    return _peak(device, _peak_allocated, memory_allocated, "max_memory_allocated")


def max_memory_reserved(device=None) -> int:
    """The most bytes the pool held on ``device`` since the last reset (0 without CUDA)."""
    return _peak(device, _peak_reserved, memory_reserved, "max_memory_reserved")


def reset_peak_memory_stats(device=None) -> None:
    """Start the peaks afresh from the current readings; raises without CUDA (as PyTorch)."""
    cp = require_cupy("reset_peak_memory_stats")
    _track_peaks(cp)
    index = _index(device, "reset_peak_memory_stats")
    _peak_allocated[index] = memory_allocated(index)
    _peak_reserved[index] = memory_reserved(index)


def empty_cache() -> None:
    """Hand the pool's cached, unused blocks back to the driver (nothing without CUDA)."""
    cp = cupy_or_none()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()
