"""``TensorBoard``: scalar event files that TensorBoard reads (written by hand, see
``axonic.train.tfevents``; no TensorFlow or tensorboard package needed)."""

from __future__ import annotations

from pathlib import Path

from axonic.train.callbacks.base import Callback


class TensorBoard(Callback):
    """Log every epoch's numeric logs (``loss``, ``val_loss``, metrics, ``lr``) under
    ``log_dir``, tagged ``epoch_<name>`` at step = epoch number; with ``update_freq=N``
    also the batch loss every N optimizer steps as ``batch_loss``.
    View with ``tensorboard --logdir <log_dir>``.
    """

    rank_zero_only = True  # prints or writes files

    def __init__(self, log_dir, update_freq: str | int = "epoch"):
        if update_freq != "epoch" and (isinstance(update_freq, bool)
                                       or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError("TensorBoard: update_freq must be 'epoch' or an int >= 1, got "
                             f"{update_freq!r}")
        self.log_dir = Path(log_dir)
        self.update_freq = update_freq
        self.writer = None

    def on_train_begin(self, logs=None):
        from axonic.train.tfevents import EventFileWriter

        self.writer = EventFileWriter(self.log_dir)

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        if (self.update_freq != "epoch" and logs.get("optimizer_step")
                and logs["step"] % self.update_freq == 0):
            self.writer.add_scalars({"batch_loss": logs["batch_loss"]}, logs["step"])

    def on_epoch_end(self, epoch, logs=None):
        scalars = {f"epoch_{k}": float(v) for k, v in (logs or {}).items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        self.writer.add_scalars(scalars, epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
