"""Holding Ctrl-C while a training batch runs, so a checkpoint never sees half a step.

``InterruptGate`` installs one SIGINT handler for a whole ``fit``; ``hold()`` and
``release()`` around each batch are two attribute writes (no system calls per step). A
SIGINT while held is remembered and raised as ``KeyboardInterrupt`` at ``release()``; a
second one while held is raised at once (a batch that hangs can still be stopped).

>>> with InterruptGate() as gate:
...     gate.hold()
...     gate.release()  # a SIGINT that arrived in between would be raised here
"""

from __future__ import annotations

import signal
import threading


class InterruptGate:
    """A context manager owning the SIGINT handler; outside the main thread it does
    nothing (signals only reach the main thread)."""

    def __init__(self):
        self.holding = False
        self.hit = False
        self.old = None
        self.installed = False

    def __enter__(self):
        self.holding = self.hit = False
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._handler)
            self.installed = True
        return self

    def __exit__(self, *exc):
        self.holding = False
        if self.installed:
            signal.signal(signal.SIGINT, self.old)
            self.installed = False

    def hold(self) -> None:
        self.holding = True

    def release(self) -> None:
        """Stop holding; raise the interrupt that arrived while held."""
        self.holding = False
        if self.hit:
            self.hit = False
            raise KeyboardInterrupt

    def drop(self) -> None:
        """Stop holding without raising (the batch ended with another exception)."""
        self.holding = self.hit = False

    def _handler(self, signum, frame):
        if self.holding and not self.hit:
            self.hit = True
            return
        self.hit = False
        if callable(self.old):
            self.old(signum, frame)
        else:
            raise KeyboardInterrupt


class DeferInterrupt(InterruptGate):
    """``with DeferInterrupt(): ...``: hold SIGINT for the block, raise it on exit."""

    def __enter__(self):
        super().__enter__()
        self.hold()
        return self

    def __exit__(self, *exc):
        hit = self.hit
        super().__exit__(*exc)
        if hit and exc[0] is None:
            raise KeyboardInterrupt
