"""``LearningRateScheduler``: set the learning rate each epoch from a function or an
``optim.lr_scheduler`` object."""

from __future__ import annotations

from axonic.optim.lr_scheduler import LRScheduler
from axonic.train.callbacks.base import Callback
from axonic.train.schedule import step_scheduler


class LearningRateScheduler(Callback):
    """``schedule(epoch, lr) -> new_lr`` (Keras's form), called before each epoch; or an
    ``optim.lr_scheduler`` object, stepped after each epoch (``ReduceLROnPlateau`` gets
    ``monitor`` from the logs).

    >>> cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    >>> cb.schedule(0, 0.1)
    0.05
    """

    def __init__(self, schedule, monitor: str = "val_loss", verbose: int = 0):
        self.is_object = isinstance(schedule, LRScheduler)
        if not self.is_object and not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be a function (epoch, lr) "
                            f"-> lr or an optim.lr_scheduler object, got {schedule!r}")
        self.schedule = schedule
        self.monitor = monitor
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if self.is_object:
            return
        groups = self.trainer.optimizer.param_groups
        lr = self.schedule(epoch, float(groups[0]["lr"]))
        if not isinstance(lr, int | float) or isinstance(lr, bool):
            raise TypeError(f"LearningRateScheduler: the schedule returned {lr!r} for epoch "
                            f"{epoch}; it must return a number")
        for g in groups:
            g["lr"] = float(lr)
        if logs is not None:
            logs["lr"] = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if self.is_object:
            step_scheduler(self.schedule, logs, self.monitor)

    def state_dict(self) -> dict:
        return {"schedule": self.schedule.state_dict()} if self.is_object else {}

    def load_state_dict(self, state: dict) -> None:
        if self.is_object and "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])
