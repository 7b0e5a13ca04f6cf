"""Whether operations are recorded for backward: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Thread-local, as in PyTorch: a data-loading thread never switches off recording for the
training thread. Each works as a context manager and as a decorator.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True
    anomaly = False


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


class _GradMode:
    """Base of the context managers: set a mode on enter, restore the old one on exit."""

    mode = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Do not record operations: results have ``requires_grad=False``.

    >>> import axonic
    >>> x = axonic.ones(2, requires_grad=True)
    >>> with axonic.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):
    """Record operations again inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode``: no recording, as ``no_grad`` (``inference_mode(False)``
    records again); a context manager and a decorator, with or without the call.

    >>> import axonic
    >>> @axonic.inference_mode()
    ... def predict(x):
    ...     return x * 2
    >>> predict(axonic.ones(2, requires_grad=True)).requires_grad
    False
    """

    def __init__(self, mode: bool = True):
        self.mode = not mode

    def __new__(cls, mode=True):
        if callable(mode):  # used bare: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __call__(self, func):
        mode = not self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (recording off)."""
    return not STATE.enabled


class set_grad_enabled(_GradMode):
    """Switch recording on or off: ``set_grad_enabled(False)`` is ``no_grad()``.

    Takes effect at once (so it works as a plain call) and as a context manager.
    """

    def __init__(self, mode: bool):
        self._prev = STATE.enabled
        self.mode = bool(mode)
        STATE.enabled = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, func):
        mode = self.mode
        STATE.enabled = self._prev

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper
