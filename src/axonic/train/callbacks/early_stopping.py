"""``EarlyStopping``: stop when a monitored value stops improving."""

from __future__ import annotations

import numpy as np

from axonic.train.callbacks._monitor import improved, monitored, resolve_mode
from axonic.train.callbacks.base import Callback


class EarlyStopping(Callback):
    """Stop training after ``patience`` epochs without an improvement of ``monitor``.

    An improvement is a change by more than ``min_delta`` in the direction of ``mode``
    ('min', 'max', or 'auto': 'max' for accuracy-like names). With
    ``restore_best_weights=True`` the weights of the best epoch are put back when
    training ends, whether this callback stopped it or the epochs ran out.

    >>> EarlyStopping(monitor="val_accuracy").mode
    'max'
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if not isinstance(min_delta, int | float) or min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = resolve_mode("EarlyStopping", monitor, mode)
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self._restored = False
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: dict | None = None

    def on_train_begin(self, logs=None):
        if not self._restored:
            self._reset()
        self._restored = False

    def on_epoch_end(self, epoch, logs=None):
        value = monitored("EarlyStopping", self.monitor, logs or {})
        if improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.cpu().numpy().copy()
                                     for k, v in self.trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: {self.monitor} has not improved for {self.wait} epochs "
                      f"(best {self.best:.6g} at epoch {self.best_epoch + 1}); stopping")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best = state["wait"], state["best"]
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        bw = state["best_weights"]
        self.best_weights = None if bw is None else {k: np.asarray(v) for k, v in bw.items()}
        self._restored = True
