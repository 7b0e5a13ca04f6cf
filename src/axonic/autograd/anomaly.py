"""Anomaly mode: raise at the first op whose forward or backward produced NaN or inf."""

from __future__ import annotations

from axonic.autograd.grad_mode import STATE
from axonic.backend import get_array_module


class AnomalyError(RuntimeError):
    """An op produced a non-finite value while anomaly detection was on."""


class detect_anomaly:
    """Check every op's output and every gradient for NaN/inf, naming the first op at fault.

    >>> import axonic
    >>> x = axonic.tensor([-1.0], requires_grad=True)
    >>> with axonic.autograd.detect_anomaly():
    ...     y = x.log()   # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    AnomalyError: Function 'Log' returned nan values in its forward output 0
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = STATE.anomaly
        STATE.anomaly = self.check_nan

    def __exit__(self, *exc):
        STATE.anomaly = self._prev
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


def check_finite(array, fn_name: str, where: str) -> None:
    """Raise ``AnomalyError`` if a floating array holds NaN or inf."""
    if array is None or array.dtype.kind not in "fc":
        return
    xp = get_array_module(array)
    if not bool(xp.isfinite(array).all()):
        kind = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise AnomalyError(
            f"Function '{fn_name}' returned {kind} values in its {where}. "
            "Look at this op's inputs: the first non-finite value of the run appeared here."
        )
