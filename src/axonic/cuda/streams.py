"""CUDA streams and events over CuPy's, with PyTorch's method names.

>>> import axonic
>>> callable(axonic.cuda.Event)
True
"""

from __future__ import annotations

from axonic.cuda._lazy import require_cupy


class Event:
    """A CUDA event: ``record`` it on a stream, then ``synchronize``, ``query`` or time it.

    ``start.elapsed_time(end)`` is the milliseconds between two recorded events made
    with ``enable_timing=True``. Raises without CUDA, as PyTorch.
    """

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        cp = require_cupy("Event")
        self._cp = cp
        self.event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                   interprocess=interprocess)

    def record(self, stream=None) -> None:
        self.event.record(None if stream is None else stream.stream)

    def synchronize(self) -> None:
        self.event.synchronize()

    def query(self) -> bool:
        return bool(self.event.done)

    def wait(self, stream=None) -> None:
        (current_stream() if stream is None else stream).wait_event(self)

    def elapsed_time(self, end_event: Event) -> float:
        return float(self._cp.cuda.get_elapsed_time(self.event, end_event.event))


class Stream:
    """A CUDA stream; ``with stream:`` queues the block's kernels on it."""

    def __init__(self, device=None, priority: int = 0, _stream=None):
        cp = require_cupy("Stream")
        self.stream = _stream if _stream is not None else cp.cuda.Stream(
            non_blocking=True, priority=priority or None)

    def synchronize(self) -> None:
        self.stream.synchronize()

    def query(self) -> bool:
        return bool(self.stream.done)

    def wait_event(self, event: Event) -> None:
        self.stream.wait_event(event.event)

    def wait_stream(self, stream: Stream) -> None:
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        self.stream.__enter__()
        return self

    def __exit__(self, *exc):
        return self.stream.__exit__(*exc)


def current_stream(device=None) -> Stream:
    """The stream kernels are queued on now."""
    cp = require_cupy("current_stream")
    return Stream(_stream=cp.cuda.get_current_stream())


def default_stream(device=None) -> Stream:
    """The device's default (null) stream."""
    cp = require_cupy("default_stream")
    return Stream(_stream=cp.cuda.Stream.null)


def stream(s: Stream | None):
    """``with axonic.cuda.stream(s):`` is ``with s:`` (``None`` leaves the stream as is)."""
    import contextlib

    return contextlib.nullcontext() if s is None else s
