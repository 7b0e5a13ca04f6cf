"""``DeferInterrupt``: hold Ctrl-C while an optimizer step and its bookkeeping run.

>>> with DeferInterrupt():
...     pass  # a SIGINT arriving in here is raised as KeyboardInterrupt on exit
"""

from __future__ import annotations

import signal
import threading


class DeferInterrupt:
    """A context manager: SIGINT inside it is remembered and raised when it exits, so a
    checkpoint never sees half a step. Outside the main thread it does nothing."""

    def __init__(self):
        self.hit = False
        self.old = None

    def __enter__(self):
        self.hit, self.old = False, None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, *_):
        self.hit = True

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        if self.hit and exc[0] is None:
            raise KeyboardInterrupt
