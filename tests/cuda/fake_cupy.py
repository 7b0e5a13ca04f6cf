"""A fake CuPy for the CPU: just the ``cupy.cuda`` and memory-pool surface ``axonic.cuda`` calls.

It computes nothing. It records what ``axonic.cuda`` asked of it (seeds, devices set,
blocks freed) so that tests can check the CuPy branches without a GPU; on a GPU machine
the same functions run against the real CuPy in ``tests/cuda/test_cuda_on_device.py``.
"""

from __future__ import annotations

import types


class FakeMemoryPool:
    def __init__(self):
        self.used = 0
        self.total = 0
        self.freed_all = 0

    def malloc(self, size):
        self.used += size
        self.total = max(self.total, self.used)
        return ("memory", size)

    def free(self, size):
        self.used -= size

    def used_bytes(self):
        return self.used

    def total_bytes(self):
        return self.total

    def free_all_blocks(self):
        self.freed_all += 1
        self.total = self.used


class FakeDevice:
    def __init__(self, runtime, index=0):
        self.runtime, self.id = runtime, index
        self.synchronized = 0

    def __enter__(self):
        self._previous = self.runtime.current
        self.runtime.current = self.id
        return self

    def __exit__(self, *exc):
        self.runtime.current = self._previous
        return False

    def synchronize(self):
        self.runtime.synchronized.append(self.id)


class FakeRuntime:
    def __init__(self, count):
        self.count, self.current, self.synchronized = count, 0, []

    def getDeviceCount(self):  # noqa: N802  (CUDA's name)
        return self.count

    def getDevice(self):  # noqa: N802
        return self.current

    def setDevice(self, index):  # noqa: N802
        self.current = index

    def getDeviceProperties(self, index):  # noqa: N802
        return {"name": f"Fake GPU {index}".encode(), "totalGlobalMem": 80 << 30}


class FakeEvent:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.block, self.disable_timing = block, disable_timing
        self.recorded_on, self.done, self.time = "unrecorded", False, 0.0

    def record(self, stream=None):
        self.recorded_on, self.done = stream, True

    def synchronize(self):
        self.done = True


class FakeStream:
    null = None

    def __init__(self, null=False, non_blocking=False, priority=None):
        self.non_blocking, self.priority = non_blocking, priority
        self.waited, self.done, self.entered = [], True, 0

    def synchronize(self):
        self.done = True

    def wait_event(self, event):
        self.waited.append(event)

    def __enter__(self):
        self.entered += 1
        return self

    def __exit__(self, *exc):
        self.entered -= 1
        return False


FakeStream.null = FakeStream(null=True)


def make_fake_cupy(device_count: int = 2):
    """A module object standing in for ``cupy`` with ``device_count`` fake GPUs."""
    runtime = FakeRuntime(device_count)
    pools = {"default": FakeMemoryPool(), "pinned": FakeMemoryPool()}
    cp = types.SimpleNamespace(seeds=[], allocator=[None], ndarray=type("FakeArray", (), {}))
    cp.random = types.SimpleNamespace(seed=lambda s: cp.seeds.append((runtime.current, s)))
    cp.get_default_memory_pool = lambda: pools["default"]
    cp.get_default_pinned_memory_pool = lambda: pools["pinned"]
    cp.cuda = types.SimpleNamespace(
        runtime=runtime,
        Device=lambda index=0: FakeDevice(runtime, index),
        Event=FakeEvent,
        Stream=FakeStream,
        get_current_stream=lambda: FakeStream.null,
        get_elapsed_time=lambda start, end: end.time - start.time,
        set_allocator=lambda fn: cp.allocator.__setitem__(0, fn),
    )
    return cp
