"""``ModelCheckpoint``: save resumable checkpoints with ``last`` and ``best`` links."""

from __future__ import annotations

import warnings

import numpy as np

from axonic.train.callbacks._monitor import improved, resolve_mode
from axonic.train.callbacks.base import Callback
from axonic.train.checkpoint import CheckpointDir
from axonic.train.run_dir import BEST, LAST


class ModelCheckpoint(Callback):
    """Write a full checkpoint (weights, optimizer, scheduler, RNG, history, ...) into
    ``dirpath`` every ``every_n_epochs`` epochs and/or every ``every_n_steps`` optimizer
    steps, keeping ``dirpath/last`` and ``dirpath/best`` (the best ``monitor`` so far).

    ``save_best_only=True`` writes only when ``monitor`` improves (``last`` then points at
    the best too). On Ctrl-C the state at the last completed step is saved as ``last``.
    ``Trainer.fit(..., resume_from=dirpath)`` continues from ``last``.

    >>> ModelCheckpoint("runs/x", monitor="val_accuracy").mode
    'max'
    """

    runs_last = True  # after EarlyStopping & co., so their updated state is saved

    def __init__(self, dirpath, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = False, every_n_epochs: int | None = 1,
                 every_n_steps: int | None = None, verbose: int = 0):
        for name, v in (("every_n_epochs", every_n_epochs), ("every_n_steps", every_n_steps)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"ModelCheckpoint: {name} must be an int >= 1 or None, "
                                 f"got {v!r}")
        self.dir = CheckpointDir(dirpath)
        self.monitor = monitor
        self.mode = resolve_mode("ModelCheckpoint", monitor, mode)
        self.save_best_only = save_best_only
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        self.verbose = verbose
        self.best: float | None = None
        self._restored = False

    def on_train_begin(self, logs=None):
        if not self._restored:
            self.best = None
        self._restored = False

    def _save(self, names) -> None:
        arrays, state = self.trainer.checkpoint_state()
        bad = [k for k, v in arrays["model"].items()
               if v.dtype.kind in "fc" and not np.isfinite(v).all()]
        if bad:  # a step with non-finite gradients: keep the last good checkpoint instead
            warnings.warn(f"ModelCheckpoint: the weights hold NaN/inf at step {state['step']} "
                          f"({', '.join(bad[:3])}); not saving, the last good checkpoint "
                          f"is kept", RuntimeWarning, stacklevel=2)
            return
        path = self.dir.save(arrays, state, names)
        self.trainer.last_checkpoint = self.dir.path(LAST)
        if self.verbose:
            print(f"ModelCheckpoint: saved {', '.join(names)} -> {path}")

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        if (self.every_n_steps and logs.get("optimizer_step")
                and logs["step"] % self.every_n_steps == 0):
            self._save((LAST,))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        is_best = False
        if self.monitor in logs:
            value = float(logs[self.monitor])
            is_best = improved(value, self.best, self.mode, 0.0)
            if is_best:
                self.best = value
        elif self.save_best_only:
            raise ValueError(f"ModelCheckpoint: monitor {self.monitor!r} is not in the logs; "
                             f"available: {', '.join(sorted(logs))}")
        due = self.every_n_epochs is not None and (epoch + 1) % self.every_n_epochs == 0
        if self.save_best_only:
            if is_best:
                self._save((BEST, LAST))
        elif due or is_best:
            self._save((LAST, BEST) if is_best else (LAST,))

    def on_interrupt(self, logs=None):
        self._save((LAST,))

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]
        self._restored = True
