"""``GradScaler``: PyTorch's dynamic loss scaling, an exact no-op when disabled.

The loss is multiplied by ``scale`` before backward so small float16 gradients do not
underflow; ``unscale_`` divides the gradients back and looks for inf/nan; ``step`` skips
the optimizer's step when it found any; ``update`` backs the scale off after an overflow
and grows it after ``growth_interval`` steps without one.
"""

from __future__ import annotations

import warnings

import numpy as np

from axonic.backend import cuda_is_available, get_array_module

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2., backoff_factor=.5,
    growth_interval=2000, enabled=True)``, as ``torch.amp.GradScaler``. As in PyTorch, a
    ``"cuda"`` scaler on a machine without a GPU warns and disables itself.

    >>> GradScaler("cpu", enabled=False).scale(3.0)
    3.0
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor should be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor should be in (0, 1), got "
                             f"{backoff_factor}")
        if not isinstance(growth_interval, int) or growth_interval <= 0:
            raise ValueError(f"GradScaler: growth_interval should be a positive int, got "
                             f"{growth_interval!r}")
        self._device = str(device).split(":")[0]
        if enabled and self._device == "cuda" and not cuda_is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.",
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._scale = None  # float32, made on first scale() as in PyTorch
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict] = {}  # id(optimizer) -> this iteration's record

    def is_enabled(self) -> bool:
        return self._enabled

    # --- the loop: scale -> backward -> (unscale_) -> step -> update --------------------
    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple of them) times the current scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
        if isinstance(outputs, list | tuple):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * float(self._scale)

    def _record(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY,
                                                              "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale (once per step) and note whether
        any is inf or nan. Call it before clipping gradients."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        record = self._record(optimizer)
        if record["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if record["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(1.0 / np.float64(self._scale))  # PyTorch: double reciprocal
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                g *= inv_scale.astype(g.dtype)
                p.grad._vc[0] += 1
                found = found or not bool(get_array_module(g).isfinite(g).all())
        record.update(stage=_UNSCALED, found_inf=found)

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` unless an unscaled gradient was inf or nan
        (then nothing, and None is returned). Unscales first if ``unscale_`` wasn't called."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale("step")
        record = self._record(optimizer)
        if record["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if record["stage"] == _READY:
            self.unscale_(optimizer)
        retval = None if record["found_inf"] else optimizer.step(*args, **kwargs)
        record["stage"] = _STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Set the scale for the next iteration: ``new_scale`` when given; otherwise times
        ``backoff_factor`` after an overflow, times ``growth_factor`` after
        ``growth_interval`` clean steps in a row."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            value = new_scale.item() if hasattr(new_scale, "item") else new_scale
            if not isinstance(value, float | int | np.floating) or isinstance(value, bool):
                raise TypeError("GradScaler.update: new_scale should be a float or a 1-element "
                                f"tensor, got {type(new_scale).__name__}")
            self._scale = np.float32(value)
        else:
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(r["found_inf"] for r in self._per_optimizer.values()):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):  # PyTorch keeps the old scale rather than inf
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def _check_scale(self, who):
        if self._scale is None:
            raise RuntimeError(f"GradScaler.{who}: attempted {who} but the scale has not been "
                               "set yet; call scaler.scale(loss) first")

    # --- settings and saving ------------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval and
        _growth_tracker (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict: the state_dict is empty, it was "
                               "probably saved from a disabled instance of GradScaler")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = np.float32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
