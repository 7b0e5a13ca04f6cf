"""``ScheduleStepper``: steps a learning-rate scheduler every epoch or every optimizer step.

``ReduceLROnPlateau`` is stepped with a monitored value from the logs (``val_loss`` when
there is validation, ``loss`` otherwise); every other scheduler with ``step()``.

>>> import axonic
>>> from axonic import optim
>>> opt = optim.SGD([axonic.nn.Parameter(axonic.zeros(1))], lr=1.0)
>>> stepper = ScheduleStepper(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), "batch")
>>> stepper.after_optimizer_step({"loss": 0.3}); stepper.after_epoch({"loss": 0.3})
>>> opt.param_groups[0]["lr"]
0.5
"""

from __future__ import annotations

from axonic.optim.lr_scheduler import ReduceLROnPlateau

INTERVALS = ("epoch", "batch")


def step_scheduler(scheduler, logs: dict | None = None, monitor: str = "val_loss") -> None:
    """One ``scheduler.step()``; ``ReduceLROnPlateau`` gets ``logs[monitor]`` (or
    ``logs['loss']`` when ``monitor`` is not there, as without validation data)."""
    if not isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step()
        return
    logs = logs or {}
    key = monitor if monitor in logs else "loss"
    if key not in logs:
        raise ValueError(f"ReduceLROnPlateau: needs {monitor!r} or 'loss' in the logs; "
                         f"available: {', '.join(sorted(logs)) or 'none'}")
    scheduler.step(logs[key])


class ScheduleStepper:
    """Step ``scheduler`` (an ``optim.lr_scheduler`` object, or None for no schedule)
    after each epoch (``interval='epoch'``) or each optimizer step (``'batch'``)."""

    def __init__(self, scheduler=None, interval: str = "epoch", monitor: str = "val_loss"):
        if interval not in INTERVALS:
            raise ValueError(f"ScheduleStepper: interval must be 'epoch' or 'batch', got "
                             f"{interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = monitor

    def after_optimizer_step(self, logs: dict) -> None:
        """Called inside each optimizer step (so a checkpoint taken after it includes it)."""
        if self.scheduler is not None and self.interval == "batch":
            step_scheduler(self.scheduler, logs, self.monitor)

    def after_epoch(self, logs: dict) -> None:
        if self.scheduler is not None and self.interval == "epoch":
            step_scheduler(self.scheduler, logs, self.monitor)

    def state_dict(self) -> dict | None:
        return None if self.scheduler is None else self.scheduler.state_dict()

    def load_state_dict(self, state: dict | None) -> None:
        if self.scheduler is not None and state is not None:
            self.scheduler.load_state_dict(state)
