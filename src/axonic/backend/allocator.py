"""Keep freed array memory in the process instead of handing it back to the OS each step.

A training step allocates and frees the same large temporaries every time. With glibc's
default settings, freeing a chunk at the top of the heap (or one that was ``mmap``-ed)
returns its pages to the OS, and the next step pays a page fault for every 4 KiB it
touches again: thousands per step in the CNN and Transformer benchmarks, up to a fifth
of the step's time. Raising glibc's trim and mmap thresholds keeps those pages mapped,
as the allocators of other frameworks do. The cost is that the process's resident size
stays at its high-water mark instead of shrinking between steps.

Set ``AXONIC_TUNE_MALLOC=0`` before importing axonic to leave the allocator alone. On
systems without glibc this does nothing.
"""

from __future__ import annotations

import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_MAX = 32 * 1024 * 1024  # glibc's largest allowed mmap threshold on 64-bit systems
_TRIM = 256 * 1024 * 1024  # keep up to this much free memory at the top of the heap

tuned = False


def tune_malloc() -> bool:
    """Raise glibc's trim threshold to 256 MiB and mmap threshold to 32 MiB; True if done."""
    global tuned
    if tuned or not sys.platform.startswith("linux"):
        return tuned
    if os.environ.get("AXONIC_TUNE_MALLOC", "1") == "0":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    tuned = bool(mallopt(_M_TRIM_THRESHOLD, _TRIM)) and bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX))
    return tuned
