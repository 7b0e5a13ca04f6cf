"""Reading a monitored value from the logs and deciding whether it improved."""

from __future__ import annotations

import math

_HIGHER_IS_BETTER = ("acc", "f1", "auc", "precision", "recall", "r2")


def resolve_mode(who: str, monitor: str, mode: str) -> str:
    """'min' or 'max'; 'auto' picks 'max' for accuracy-like names, 'min' otherwise."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if any(name.startswith(k) for k in _HIGHER_IS_BETTER) else "min"


def monitored(who: str, monitor: str, logs: dict) -> float:
    """The value of ``monitor`` in ``logs``, or a ValueError listing what is there."""
    if monitor not in logs:
        raise ValueError(f"{who}: monitor {monitor!r} is not in the logs; available: "
                         f"{', '.join(sorted(logs))} (val_* needs validation data)")
    return float(logs[monitor])


def improved(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta
